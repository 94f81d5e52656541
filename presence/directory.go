package presence

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// Directory is a backend's view of where users are, and its calls on a
// user wherever they are: [Directory.Locate] reads the uid index,
// [Directory.GetByUIDEverywhere], [Directory.KickByUIDEverywhere] and
// [Directory.PushByUIDs] reach every frontend that holds a user's sessions.
//
//	view, err := cluster.NewView(ctx, nc)
//	client := runtime.NewClient(natsrpc.NewTransport(nc))  // any transport: calls by frontend id
//	dir, err := presence.NewDirectory(ctx, nc, view, client)
//	defer dir.Close()
//	locs, err := dir.Locate(ctx, "alice")                  // one read
//	res := dir.KickByUIDEverywhere(ctx, "alice", "banned")  // each frontend's outcome
//
// A Directory is safe for concurrent use; make one per process.
type Directory struct {
	nc       *nats.Conn
	view     *cluster.View
	sessions *sessionremote.BackendSessionService
	remote   *PresenceRemoteClient
	ix       *index // nil without the index
	o        options

	mu       sync.Mutex
	cleaning map[string]bool      // uids being cleaned
	left     map[string]time.Time // frontend runs seen leaving the view, "id/incarnation" → when
	closed   bool
	stop     context.CancelFunc
	wg       sync.WaitGroup
	sem      chan struct{} // bounds the cleanups running at once
}

// leftMemory is how long a directory remembers that a frontend run left
// the view, as evidence that its index entries may be removed.
const leftMemory = 10 * time.Minute

// cleanGrace is how old a placement of a run the view does not list must be
// before a reader removes it without having seen the run leave: older than
// any join takes to reach the views, so that a frontend that wrote before
// its membership spread is not removed.
const cleanGrace = time.Minute

// maxCleanups bounds the index cleanups a directory runs at once; beyond,
// a stale entry is left for the next reader.
const maxCleanups = 4

// NewDirectory returns the directory of the cluster view shows, calling
// frontends by id through inv (a [runtime.Client] over the cluster's
// transport) and reading the uid index on nc. view must include the
// frontends: the index keeps only entries of runs it lists. Without
// JetStream on the NATS server the directory has no index: Locate fails
// with [ErrNoIndex], and the cluster-wide calls ask every frontend; with
// JetStream, an index bucket it cannot open or create within ctx is an
// error. Options: [WithBucket], [WithSubjectPrefix], [WithLogger],
// [WithoutIndex], [WithIndexStorage], [WithIndexReplicas].
func NewDirectory(ctx context.Context, nc *nats.Conn, view *cluster.View, inv runtime.Invoker, opts ...DirectoryOption) (*Directory, error) {
	o := newOptions()
	for _, opt := range opts {
		opt.applyDirectory(&o)
	}
	if err := o.check(); err != nil {
		return nil, runtime.Errorf(runtime.InvalidArgument, "presence: %v", err)
	}
	ix, err := openIndex(ctx, nc, &o)
	if err != nil {
		return nil, err
	}
	d := &Directory{nc: nc, view: view, sessions: sessionremote.NewBackendSessionService(inv),
		remote: NewPresenceRemoteClient(inv), ix: ix, o: o, cleaning: make(map[string]bool),
		left: make(map[string]time.Time), sem: make(chan struct{}, maxCleanups)}
	if ix != nil {
		wctx, stop := context.WithCancel(context.Background())
		d.stop = stop
		events := view.Watch(wctx, cluster.Frontends())
		d.wg.Go(func() { d.watchLeaves(events) })
	}
	return d, nil
}

// watchLeaves remembers the frontend runs that leave the view.
func (d *Directory) watchLeaves(events <-chan cluster.Event) {
	for e := range events {
		if e.Type != cluster.Left {
			continue
		}
		now := time.Now()
		d.mu.Lock()
		for k, at := range d.left {
			if now.Sub(at) > leftMemory {
				delete(d.left, k)
			}
		}
		d.left[e.Member.ID+"/"+e.Member.Incarnation] = now
		d.mu.Unlock()
	}
}

// gone reports whether p's run is known to be gone, not merely absent from
// the view: the view replaced it with another run of its id, this
// directory saw it leave, or it is older than a join takes to spread.
func (d *Directory) gone(p placement) bool {
	if m, ok := d.view.Member(p.ID); ok {
		return m.Incarnation != p.Incarnation
	}
	d.mu.Lock()
	_, left := d.left[p.ID+"/"+p.Incarnation]
	d.mu.Unlock()
	return left || time.Since(time.UnixMilli(p.At)) > cleanGrace
}

// HasIndex reports whether the directory reads the uid index.
func (d *Directory) HasIndex() bool { return d.ix != nil }

