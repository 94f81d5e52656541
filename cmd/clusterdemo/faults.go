package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	membership "github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// A fault is a frontend the run kills mid-way (-kill), and maybe starts
// again at once under the same id (-restart). The frontends at the end of
// the list are the doomed ones; the workers of the main workload use the
// others, whose checks must all hold whatever happens to these.
//
// Each backend drives every doomed frontend with a fault worker of its own:
// before the kill its calls must succeed and match its model; a call in
// flight when the frontend dies has an unknown outcome (the frontend may
// have applied it before dying, or not), so any answer is accepted and the
// model is not trusted for that session any more; every call started after
// the kill must end, before its deadline, with Unavailable, or, once a
// restarted frontend answers, with ErrSessionNotFound for references from
// the old run, and never succeed: no old reference may reach a session of
// the new run. The new run's sessions get models of their own, checked as
// strictly as before the kill.
type fault struct {
	fe      int
	id      string
	restart bool
	oldInc  string
	newInc  string

	dyingAt     atomic.Int64 // unix nanoseconds the kill began; 0 before
	killedAt    atomic.Int64 // unix nanoseconds the kill was done; 0 before
	restartedAt time.Time    // when the new run joined; zero without one

	mu   sync.Mutex
	left map[string]leave // by backend id: when its view dropped the old run
}

// leave is how a backend saw a frontend run leave membership.
type leave struct {
	at     time.Time
	reason membership.LeaveReason
}

// killedBefore reports whether the frontend's kill was done before t.
func (f *fault) killedBefore(t time.Time) bool {
	k := f.killedAt.Load()
	return k != 0 && k <= t.UnixNano()
}

// dyingBefore reports whether the frontend's kill had begun before t: a
// call that ends after that may have met a server half torn down.
func (f *fault) dyingBefore(t time.Time) bool {
	k := f.dyingAt.Load()
	return k != 0 && k <= t.UnixNano()
}

// faultsAt returns the faults cfg asks for: the last cfg.Kill frontends are
// killed, and the cfg.Restart before them are killed and restarted.
func faultsAt(cfg Config, c *cluster) []*fault {
	var fs []*fault
	n := cfg.Frontends
	for i := n - cfg.Kill - cfg.Restart; i < n; i++ {
		fs = append(fs, &fault{fe: i, id: c.frontends[i].id, oldInc: c.frontends[i].incarnation,
			restart: i < n-cfg.Kill, left: make(map[string]leave)})
	}
	return fs
}

// watchLeaves records, for every backend, when its view drops each doomed
// frontend's first run. It returns when ctx ends.
func watchLeaves(ctx context.Context, c *cluster, faults []*fault, wg *sync.WaitGroup) {
	for _, b := range c.backends {
		events := b.view.Watch(ctx, membership.OfType(frontendType))
		wg.Go(func() {
			for ev := range events {
				if ev.Type != membership.Left {
					continue
				}
				for _, f := range faults {
					if ev.Member.ID == f.id && ev.Member.Incarnation == f.oldInc {
						f.mu.Lock()
						if _, seen := f.left[b.id]; !seen {
							f.left[b.id] = leave{time.Now(), ev.Reason}
						}
						f.mu.Unlock()
					}
				}
			}
		})
	}
}

// injectFaults kills (and restarts) the doomed frontends once a third of
// the run has passed, unless ctx ends first.
func injectFaults(ctx context.Context, c *cluster, faults []*fault, workers map[int][]*faultWorker, after time.Duration) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(after):
	}
	for _, f := range faults {
		fr := c.frontends[f.fe]
		f.dyingAt.Store(time.Now().UnixNano())
		fr.kill()
		// Stamped once the kill is done: a call that starts after this
		// cannot reach the dead run any more.
		f.killedAt.Store(time.Now().UnixNano())
		c.log.Info("killed", "server", f.id, "incarnation", fr.incarnation, "restart", f.restart)
		if !f.restart {
			continue
		}
		nf, err := c.startFrontend(ctx, f.fe)
		if err != nil {
			c.log.Error("restart failed", "server", f.id, "err", err)
			continue
		}
		c.swap(f.fe, nf)
		f.newInc, f.restartedAt = nf.incarnation, time.Now()
		var owners []*mailbox
		for _, w := range workers[f.fe] {
			owners = append(owners, w.inbox)
		}
		c.connectClientsOf(nf, owners)
		c.log.Info("restarted", "server", f.id, "incarnation", nf.incarnation)
	}
}

// swap makes nf the live run of frontend i; the old one is stopped with
// the rest at the end.
func (c *cluster) swap(i int, nf *frontend) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gone = append(c.gone, c.frontends[i])
	c.frontends[i] = nf
}

// faultWorker drives one doomed frontend from one backend.
type faultWorker struct {
	name  string
	svc   *sessionremote.BackendSessionService
	fault *fault
	rng   *rand.Rand
	inbox *mailbox
	every time.Duration // between calls after the kill: no busy loop on fast failures

	sessions []*faultSession
	timeout  time.Duration

	calls, afterKill, inFlightOK, notFound, unavailable int
	lat                                                 []time.Duration
	tally                                               tally
}

