package presence

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
)

// Frontend is a frontend server's part in presence: it observes the
// server's session store, keeps its users in the uid index, publishes the
// lifecycle of its sessions as events, and implements [PresenceRemote], the
// routes a [Directory]'s cluster-wide calls reach it by:
//
//	inc := cluster.NewIncarnation()
//	store := session.NewStore("connector-1", session.WithIncarnation(inc))
//	fe, err := presence.NewFrontend(ctx, nc, store)
//	defer fe.Close()
//	presence.RegisterPresenceRemoteServer(srv, fe)                // beside sys.sessionRemote
//	reg, err := cluster.Join(ctx, nc, info, cluster.WithIncarnation(inc))
//
// The store's incarnation must be the one the server joins the cluster with:
// readers of the index keep only the entries of runs that membership lists.
// A Frontend is safe for concurrent use.
type Frontend struct {
	store  *session.Store
	nc     *nats.Conn
	id     string
	inc    string
	o      options
	ix     *indexWriter // nil without the index
	events string       // "<prefix>."

	mu     sync.Mutex
	seq    [Partitions]uint64 // the last event number of each partition
	closed bool

	cleaned *nats.Subscription // readers' notices that they removed a placement of this id
	status  chan nats.Status
	done    chan struct{}
}

var _ PresenceRemote = (*Frontend)(nil)

// NewFrontend starts presence for the frontend whose sessions store holds,
// publishing on nc: it observes the store from now on ([session.Store.Observe])
// and writes the users it already has to the index. The store must have an
// incarnation ([session.WithIncarnation]), and its frontend id must be a
// NATS subject token, as cluster ids are; otherwise NewFrontend fails with
// InvalidArgument. Without JetStream on the NATS server it runs without the
// index (and logs so); with JetStream, an index bucket it cannot open or
// create within ctx is an error. Options: [WithSubjectPrefix], [WithBucket],
// [WithLogger], [WithoutIndex], [WithIndexStorage], [WithIndexReplicas],
// [WithIndexWorkers].
func NewFrontend(ctx context.Context, nc *nats.Conn, store *session.Store, opts ...FrontendOption) (*Frontend, error) {
	o := newOptions()
	for _, opt := range opts {
		opt.applyFrontend(&o)
	}
	if err := o.check(); err != nil {
		return nil, runtime.Errorf(runtime.InvalidArgument, "presence: %v", err)
	}
	if !validToken(store.FrontendID()) {
		return nil, runtime.Errorf(runtime.InvalidArgument, "presence: frontend id %q is not a NATS subject token", store.FrontendID())
	}
	if store.Incarnation() == "" {
		return nil, runtime.Errorf(runtime.InvalidArgument,
			"presence: the store of frontend %s has no incarnation (session.WithIncarnation): readers could not tell its runs apart", store.FrontendID())
	}
	ix, err := openIndex(ctx, nc, &o)
	if err != nil {
		return nil, err
	}
	f := &Frontend{store: store, nc: nc, id: store.FrontendID(), inc: store.Incarnation(), o: o,
		events: o.prefix + ".", done: make(chan struct{})}
	if ix != nil {
		f.ix = newIndexWriter(ix, store, o.workers, o.log)
		if f.cleaned, err = nc.Subscribe(cleanedSubject(o.prefix, f.id), f.onCleaned); err != nil {
			f.ix.close()
			return nil, indexError("subscribe to cleanups", err)
		}
		f.status = nc.StatusChanged(nats.CONNECTED)
		go f.watchConnection()
	} else {
		close(f.done)
	}
	store.Observe(observer{f})
	if f.ix != nil {
		f.ix.resync()
	}
	return f, nil
}

// watchConnection writes the index afresh whenever the connection to NATS
// comes back: while it was away, readers may have taken this run for dead
// and removed it from the index.
func (f *Frontend) watchConnection() {
	defer close(f.done)
	for range f.status {
		f.ix.resync()
	}
}

// onCleaned handles a reader's notice that it removed this frontend's
// placement of a uid as a dead run's: if it was this run's, the run is not
// dead, and writes it again.
func (f *Frontend) onCleaned(m *nats.Msg) {
	var n cleanedNotice
	if json.Unmarshal(m.Data, &n) != nil || n.Incarnation != f.inc || n.UID == "" {
		return
	}
	f.ix.markFor(n.UID, true)
}