// Close stops the directory's index cleanups and returns once they have.
func (d *Directory) Close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	if d.stop != nil {
		d.stop()
	}
	d.wg.Wait()
}

// Location is where some of a user's sessions are: one run of a frontend,
// and the ids of the user's sessions there, in bind order.
type Location struct {
	FrontendID  string
	Incarnation string
	SIDs        []session.ID
}

// Refs returns references to the sessions of l, to reach them with
// [sessionremote.BackendSessionService.GetRef].
func (l Location) Refs() []session.Ref {
	refs := make([]session.Ref, len(l.SIDs))
	for i, sid := range l.SIDs {
		refs[i] = session.Ref{FrontendID: l.FrontendID, Incarnation: l.Incarnation, ID: sid}
	}
	return refs
}

// Locate returns where uid's sessions are, by frontend, sorted by frontend
// id; none when uid has no session anywhere. It is one read of the uid
// index, whatever the number of frontends, and gives only runs of frontends
// that the view lists: an entry left by a frontend that died is dropped, and
// removed from the index in the background once the run is known to be
// gone (the view replaced it with a new run of its id, the directory saw it
// leave the view, or the entry is older than a join takes to spread, a
// minute), so that a frontend whose join has not reached this view yet
// keeps its entries.
//
// The index lags the frontends' stores: a bind, unbind or close is in the
// index a moment after it is acknowledged (the package documentation says
// how long). Without the index, Locate fails with [ErrNoIndex]: asking
// every frontend is [Directory.GetByUIDEverywhere]'s job, whose cost the
// caller then sees by name. A failed read is [ErrIndexUnavailable].
func (d *Directory) Locate(ctx context.Context, uid string) ([]Location, error) {
	if d.ix == nil {
		return nil, ErrNoIndex
	}
	if uid == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidUID)
	}
	e, _, err := d.ix.read(ctx, uid)
	if err != nil {
		return nil, err
	}
	var out []Location
	dead := false
	for _, p := range e.Frontends {
		if _, ok := d.view.Lookup(p.ID, p.Incarnation); !ok {
			dead = dead || d.gone(p)
			continue
		}
		out = append(out, Location{FrontendID: p.ID, Incarnation: p.Incarnation, SIDs: slices.Clone(p.SIDs)})
	}
	if dead {
		d.cleanLater(uid)
	}
	return out, nil
}

// cleanLater removes the placements of runs the view no longer lists from
// uid's entry, in the background, unless that is under way already or too
// many cleanups are.
func (d *Directory) cleanLater(uid string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.cleaning[uid] {
		return
	}
	select {
	case d.sem <- struct{}{}:
	default:
		return // the next reader cleans it
	}
	d.cleaning[uid] = true
	d.wg.Go(func() {
		defer func() {
			d.mu.Lock()
			delete(d.cleaning, uid)
			d.mu.Unlock()
			<-d.sem
		}()
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		defer cancel()
		if err := d.clean(ctx, uid); err != nil {
			d.o.log.Debug("presence: index cleanup failed; the next reader tries again", "uid", uid, "err", err)
		}
	})
}

// clean removes the placements of dead runs from uid's entry, once, and
// tells each run it removed, in case it was not dead after all.
func (d *Directory) clean(ctx context.Context, uid string) error {
	e, rev, err := d.ix.read(ctx, uid)
	if err != nil || rev == 0 {
		return err
	}
	kept := entry{UID: e.UID}
	var removed []placement
	for _, p := range e.Frontends {
		if _, ok := d.view.Lookup(p.ID, p.Incarnation); ok || !d.gone(p) {
			kept.Frontends = append(kept.Frontends, p)
		} else {
			removed = append(removed, p)
		}
	}
	if len(removed) == 0 {
		return nil
	}
	if _, err := d.ix.write(ctx, uid, rev, kept); err != nil {
		return err // a conflict: someone wrote it since, and the next reader looks again
	}
	for _, p := range removed {
		data, _ := json.Marshal(cleanedNotice{Incarnation: p.Incarnation, UID: uid})
		_ = d.nc.Publish(cleanedSubject(d.o.prefix, p.ID), data)
	}
	return nil
}

// Status is what one frontend, or the cluster for one uid, made of a
// cluster-wide call.
type Status int

const (
	// Done: it had sessions of the uid and acted on them.
	Done Status = iota + 1
	// None: it had no session of the uid.
	None
	// Unavailable: it did not answer, or answered an error; Err says
	// which. What it did, if anything, is unknown.
	Unavailable
)

