package presence

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sessionrpc/sessionrpc/session"
)

// entry is the index's value for one uid: where its sessions are, one
// placement per frontend, sorted by frontend id. Each frontend writes only
// its own placement; readers remove those of runs no longer in membership.
type entry struct {
	// UID is the uid, as bytes (base64 in JSON) so that any string, valid
	// UTF-8 or not, survives.
	UID       []byte      `json:"uid"`
	Frontends []placement `json:"frontends"`
}

// placement is one frontend run's sessions of a uid, in bind order, and
// when the run last changed them (its clock, Unix milliseconds).
type placement struct {
	ID          string       `json:"id"`
	Incarnation string       `json:"incarnation"`
	SIDs        []session.ID `json:"sids"`
	At          int64        `json:"at"`
}

// with returns a copy of e in which frontend id's placement is p, or is
// gone when p has no sessions. e is not changed.
func (e entry) with(id string, p placement) entry {
	out := entry{UID: e.UID}
	for _, q := range e.Frontends {
		if q.ID != id {
			out.Frontends = append(out.Frontends, q)
		}
	}
	if len(p.SIDs) > 0 {
		out.Frontends = append(out.Frontends, p)
		slices.SortFunc(out.Frontends, func(a, b placement) int { return strings.Compare(a.ID, b.ID) })
	}
	return out
}

// equal reports whether e and f say the same, whenever their placements
// were written.
func (e entry) equal(f entry) bool {
	return bytes.Equal(e.UID, f.UID) && slices.EqualFunc(e.Frontends, f.Frontends, func(a, b placement) bool {
		return a.ID == b.ID && a.Incarnation == b.Incarnation && slices.Equal(a.SIDs, b.SIDs)
	})
}

func (e entry) encode() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("presence: encode an index entry: %v", err)) // strings and integers only
	}
	return b
}

// decodeEntry decodes an index value; for a value that is not an entry of
// uid (a foreign writer, or a collision of long uids' hashes) it returns an
// error.
func decodeEntry(uid string, data []byte) (entry, error) {
	var e entry
	if err := json.Unmarshal(data, &e); err != nil {
		return entry{}, fmt.Errorf("index entry of uid %q: %w", uid, err)
	}
	if string(e.UID) != uid {
		return entry{}, fmt.Errorf("index entry under the key of uid %q names uid %q", uid, e.UID)
	}
	return e, nil
}

// markerTTL is how long JetStream keeps the marker a removed entry leaves,
// so that the bucket holds the uids that have sessions now, not every uid
// that ever had one.
const markerTTL = 10 * time.Second

// index is the uid index bucket as one process uses it.
type index struct {
	kv        jetstream.KeyValue
	markerTTL time.Duration // 0 when the bucket keeps markers for good
}

// openIndex opens the index bucket, creating it if needed. Without
// JetStream on the NATS server it returns nil and no error, and logs it;
// with JetStream, a bucket it cannot open is an error, so that no frontend
// of a cluster silently runs without the index the others keep.
func openIndex(ctx context.Context, nc *nats.Conn, o *options) (*index, error) {
	if o.noIndex {
		return nil, nil
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, indexError("JetStream", err)
	}
	kv, err := js.KeyValue(ctx, o.bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:         o.bucket,
			Description:    "sessionrpc presence: uid -> frontends and sessions",
			History:        1,
			Storage:        o.storage,
			Replicas:       o.replica,
			LimitMarkerTTL: markerTTL,
		})
		if errors.Is(err, jetstream.ErrBucketExists) { // another process was first
			kv, err = js.KeyValue(ctx, o.bucket)
		}
	}
	switch {
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount),
		errors.Is(err, nats.ErrNoResponders):
		o.log.Warn("presence: NATS has no JetStream: no uid index; cluster-wide calls ask every frontend", "bucket", o.bucket)
		return nil, nil
	case err != nil:
		return nil, indexError("open bucket "+o.bucket, err)
	}
	ix := &index{kv: kv}
	if st, err := kv.Status(ctx); err == nil && st.LimitMarkerTTL() > 0 {
		ix.markerTTL = markerTTL
	}
	return ix, nil
}

// read returns uid's entry and its revision; a uid without one has an empty
// entry and revision 0.
func (ix *index) read(ctx context.Context, uid string) (entry, uint64, error) {
	e, err := ix.kv.Get(ctx, uidKey(uid))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		return entry{UID: []byte(uid)}, 0, nil
	case err != nil:
		return entry{}, 0, indexError("read uid "+uid, err)
	}
	ent, err := decodeEntry(uid, e.Value())
	if err != nil {
		// Not ours to interpret: overwritten by the next write.
		return entry{UID: []byte(uid)}, e.Revision(), nil
	}
	return ent, e.Revision(), nil
}