// faultSession is a session of a doomed frontend as one fault worker knows
// it: a snapshot, and the value it must hold.
type faultSession struct {
	snap     *sessionremote.BackendSession
	run      string // the frontend's incarnation it belongs to
	gold     int
	untrusty bool // a call on it was in flight at the kill: its state is unknown
}

func newFaultWorkers(cfg Config, c *cluster, faults []*fault) map[int][]*faultWorker {
	out := make(map[int][]*faultWorker)
	for _, f := range faults {
		for bi, b := range c.backends {
			out[f.fe] = append(out[f.fe], &faultWorker{
				name:    fmt.Sprintf("%s/fault-%s", b.id, f.id),
				svc:     b.svc,
				fault:   f,
				rng:     rand.New(rand.NewPCG(cfg.Seed, uint64(1<<32+f.fe*64+bi))),
				inbox:   &mailbox{},
				every:   time.Millisecond,
				timeout: cfg.CallTimeout,
			})
		}
	}
	return out
}

// minCallsAfterKill is how many calls each fault worker makes to its
// frontend after the kill, even if the run's time is up: a run checks what
// calls to a dead server do, however slow the machine.
const minCallsAfterKill = 10

// run makes calls until ctx ends and the worker has made its calls after
// the kill, or for at most startTimeout more.
func (w *faultWorker) run(ctx context.Context, c *cluster) {
	var overtime time.Time
	for {
		if ctx.Err() != nil {
			if overtime.IsZero() {
				overtime = time.Now().Add(startTimeout)
			}
			if w.afterKill >= minCallsAfterKill || w.fault.killedAt.Load() == 0 || time.Now().After(overtime) {
				return
			}
		}
		w.receive(c)
		if len(w.sessions) == 0 {
			time.Sleep(w.every)
			continue
		}
		w.step(w.sessions[w.rng.IntN(len(w.sessions))])
		if w.fault.killedBefore(time.Now()) {
			time.Sleep(w.every)
		}
	}
}

// receive takes the sessions opened for this worker: a snapshot of each
// from its frontend, the model's start.
func (w *faultWorker) receive(c *cluster) {
	for _, a := range w.inbox.drain() {
		run := a.run
		start := time.Now()
		var snap *sessionremote.BackendSession
		// By reference, naming the run the session was opened on: a late
		// arrival from the old run must not pick up the new run's session
		// that got the same id.
		ref := session.Ref{FrontendID: w.fault.id, Incarnation: run, ID: a.sid}
		get := func(ctx context.Context) (err error) {
			snap, err = w.svc.GetRef(ctx, ref)
			return err
		}
		err := w.call(get)
		// A run that has just started may not be in this backend's view
		// of membership yet: its calls are not delivered until it is.
		for deadline := time.Now().Add(w.timeout); errors.Is(err, runtime.ErrNotDelivered) && run != w.fault.oldInc &&
			time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
			err = w.call(get)
		}
		if err != nil {
			// Only a session of a run that died may be missing.
			w.tally.check(w.fault.dyingBefore(time.Now()) && run == w.fault.oldInc,
				"%s: Get of new sid %d on %s: %v", w.name, a.sid, w.fault.id, err)
			continue
		}
		w.tally.check(snap.Incarnation() == run || w.fault.killedBefore(start),
			"%s: sid %d's snapshot names run %s, its session is of run %s", w.name, a.sid, snap.Incarnation(), run)
		w.sessions = append(w.sessions, &faultSession{snap: snap, run: snap.Incarnation()})
	}
}

// call makes one call under the worker's timeout.
func (w *faultWorker) call(f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	w.lat = append(w.lat, time.Since(start))
	w.calls++
	return err
}

// step pushes the next value of gold through s's snapshot, or reads it
// back, and checks the outcome against what the frontend's fate allows.
func (w *faultWorker) step(s *faultSession) {
	f := w.fault
	push := w.rng.IntN(2) == 0
	start := time.Now()
	var got int
	err := w.call(func(ctx context.Context) error {
		if push {
			if err := s.snap.Set("gold", s.gold+1); err != nil {
				return err
			}
			return s.snap.Push(ctx, "gold")
		}
		fresh, err := w.svc.GetRef(ctx, s.snap.Ref())
		if err != nil {
			return err
		}
		_, err = fresh.Get("gold", &got)
		return err
	})
	oldRun := s.run == f.oldInc
	switch {
	case !oldRun || !f.dyingBefore(time.Now()):
		// A live run: everything as the model says.
		if !w.tally.check(err == nil, "%s: %s on sid %d of %s: %v", w.name, pushOrGet(push), s.snap.ID(), f.id, err) {
			return
		}
		if push {
			s.gold++
		} else {
			w.tally.check(s.untrusty || got == s.gold, "%s: sid %d of %s holds gold %d, want %d", w.name, s.snap.ID(), f.id, got, s.gold)
		}
	case !f.killedBefore(start):
		// In flight at the kill: any outcome, and the session's state is
		// unknown from now on. (It is gone anyway.)
		if err == nil {
			w.inFlightOK++
		}
		s.untrusty = true
	default:
		w.afterKill++
		switch {
		case errors.Is(err, sessionremote.ErrSessionNotFound):
			w.notFound++
		case runtime.CodeOf(err) == runtime.Unavailable:
			w.unavailable++
		case err == nil:
			w.tally.check(false, "%s: %s on sid %d of %s's old run, started %v after its kill, succeeded: it reached a session of another run",
				w.name, pushOrGet(push), s.snap.ID(), f.id, start.Sub(time.Unix(0, f.killedAt.Load())).Round(time.Millisecond))
		default:
			w.tally.check(false, "%s: %s on sid %d of %s after its kill: %v, want Unavailable or ErrSessionNotFound, at once",
				w.name, pushOrGet(push), s.snap.ID(), f.id, err)
		}
	}
}