// String returns "done", "none" or "unavailable".
func (s Status) String() string {
	switch s {
	case Done:
		return "done"
	case None:
		return "none"
	case Unavailable:
		return "unavailable"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Outcome is one frontend's part in a cluster-wide call.
type Outcome struct {
	FrontendID  string
	Incarnation string
	Status      Status
	// Sessions are the uid's sessions on the frontend, for
	// GetByUIDEverywhere.
	Sessions []*sessionremote.BackendSession
	// Kicked is how many sessions the frontend closed, for
	// KickByUIDEverywhere.
	Kicked int
	// Err is why the frontend is Unavailable.
	Err error
}

// Result is what a cluster-wide call on one uid did, frontend by frontend.
type Result struct {
	UID string
	// Broadcast is true when every frontend in membership was asked: there
	// is no index, or its entry named no live run, or every run it named
	// had no session of the uid any more (the index lagged).
	Broadcast bool
	// Frontends holds each frontend's outcome, sorted by frontend id.
	Frontends []Outcome

	err error // a call refused before any frontend was asked
}

// Err returns nil when every frontend asked answered; otherwise an error
// matching [ErrIncomplete] that names those that did not, wrapping the
// first of their errors. The outcomes of the others still stand: a partial
// failure is reported, never hidden.
func (r Result) Err() error {
	if r.err != nil {
		return r.err
	}
	var failed []string
	var first error
	for _, o := range r.Frontends {
		if o.Status == Unavailable {
			failed = append(failed, o.FrontendID)
			if first == nil {
				first = o.Err
			}
		}
	}
	if failed == nil {
		return nil
	}
	return fmt.Errorf("%w: uid %q: %d of %d frontends (%s): %w", ErrIncomplete, r.UID, len(failed), len(r.Frontends),
		strings.Join(failed, ", "), first)
}

// Sessions returns the sessions every frontend returned, in frontend order.
func (r Result) Sessions() []*sessionremote.BackendSession {
	var out []*sessionremote.BackendSession
	for _, o := range r.Frontends {
		out = append(out, o.Sessions...)
	}
	return out
}

// Kicked returns how many sessions the frontends closed, all together.
func (r Result) Kicked() int {
	n := 0
	for _, o := range r.Frontends {
		n += o.Kicked
	}
	return n
}

// maxFanOut bounds the calls a cluster-wide call has in flight at once.
const maxFanOut = 64

// target is a frontend a cluster-wide call asks.
type target struct{ id, incarnation string }

// targets returns the frontends to ask about uid: those the index names
// live runs of, else every frontend in membership (broadcast).
func (d *Directory) targets(ctx context.Context, uid string) ([]target, bool) {
	if d.ix != nil {
		locs, err := d.Locate(ctx, uid)
		if err != nil {
			d.o.log.Debug("presence: index read failed; asking every frontend", "uid", uid, "err", err)
		}
		if len(locs) > 0 {
			out := make([]target, len(locs))
			for i, l := range locs {
				out[i] = target{l.FrontendID, l.Incarnation}
			}
			return out, false
		}
	}
	return d.everyFrontend(), true
}

func (d *Directory) everyFrontend() []target {
	var out []target
	for _, m := range d.view.Members(cluster.Frontends()) {
		out = append(out, target{m.ID, m.Incarnation})
	}
	return out
}

// fanOut runs call for every target, at most maxFanOut at once, and returns
// the outcomes in target order.
func fanOut(ctx context.Context, targets []target, call func(context.Context, target) Outcome) []Outcome {
	out := make([]Outcome, len(targets))
	sem := make(chan struct{}, maxFanOut)
	var wg sync.WaitGroup
	for i, t := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			o := call(ctx, t)
			o.FrontendID, o.Incarnation = t.id, t.incarnation
			out[i] = o
		})
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b Outcome) int { return strings.Compare(a.FrontendID, b.FrontendID) })
	return out
}

// onUID runs a cluster-wide call on uid: through the index, and again on
// every frontend when the runs the index named all had nothing of uid.
func (d *Directory) onUID(ctx context.Context, uid string, call func(context.Context, target) Outcome) Result {
	if uid == "" {
		return Result{UID: uid, err: fmt.Errorf("%w: empty", ErrInvalidUID)}
	}
	targets, broadcast := d.targets(ctx, uid)
	r := Result{UID: uid, Broadcast: broadcast, Frontends: fanOut(ctx, targets, call)}
	if !broadcast && !slices.ContainsFunc(r.Frontends, func(o Outcome) bool { return o.Status != None }) {
		// The index named runs that no longer have the uid: it lags a
		// move of the user, whose new frontend it may not name yet.
		r = Result{UID: uid, Broadcast: true, Frontends: fanOut(ctx, d.everyFrontend(), call)}
	}
	return r
}