// write replaces uid's entry at revision rev (0: none) with e, or removes
// it when e has no placement, only if the entry is still at rev. It returns
// the new revision (0 once removed), and errConflict when someone wrote the
// entry since rev.
func (ix *index) write(ctx context.Context, uid string, rev uint64, e entry) (uint64, error) {
	key := uidKey(uid)
	var err error
	switch {
	case len(e.Frontends) == 0 && rev == 0:
		return 0, nil
	case len(e.Frontends) == 0:
		opts := []jetstream.KVDeleteOpt{jetstream.LastRevision(rev)}
		if ix.markerTTL > 0 {
			opts = append(opts, jetstream.PurgeTTL(ix.markerTTL))
		}
		err = ix.kv.Purge(ctx, key, opts...)
		rev = 0
	case rev == 0:
		rev, err = ix.kv.Create(ctx, key, e.encode())
	default:
		rev, err = ix.kv.Update(ctx, key, e.encode(), rev)
	}
	switch {
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return 0, errConflict
	case err != nil:
		return 0, indexError("write uid "+uid, err)
	}
	return rev, nil
}

// errConflict is a write that lost to another writer of the same entry.
var errConflict = errors.New("presence: index entry changed since it was read")

// indexWriter keeps one frontend's placements in the index: a change of a
// uid's sessions marks the uid, and a worker writes what the frontend has of
// it then. Writes are of state, not of events, so that any number of
// changes to a uid before its worker gets to it make one write, and a write
// that fails is simply tried again. Each uid belongs to one worker (by
// hash), so that its writes never race each other.
type indexWriter struct {
	ix    *index
	store *session.Store
	id    string
	inc   string
	log   *slog.Logger

	mu      sync.Mutex
	marks   uint64 // changes marked so far
	workers []*worker
	changed chan struct{} // closed and replaced when a mark is written
	ctx     context.Context
	stop    context.CancelFunc
	done    chan struct{}
}

// worker is one goroutine of an indexWriter and the uids it owns.
type worker struct {
	dirty    map[string]uint64 // uid → the first mark not yet written; under the writer's mu
	inflight string            // the uid being written, if any; under mu
	inMark   uint64            // its first mark
	// forget names uids whose cached entry may be wrong (a reader removed
	// this run's placement), and forgetAll says all may be; under mu, and
	// applied to cache by the worker itself.
	forget    map[string]bool
	forgetAll bool
	wake      chan struct{}
	// cache holds the entry and revision this worker last wrote or read for
	// each uid it owns that has sessions here; the worker's own.
	cache map[string]cached
}

type cached struct {
	rev uint64
	e   entry
}

func newIndexWriter(ix *index, store *session.Store, workers int, log *slog.Logger) *indexWriter {
	ctx, stop := context.WithCancel(context.Background())
	w := &indexWriter{ix: ix, store: store, id: store.FrontendID(), inc: store.Incarnation(), log: log,
		changed: make(chan struct{}), ctx: ctx, stop: stop, done: make(chan struct{})}
	for range workers {
		w.workers = append(w.workers, &worker{dirty: make(map[string]uint64), wake: make(chan struct{}, 1),
			cache: make(map[string]cached), forget: make(map[string]bool)})
	}
	go w.run()
	return w
}

func (w *indexWriter) run() {
	defer close(w.done)
	finished := make(chan struct{})
	for _, wk := range w.workers {
		go func() {
			defer func() { finished <- struct{}{} }()
			w.loop(wk)
		}()
	}
	for range w.workers {
		<-finished
	}
}

// owner returns the worker that owns uid.
func (w *indexWriter) owner(uid string) *worker {
	return w.workers[Partition(uid)%len(w.workers)]
}

// mark records that uid's sessions here changed.
func (w *indexWriter) mark(uid string) { w.markFor(uid, false) }

// markFor marks uid; with forget, its cached entry is not trusted either:
// the worker reads the entry again before it writes.
func (w *indexWriter) markFor(uid string, forget bool) {
	wk := w.owner(uid)
	w.mu.Lock()
	w.marks++
	if _, ok := wk.dirty[uid]; !ok {
		wk.dirty[uid] = w.marks
	}
	if forget {
		wk.forget[uid] = true
	}
	w.mu.Unlock()
	select {
	case wk.wake <- struct{}{}:
	default:
	}
}