// cleanedNotice is what a reader publishes when it removes a placement.
type cleanedNotice struct {
	Incarnation string `json:"incarnation"`
	UID         string `json:"uid"`
}

func cleanedSubject(prefix, id string) string { return prefix + ".cleaned." + id }

// Sync returns once every change of the store's sessions that the store
// told the frontend of before Sync was called is in the index and its event
// is with NATS, or when ctx ends (its error): for tests, and for a caller
// that must know a bind can be located before it goes on. The store tells
// of a change before the method that made it returns, unless another
// goroutine is telling of an earlier change of the same session at that
// moment, which then tells of this one too, right after (see
// [session.Observer]). Without the index, Sync only flushes the events.
func (f *Frontend) Sync(ctx context.Context) error {
	if f.ix != nil {
		if err := f.ix.wait(ctx); err != nil {
			return err
		}
	}
	return flush(ctx, f.nc)
}

// HasIndex reports whether the frontend keeps the uid index.
func (f *Frontend) HasIndex() bool { return f.ix != nil }

// Close stops presence: no more events are published, and index writes not
// done yet are dropped (readers drop this run's entries once membership
// does). The store keeps the observer, which does nothing from then on.
func (f *Frontend) Close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	f.mu.Unlock()
	if f.ix != nil {
		f.cleaned.Unsubscribe()
		f.nc.RemoveStatusListener(f.status)
		f.ix.close()
	}
	<-f.done
}

// errClosed is what Sync returns once the frontend is closed.
var errClosed = runtime.NewError(runtime.Unavailable, "presence: frontend closed")

// publish numbers an event in its partition and publishes it. Events of one
// session arrive here in order (the store's observers are told so), and are
// numbered and handed to NATS under one lock, so that each partition's
// numbers are in the order NATS delivers them.
func (f *Frontend) publish(typ EventType, s *session.Session, uid, reason string, kicked bool) {
	p := Partition(uid)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.seq[p]++
	data, err := json.Marshal(wireEvent{Type: typ.String(), Frontend: f.id, Incarnation: f.inc, Seq: f.seq[p],
		Partition: p, SID: s.ID(), UID: uid, Reason: reason, Kicked: kicked})
	if err == nil {
		err = f.nc.Publish(f.events+strconv.Itoa(p)+"."+f.id, data)
	}
	if err != nil {
		// Lost: its number is not reused, so subscribers see the gap.
		f.o.log.Debug("presence: event not published", "frontend", f.id, "seq", f.seq[p], "err", err)
	}
}

func (f *Frontend) changed(uid string) {
	if f.ix != nil && uid != "" {
		f.mu.Lock()
		closed := f.closed
		f.mu.Unlock()
		if !closed {
			f.ix.mark(uid)
		}
	}
}

// observer is the store's [session.Observer] of a Frontend.
type observer struct{ f *Frontend }

func (observer) SessionCreated(*session.Session)      {}
func (observer) SettingsPushed(*session.Session, int) {}

func (o observer) SessionBound(s *session.Session, uid string) {
	o.f.publish(Bound, s, uid, "", false)
	o.f.changed(uid)
}

func (o observer) SessionUnbound(s *session.Session, uid string) {
	o.f.publish(Unbound, s, uid, "", false)
	o.f.changed(uid)
}

func (o observer) SessionClosed(s *session.Session, reason string, kicked bool) {
	uid := s.UID() // a closed session keeps the uid it had
	o.f.publish(Closed, s, uid, reason, kicked)
	o.f.changed(uid)
}

// PushMessage implements [PresenceRemote.PushMessage].
func (f *Frontend) PushMessage(ctx context.Context, route string, msg []byte, uids []string) ([]int, error) {
	counts := make([]int, len(uids))
	for i, uid := range uids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, s := range f.store.GetByUID(uid) {
			if s.Send(route, msg) == nil {
				counts[i]++
			}
		}
	}
	return counts, nil
}

// KickByUid implements [PresenceRemote.KickByUid].
func (f *Frontend) KickByUid(ctx context.Context, uid string, reason string) (int, error) {
	if uid == "" {
		return 0, fmt.Errorf("%w: empty", ErrInvalidUID)
	}
	n := 0
	for _, s := range f.store.GetByUID(uid) {
		if !s.Closed() {
			s.Kick(reason)
			n++
		}
	}
	return n, nil
}