// GetByUIDEverywhere returns uid's sessions on every frontend that has some:
// getBackendSessionsByUid on the frontends the index names (one read, then
// one call per frontend that holds the user), or on every frontend in
// membership when there is no index or its entry names no live run. The
// result gives each frontend asked its outcome — Done with its sessions,
// None, or Unavailable with the error — all within ctx's deadline; the
// sessions are [Result.Sessions].
func (d *Directory) GetByUIDEverywhere(ctx context.Context, uid string) Result {
	return d.onUID(ctx, uid, func(ctx context.Context, t target) Outcome {
		list, err := d.sessions.GetByUID(ctx, t.id, uid)
		switch {
		case err != nil:
			return Outcome{Status: Unavailable, Err: err}
		case len(list) == 0:
			return Outcome{Status: None}
		}
		return Outcome{Status: Done, Sessions: list}
	})
}

// KickByUIDEverywhere kicks uid's sessions on every frontend that has
// some, with reason, as [Directory.GetByUIDEverywhere] finds them: Done
// with how many each closed, None, or Unavailable with the error. Kicks of
// sessions bound within the index's lag of the call may be missed when the
// index names other live runs of the uid; a ban should also keep the user
// from binding again.
func (d *Directory) KickByUIDEverywhere(ctx context.Context, uid, reason string) Result {
	return d.onUID(ctx, uid, func(ctx context.Context, t target) Outcome {
		n, err := d.remote.KickByUid(ctx, t.id, uid, reason)
		switch {
		case err != nil:
			return Outcome{Status: Unavailable, Err: err}
		case n == 0:
			return Outcome{Status: None}
		}
		return Outcome{Status: Done, Kicked: n}
	})
}

// Delivery is what [Directory.PushByUIDs] did for one uid.
type Delivery struct {
	UID    string
	Status Status // Done, None (no session took it anywhere), or Unavailable
	// Sessions is how many of the uid's sessions took the message.
	Sessions int
	// Err is why the uid is Unavailable: a frontend that may hold some of
	// its sessions did not answer (Sessions counts what others delivered).
	// For an empty uid it is [ErrInvalidUID], with Status None.
	Err error
}

// PushByUIDs pushes msg, encoded in the client protocol, on route to every
// session of each of uids wherever it is: pomelo's
// channelService.pushMessageByUids. With the index it locates each uid (one
// read each, concurrently) and sends each frontend that holds some of them
// one sys.presence.pushMessage with its uids; a uid the index has no live
// run of is None, sent nowhere. Without the index, every frontend gets
// every uid. Each session's connection takes the message with
// [session.Conn]'s Send. The result has one Delivery per uid, in order.
//
// Delivery is at most once: a uid that bound within the index's lag may be
// missed, and a frontend that fails mid-call may have delivered to some of
// its sessions.
func (d *Directory) PushByUIDs(ctx context.Context, route string, msg []byte, uids []string) []Delivery {
	out := make([]Delivery, len(uids))
	byFrontend := make(map[string][]int) // frontend → indexes into uids
	var broadcast []int
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxFanOut)
	for i, uid := range uids {
		out[i] = Delivery{UID: uid, Status: None}
		if uid == "" {
			out[i].Err = fmt.Errorf("%w: empty", ErrInvalidUID)
			continue
		}
		if d.ix == nil {
			broadcast = append(broadcast, i)
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			locs, err := d.Locate(ctx, uid)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				broadcast = append(broadcast, i)
				return
			}
			for _, l := range locs {
				byFrontend[l.FrontendID] = append(byFrontend[l.FrontendID], i)
			}
		})
	}
	wg.Wait()
	if len(broadcast) > 0 {
		slices.Sort(broadcast)
		for _, t := range d.everyFrontend() {
			byFrontend[t.id] = append(byFrontend[t.id], broadcast...)
		}
	}
	var targets []target
	for id := range byFrontend {
		targets = append(targets, target{id: id})
	}
	fanOut(ctx, targets, func(ctx context.Context, t target) Outcome {
		idx := byFrontend[t.id]
		names := make([]string, len(idx))
		for k, i := range idx {
			names[k] = uids[i]
		}
		counts, err := d.remote.PushMessage(ctx, t.id, route, msg, names)
		if err == nil && len(counts) != len(idx) {
			err = runtime.Errorf(runtime.Internal, "presence: frontend %s answered %d counts for %d uids", t.id, len(counts), len(idx))
		}
		mu.Lock()
		defer mu.Unlock()
		for k, i := range idx {
			if err != nil {
				if out[i].Err == nil {
					out[i].Err = fmt.Errorf("%w: frontend %s: %w", ErrIncomplete, t.id, err)
				}
				out[i].Status = Unavailable
				continue
			}
			out[i].Sessions += counts[k]
		}
		return Outcome{}
	})
	for i := range out {
		if out[i].Status != Unavailable && out[i].Sessions > 0 {
			out[i].Status = Done
		}
	}
	return out
}