// resync writes every uid this frontend has sessions of again, from fresh
// reads: after the connection to NATS came back, when readers may have
// taken this run for dead and removed its placements.
func (w *indexWriter) resync() {
	w.mu.Lock()
	for _, wk := range w.workers {
		wk.forgetAll = true
	}
	w.mu.Unlock()
	w.store.RangeBound(func(s *session.Session) bool {
		if uid := s.UID(); uid != "" {
			w.mark(uid)
		}
		return true
	})
}

// retryBackoff bounds how long a worker waits after a failed write before it
// writes again: from 50 ms, doubling.
const (
	minRetry = 50 * time.Millisecond
	maxRetry = 5 * time.Second
)

// loop is one worker: it writes the uids marked, one at a time.
func (w *indexWriter) loop(wk *worker) {
	backoff := time.Duration(0)
	for {
		w.mu.Lock()
		uid, mark, ok := "", uint64(0), false
		for u, m := range wk.dirty {
			uid, mark, ok = u, m, true
			break
		}
		if ok {
			delete(wk.dirty, uid)
			wk.inflight, wk.inMark = uid, mark
		}
		forgetAll, forget := wk.forgetAll, ok && wk.forget[uid]
		wk.forgetAll = false
		if forgetAll {
			clear(wk.forget)
		} else if forget {
			delete(wk.forget, uid)
		}
		w.mu.Unlock()
		if forgetAll {
			clear(wk.cache)
		} else if forget {
			delete(wk.cache, uid)
		}
		if !ok {
			select {
			case <-wk.wake:
				continue
			case <-w.ctx.Done():
				return
			}
		}
		err := w.sync(wk, uid)
		w.mu.Lock()
		wk.inflight = ""
		if err != nil {
			if m, again := wk.dirty[uid]; !again || m > mark {
				wk.dirty[uid] = mark
			}
		}
		changed := w.changed
		w.changed = make(chan struct{})
		w.mu.Unlock()
		close(changed)
		if err == nil {
			backoff = 0
			continue
		}
		if w.ctx.Err() != nil {
			return
		}
		backoff = min(max(2*backoff, minRetry), maxRetry)
		w.log.Warn("presence: index write failed; trying again", "frontend", w.id, "uid", uid, "in", backoff, "err", err)
		select {
		case <-time.After(backoff):
		case <-w.ctx.Done():
			return
		}
	}
}

// writeTimeout bounds one index round trip of a worker.
const writeTimeout = 10 * time.Second

// maxConflicts is how many times in a row a worker rereads an entry other
// writers keep changing before it lets the uid wait its turn again.
const maxConflicts = 16

// sync writes what this frontend has of uid now into uid's entry.
func (w *indexWriter) sync(wk *worker, uid string) error {
	ctx, cancel := context.WithTimeout(w.ctx, writeTimeout)
	defer cancel()
	p := placement{ID: w.id, Incarnation: w.inc, At: time.Now().UnixMilli()}
	for _, info := range w.store.ExportSharedByUID(uid) {
		p.SIDs = append(p.SIDs, info.ID)
	}
	for range maxConflicts {
		c, ok := wk.cache[uid]
		if !ok {
			e, rev, err := w.ix.read(ctx, uid)
			if err != nil {
				return err
			}
			c = cached{rev: rev, e: e}
		}
		next := c.e.with(w.id, p)
		if ok && next.equal(c.e) {
			return nil
		}
		if !ok && next.equal(c.e) {
			if len(p.SIDs) > 0 {
				wk.cache[uid] = c
			}
			return nil
		}
		rev, err := w.ix.write(ctx, uid, c.rev, next)
		switch {
		case errors.Is(err, errConflict):
			delete(wk.cache, uid)
			continue
		case err != nil:
			delete(wk.cache, uid)
			return err
		}
		if len(p.SIDs) > 0 {
			wk.cache[uid] = cached{rev: rev, e: next}
		} else {
			delete(wk.cache, uid)
		}
		return nil
	}
	return fmt.Errorf("uid %q: the entry changed under %d writes in a row", uid, maxConflicts)
}

// wait returns once every change marked before it was called is in the
// index, or when ctx ends.
func (w *indexWriter) wait(ctx context.Context) error {
	w.mu.Lock()
	target := w.marks
	w.mu.Unlock()
	for {
		w.mu.Lock()
		pending := false
		for _, wk := range w.workers {
			if wk.inflight != "" && wk.inMark <= target {
				pending = true
				break
			}
			for _, m := range wk.dirty {
				if m <= target {
					pending = true
					break
				}
			}
			if pending {
				break
			}
		}
		changed := w.changed
		w.mu.Unlock()
		if !pending {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-w.done:
			return errClosed
		}
	}
}

// close stops the workers and returns once they have; what they had not
// written stays unwritten.
func (w *indexWriter) close() {
	w.stop()
	<-w.done
}