func pushOrGet(push bool) string {
	if push {
		return "push"
	}
	return "get"
}

// FaultReport is what happened to one doomed frontend.
type FaultReport struct {
	ID          string
	Restart     bool
	KilledAfter time.Duration // from the start of the workload
	// Left is how long after the kill each backend's view dropped the old
	// run, by backend id, and why.
	Left map[string]leave
	// Calls started after the kill, and how they ended.
	AfterKill, Unavailable, NotFound int
	InFlightOK                       int // calls in flight at the kill that succeeded
	P99, Max                         time.Duration
	NewRunSessions                   int // restarted: sessions of the new run checked at the end

	killed time.Time
}

// check checks what every backend must have seen of f by the end, and
// returns its report line's data.
func (f *fault) report(c *cluster, start time.Time, ws []*faultWorker, t *tally) FaultReport {
	r := FaultReport{ID: f.id, Restart: f.restart, Left: make(map[string]leave)}
	k := f.killedAt.Load()
	if !t.check(k != 0, "%s was never killed: the run ended first", f.id) {
		return r
	}
	killed := time.Unix(0, k)
	r.killed, r.KilledAfter = killed, killed.Sub(start)
	f.mu.Lock()
	for id, l := range f.left {
		r.Left[id] = l
	}
	f.mu.Unlock()
	for _, b := range c.backends {
		l, ok := r.Left[b.id]
		t.check(ok, "%s's view never dropped killed %s (run %s)", b.id, f.id, f.oldInc)
		_, still := b.view.Lookup(f.id, f.oldInc)
		t.check(!still, "%s still lists %s's dead run %s: routers would pick it", b.id, f.id, f.oldInc)
		if ok && !f.restart {
			t.check(l.reason == membership.Expired, "%s saw %s leave as %v, want expired (it said no goodbye)", b.id, f.id, l.reason)
		}
	}
	var lat []time.Duration
	for _, w := range ws {
		t.add(&w.tally)
		r.AfterKill += w.afterKill
		r.Unavailable += w.unavailable
		r.NotFound += w.notFound
		r.InFlightOK += w.inFlightOK
		lat = append(lat, w.lat...)
	}
	r.P99, r.Max = percentile(sortDurations(lat), 0.99), maxDuration(lat)
	// Every call to a dead server ended, and none waited for its deadline.
	t.check(r.Max < ws[0].timeout, "%s: a call took %v, its whole deadline: it hung", f.id, r.Max)
	t.check(r.AfterKill > 0, "%s: no call was made to it after the kill", f.id)
	if f.restart {
		r.NewRunSessions = verifyNewRun(c, f, ws, t)
	}
	return r
}

// verifyNewRun checks, at the end, every session of a restarted frontend's
// new run that a fault worker modelled: it holds what the model says, so no
// call through an old reference changed it.
func verifyNewRun(c *cluster, f *fault, ws []*faultWorker, t *tally) int {
	fr := c.frontends[f.fe]
	t.check(fr.incarnation == f.newInc && f.newInc != "" && f.newInc != f.oldInc,
		"%s runs incarnation %q, want the new run %q", f.id, fr.incarnation, f.newInc)
	n := 0
	for _, w := range ws {
		for _, s := range w.sessions {
			if s.run != f.newInc {
				continue
			}
			n++
			var gold int
			live := fr.store.Get(s.snap.ID())
			if !t.check(live != nil, "%s: new-run sid %d of %s is gone", w.name, s.snap.ID(), f.id) {
				continue
			}
			if _, err := live.Get("gold", &gold); t.check(err == nil, "%s: %v", w.name, err) {
				t.check(gold == s.gold, "%s: new-run sid %d of %s holds gold %d, its model %d", w.name, s.snap.ID(), f.id, gold, s.gold)
			}
		}
	}
	t.check(n > 0, "%s: no session of its new run was checked", f.id)
	return n
}

func sortDurations(d []time.Duration) []time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}

func maxDuration(d []time.Duration) time.Duration {
	var m time.Duration
	for _, x := range d {
		m = max(m, x)
	}
	return m
}

// waitLeaves waits until every backend has seen every killed run leave, or
// until limit.
func waitLeaves(c *cluster, faults []*fault, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		all := true
		for _, f := range faults {
			f.mu.Lock()
			all = all && (f.killedAt.Load() == 0 || len(f.left) == len(c.backends))
			f.mu.Unlock()
		}
		if all {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
