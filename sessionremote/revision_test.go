package sessionremote_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	goruntime "runtime"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// Every change of a session (bind, unbind, push, pushAll, delete) adds one
// to its revision; a call that changes nothing adds none. Snapshots by sid
// and by uid carry it, and so does a BackendSession.
func TestRevisions(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	sid := s.ID()
	steps := []struct {
		what string
		do   func() error
		rev  uint64
	}{
		{"created", func() error { return nil }, 1},
		{"bind", func() error { return c.svc.Bind(ctx, fid, sid, "u") }, 2},
		{"bind to the same uid", func() error { return c.svc.Bind(ctx, fid, sid, "u") }, 2},
		{"push", func() error { return c.svc.Push(ctx, fid, sid, "k", 1) }, 3},
		{"push of the same value", func() error { return c.svc.Push(ctx, fid, sid, "k", 1) }, 3},
		{"delete of an absent key", func() error { return c.svc.Delete(ctx, fid, sid, "absent") }, 3},
		{"pushAll of two keys", func() error { return c.svc.PushAll(ctx, fid, sid, map[string]any{"k": 2, "l": 3}) }, 4},
		{"pushAll of nothing", func() error { return c.svc.PushAll(ctx, fid, sid, nil) }, 4},
		{"delete", func() error { return c.svc.Delete(ctx, fid, sid, "l") }, 5},
		{"unbind", func() error { return c.svc.Unbind(ctx, fid, sid, "u") }, 6},
		{"a refused unbind", func() error { c.svc.Unbind(ctx, fid, sid, "u"); return nil }, 6},
		{"bind again", func() error { return c.svc.Bind(ctx, fid, sid, "u") }, 7},
		{"a frontend Set", func() error { return s.Set("m", true) }, 8},
		{"a frontend Remove", func() error { s.Remove("m"); return nil }, 9},
	}
	for _, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
		bs, err := c.svc.Get(ctx, fid, sid)
		if err != nil {
			t.Fatal(err)
		}
		if bs.Revision() != step.rev || bs.Export().Revision != step.rev || s.Revision() != step.rev {
			t.Fatalf("after %s: revision %d (export %d, frontend %d), want %d",
				step.what, bs.Revision(), bs.Export().Revision, s.Revision(), step.rev)
		}
		if bs.UID() == "" {
			continue
		}
		if list, err := c.svc.GetByUID(ctx, fid, bs.UID()); err != nil || len(list) != 1 || list[0].Revision() != step.rev {
			t.Fatalf("after %s: GetByUID = %d sessions, %v, want one at revision %d", step.what, len(list), err, step.rev)
		}
	}
}

// PushAll sends only the keys the snapshot changed, sets and deletions, so a
// stale snapshot no longer reverts keys another backend pushed since. A key
// counts as changed after Set or Remove even if its value is the same.
func TestPushAllFromAStaleSnapshot(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	for k, v := range map[string]int{"x": 1, "y": 1, "z": 1, "w": 1} {
		if err := s.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	a, err := c.svc.Get(ctx, fid, s.ID()) // backend A's snapshot
	if err != nil {
		t.Fatal(err)
	}
	// Backend B changes x, y and w after A read the session.
	if err := c.svc.PushAll(ctx, fid, s.ID(), map[string]any{"x": 2, "y": 2, "w": 2}); err != nil {
		t.Fatal(err)
	}
	a.Set("y", 3)
	a.Remove("z")
	a.Set("w", 1) // A's value is what A read, but A set it: it counts
	if err := a.PushAll(ctx); err != nil {
		t.Fatal(err)
	}
	want := session.Settings{"x": json.RawMessage(`2`), "y": json.RawMessage(`3`), "w": json.RawMessage(`1`)}
	if diff := cmp.Diff(want, s.Export().Settings); diff != "" {
		t.Fatalf("after A's PushAll (-want +got):\n%s", diff)
	}
	// Pushed keys are no longer changed: B's next write stays.
	if err := c.svc.Push(ctx, fid, s.ID(), "y", 4); err != nil {
		t.Fatal(err)
	}
	if err := a.PushAll(ctx); err != nil {
		t.Fatal(err)
	}
	if raw, _ := s.Raw("y"); string(raw) != "4" {
		t.Fatalf("a PushAll with nothing changed wrote y = %s", raw)
	}
	// Push(key) clears its key too.
	a.Set("v", 5)
	if err := a.Push(ctx, "v"); err != nil {
		t.Fatal(err)
	}
	if err := c.svc.Push(ctx, fid, s.ID(), "v", 6); err != nil {
		t.Fatal(err)
	}
	if err := a.PushAll(ctx); err != nil {
		t.Fatal(err)
	}
	if raw, _ := s.Raw("v"); string(raw) != "6" {
		t.Fatalf("PushAll after Push(v) sent v again: %s", raw)
	}
}

// A failed push keeps its keys changed, for the next push; a key changed
// again while a push of it was on its way stays changed after that push.
func TestFailedPushKeepsChanges(t *testing.T) {
	store := session.NewStore(fid, session.WithSettingsBudget(64))
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	inproc := runtime.NewInProc()
	served, err := inproc.Serve(fid, srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { served.Close() })
	var during func()
	hook := func(ctx context.Context, info runtime.CallInfo, args, result any, call runtime.CallFunc) error {
		if during != nil {
			during()
		}
		return call(ctx, args, result)
	}
	svc := sessionremote.NewBackendSessionService(runtime.NewClient(inproc, runtime.WithInterceptors(hook)))
	ctx := bg(t)
	s := store.Create(&conn{})
	bs, err := svc.Get(ctx, fid, s.ID())
	if err != nil {
		t.Fatal(err)
	}

	// Stopped frontend: Unavailable, and the change is kept.
	bs.Set("a", 1)
	served.Close()
	if err := bs.PushAll(ctx); runtime.CodeOf(err) != runtime.Unavailable {
		t.Fatalf("PushAll to a stopped frontend = %v", err)
	}
	if served, err = inproc.Serve(fid, srv); err != nil {
		t.Fatal(err)
	}
	// Over budget: refused, and both changes are kept.
	bs.Set("big", string(make([]byte, 100)))
	wantErr(t, bs.PushAll(ctx), sessionremote.ErrSettingsBudget, runtime.ResourceExhausted)
	bs.Set("big", "small")
	if err := bs.PushAll(ctx); err != nil {
		t.Fatal(err)
	}
	want := session.Settings{"a": json.RawMessage(`1`), "big": json.RawMessage(`"small"`)}
	if diff := cmp.Diff(want, s.Export().Settings); diff != "" {
		t.Fatalf("after the failed pushes were pushed again (-want +got):\n%s", diff)
	}

	// Changed while its push is on the way: still changed afterwards.
	bs.Set("a", 2)
	during = func() { during = nil; bs.Set("a", 3) }
	if err := bs.PushAll(ctx); err != nil {
		t.Fatal(err)
	}
	if raw, _ := s.Raw("a"); string(raw) != "2" {
		t.Fatalf("the push carried a = %s, want the value at the time, 2", raw)
	}
	if err := bs.PushAll(ctx); err != nil {
		t.Fatal(err)
	}
	if raw, _ := s.Raw("a"); string(raw) != "3" {
		t.Fatalf("the change made during the push was lost: a = %s, want 3", raw)
	}
}

// A conditional write applies only if the session is still at the
// snapshot's revision; otherwise it changes nothing and fails Aborted with
// a *ConflictError carrying the current revision, and the snapshot keeps its
// changes. Successful conditional writes chain: each moves the snapshot's
// revision to the session's new one.
func TestConditionalWrites(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	s.Set("x", 1)
	a, _ := c.svc.Get(ctx, fid, s.ID())
	b, _ := c.svc.Get(ctx, fid, s.ID())
	rev := a.Revision()

	a.Set("x", 2)
	if err := a.PushIfUnchanged(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if a.Revision() != rev+1 {
		t.Fatalf("revision after a conditional push = %d, want %d", a.Revision(), rev+1)
	}
	b.Set("y", 1)
	err := b.PushAllIfUnchanged(ctx)
	wantErr(t, err, sessionremote.ErrRevisionConflict, runtime.Aborted)
	var conflict *sessionremote.ConflictError
	if !errors.As(err, &conflict) || conflict.Revision != rev+1 || conflict.Expected != rev || conflict.SID != s.ID() {
		t.Fatalf("conflict = %+v, want sid %d at %d, not %d", conflict, s.ID(), rev+1, rev)
	}
	if _, ok := s.Raw("y"); ok || s.Revision() != rev+1 {
		t.Fatal("a conflicting write changed the session")
	}
	wantErr(t, b.PushIfUnchanged(ctx, "y"), sessionremote.ErrRevisionConflict, runtime.Aborted)

	// Chained conditional writes from one snapshot, a deletion among them.
	a.Set("z", 1)
	if err := a.PushAllIfUnchanged(ctx); err != nil {
		t.Fatal(err)
	}
	a.Remove("x")
	if err := a.PushIfUnchanged(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Raw("x"); ok || a.Revision() != rev+3 || s.Revision() != rev+3 {
		t.Fatalf("after a conditional delete: x present %v, revisions %d / %d, want %d", ok, a.Revision(), s.Revision(), rev+3)
	}
	// A conditional write that changes nothing applies and keeps the revision.
	if err := a.PushAllIfUnchanged(ctx); err != nil || a.Revision() != rev+3 {
		t.Fatalf("an empty conditional PushAll = %v, revision %d", err, a.Revision())
	}
	// An unconditional write does not move the snapshot's revision: the
	// session changed in a way the snapshot cannot vouch for.
	a.Set("z", 2)
	if err := a.Push(ctx, "z"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, a.PushAllIfUnchanged(ctx), sessionremote.ErrRevisionConflict, runtime.Aborted)

	// b kept y changed through its conflicts: read again, it can push it.
	fresh, _ := c.svc.Get(ctx, fid, s.ID())
	fresh.Set("y", 1)
	if err := fresh.PushAllIfUnchanged(ctx); err != nil {
		t.Fatal(err)
	}
	want := session.Settings{"y": json.RawMessage(`1`), "z": json.RawMessage(`2`)}
	if diff := cmp.Diff(want, s.Export().Settings); diff != "" {
		t.Fatalf("settings (-want +got):\n%s", diff)
	}
	_, err = c.svc.Get(ctx, fid, 999)
	wantErr(t, err, sessionremote.ErrSessionNotFound, runtime.NotFound)
}

// A snapshot without a revision (from a frontend that predates them) never
// sends a conditional write, which could only go out unconditional.
func TestConditionalWriteNeedsARevision(t *testing.T) {
	store := session.NewStore(fid)
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, oldFrontend{sessionremote.NewFrontend(store)})
	inproc := runtime.NewInProc()
	served, err := inproc.Serve(fid, srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { served.Close() })
	calls := 0
	count := func(ctx context.Context, info runtime.CallInfo, args, result any, call runtime.CallFunc) error {
		calls++
		return call(ctx, args, result)
	}
	svc := sessionremote.NewBackendSessionService(runtime.NewClient(inproc, runtime.WithInterceptors(count)))
	ctx := bg(t)
	s := store.Create(&conn{})
	bs, err := svc.Get(ctx, fid, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	if bs.Revision() != 0 {
		t.Fatalf("revision %d from a frontend that sends none", bs.Revision())
	}
	bs.Set("k", 1)
	calls = 0
	wantErr(t, bs.PushIfUnchanged(ctx, "k"), sessionremote.ErrNoRevision, runtime.FailedPrecondition)
	wantErr(t, bs.PushAllIfUnchanged(ctx), sessionremote.ErrNoRevision, runtime.FailedPrecondition)
	if calls != 0 || s.Revision() != 1 {
		t.Fatalf("%d calls went out, session at revision %d", calls, s.Revision())
	}
}

// oldFrontend answers reads as a frontend from before revisions did.
type oldFrontend struct{ *sessionremote.Frontend }

func (f oldFrontend) GetBackendSessionBySid(ctx context.Context, sid session.ID) (*session.Info, error) {
	info, err := f.Frontend.GetBackendSessionBySid(ctx, sid)
	if info != nil {
		old := *info
		old.Revision = 0
		info = &old
	}
	return info, err
}

// Update is the optimistic loop: read, change, push if unchanged, and on a
// conflict read and change again, a bounded number of times. It retries
// conflicts only: f's errors, and errors after which the write may have been
// applied (Unavailable, DeadlineExceeded), end it at once.
func TestUpdate(t *testing.T) {
	store := session.NewStore(fid)
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	inproc := runtime.NewInProc()
	served, err := inproc.Serve(fid, srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { served.Close() })
	var fail error // what the next updateSettings call fails with
	inject := func(ctx context.Context, info runtime.CallInfo, args, result any, call runtime.CallFunc) error {
		if info.Route == sessionremote.SessionRemoteUpdateSettingsRoute && fail != nil {
			err := call(ctx, args, result) // applied, then the answer is lost
			if err == nil {
				err = fail
			}
			return err
		}
		return call(ctx, args, result)
	}
	svc := sessionremote.NewBackendSessionService(runtime.NewClient(inproc, runtime.WithInterceptors(inject)))
	ctx := bg(t)
	s := store.Create(&conn{})
	increment := func(bs *sessionremote.BackendSession) error {
		var n int
		if _, err := bs.Get("n", &n); err != nil {
			return err
		}
		return bs.Set("n", n+1)
	}
	n := func() string { raw, _ := s.Raw("n"); return string(raw) }

	runs := 0
	if err := svc.Update(ctx, fid, s.ID(), func(bs *sessionremote.BackendSession) error { runs++; return increment(bs) }); err != nil || runs != 1 || n() != "1" {
		t.Fatalf("uncontended Update = %v after %d runs, n = %s", err, runs, n())
	}

	// Someone else writes between the read and the push, twice: f runs three
	// times and the result counts every increment.
	runs = 0
	err = svc.Update(ctx, fid, s.ID(), func(bs *sessionremote.BackendSession) error {
		runs++
		if runs <= 2 {
			if _, err := store.PushIf(s.ID(), "n", json.RawMessage(fmt.Sprint(runs+1)), 0); err != nil {
				return err
			}
		}
		return increment(bs)
	})
	if err != nil || runs != 3 || n() != "4" {
		t.Fatalf("contended Update = %v after %d runs, n = %s; want 3 runs, n = 4", err, runs, n())
	}

	// A session that always changes: UpdateAttempts runs, then the conflict.
	runs = 0
	err = svc.Update(ctx, fid, s.ID(), func(bs *sessionremote.BackendSession) error {
		runs++
		s.Set("other", runs)
		return increment(bs)
	})
	wantErr(t, err, sessionremote.ErrRevisionConflict, runtime.Aborted)
	if runs != sessionremote.UpdateAttempts || n() != "4" {
		t.Fatalf("hopeless Update ran %d times (want %d), n = %s (want 4)", runs, sessionremote.UpdateAttempts, n())
	}

	// f's error is returned as it is, and nothing is pushed.
	mine := errors.New("not today")
	runs = 0
	if err := svc.Update(ctx, fid, s.ID(), func(bs *sessionremote.BackendSession) error { runs++; bs.Set("n", 100); return mine }); !errors.Is(err, mine) || runs != 1 || n() != "4" {
		t.Fatalf("Update with a failing f = %v after %d runs, n = %s", err, runs, n())
	}

	// Errors after which the push may have been applied are never retried.
	for _, lost := range []error{runtime.NewError(runtime.Unavailable, "connection lost"), runtime.NewError(runtime.DeadlineExceeded, "deadline")} {
		fail, runs = lost, 0
		before := n()
		err := svc.Update(ctx, fid, s.ID(), func(bs *sessionremote.BackendSession) error { runs++; return increment(bs) })
		fail = nil
		if runtime.CodeOf(err) != runtime.CodeOf(lost) || runs != 1 {
			t.Fatalf("Update whose push failed %v = %v after %d runs; want that error after one run", lost, err, runs)
		}
		if n() == before {
			t.Fatal("the injected failure did not let the push through")
		}
	}
	err = svc.Update(ctx, fid, 999, func(*sessionremote.BackendSession) error { t.Fatal("f ran for a missing session"); return nil })
	wantErr(t, err, sessionremote.ErrSessionNotFound, runtime.NotFound)
}

// Several backends race on the same sessions, each through its own
// connection, over the transport under test. Each acknowledged write is
// applied exactly once: a session's revision ends at 1 plus the writes
// acknowledged to change it. With conditional writes (Update) no
// acknowledged increment is lost: each counter ends at the number of
// acknowledged increments, and each backend's own key at its last
// acknowledged value. With unconditional pushes the last writer wins: a
// shared key ends at the last value some backend pushed.
func TestRacingBackends(t *testing.T) {
	const backends, sessions, steps = 3, 3, 60
	store := session.NewStore(fid)
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	svcs := backendsOf(t, srv, backends)
	var sids []session.ID
	for range sessions {
		sids = append(sids, store.Create(&conn{}).ID())
	}
	ctx := bg(t)

	type outcome struct {
		writes, increments int            // acknowledged, per session
		own                map[int]int    // backend → its last acknowledged value of its key
		lastShared         map[int]string // backend → its last acknowledged value of the shared key
		conflicts, runs    int            // updates given up; runs of their functions
	}
	var mu sync.Mutex
	out := make([]outcome, sessions)
	for i := range out {
		out[i] = outcome{own: map[int]int{}, lastShared: map[int]string{}}
	}
	var wg sync.WaitGroup
	for b, svc := range svcs {
		wg.Go(func() {
			for step := range steps {
				i := step / 3 % sessions // every backend on the same session at once
				sid := sids[i]
				var err error
				switch step % 3 {
				case 0:
					err = svc.Update(ctx, fid, sid, func(bs *sessionremote.BackendSession) error {
						mu.Lock()
						out[i].runs++
						mu.Unlock()
						var n int
						if _, err := bs.Get("n", &n); err != nil {
							return err
						}
						goruntime.Gosched() // widen the window between read and write
						return bs.Set("n", n+1)
					})
					if err == nil {
						mu.Lock()
						out[i].writes++
						out[i].increments++
						mu.Unlock()
					}
				case 1:
					err = svc.Update(ctx, fid, sid, func(bs *sessionremote.BackendSession) error {
						return bs.Set(fmt.Sprint("b", b), step)
					})
					if err == nil {
						mu.Lock()
						out[i].writes++
						out[i].own[b] = step
						mu.Unlock()
					}
				case 2:
					v := fmt.Sprintf("%d-%d", b, step)
					if err = svc.Push(ctx, fid, sid, "shared", v); err == nil {
						mu.Lock()
						out[i].writes++
						out[i].lastShared[b] = v
						mu.Unlock()
					}
				}
				if errors.Is(err, sessionremote.ErrRevisionConflict) {
					mu.Lock()
					out[i].conflicts++ // gave up after UpdateAttempts: not applied
					mu.Unlock()
				} else if err != nil {
					t.Errorf("backend %d step %d: %v", b, step, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i, sid := range sids {
		s := store.Get(sid)
		o := out[i]
		if got, want := s.Revision(), uint64(1+o.writes); got != want {
			t.Errorf("session %d at revision %d, want 1 + %d acknowledged writes", sid, got, o.writes)
		}
		var n int
		if _, err := s.Get("n", &n); err != nil || n != o.increments {
			t.Errorf("session %d: n = %d (%v), want %d acknowledged increments", sid, n, err, o.increments)
		}
		for b, v := range o.own {
			var got int
			if _, err := s.Get(fmt.Sprint("b", b), &got); err != nil || got != v {
				t.Errorf("session %d: backend %d's key = %d (%v), want its last value %d", sid, b, got, err, v)
			}
		}
		var shared string
		s.Get("shared", &shared)
		last := false
		for _, v := range o.lastShared {
			last = last || v == shared
		}
		if len(o.lastShared) > 0 && !last {
			t.Errorf("session %d: shared = %q, not the last value of any backend %v", sid, shared, o.lastShared)
		}
		t.Logf("session %d: %d writes, %d increments after %d runs of their function, %d updates gave up",
			sid, o.writes, o.increments, o.runs, o.conflicts)
	}
}

// backendsOf serves srv as frontend fid on the network under test and
// returns n backends, each with its own client and connection.
func backendsOf(t *testing.T, srv *runtime.Server, n int) []*sessionremote.BackendSessionService {
	t.Helper()
	var transports []runtime.Transport
	switch network {
	case "tcp":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ts := tcp.NewServer(srv)
		go ts.Serve(ln)
		t.Cleanup(func() { ts.Close() })
		for range n {
			tr := tcp.NewTransport(tcp.NewStaticResolver(map[string]string{fid: ln.Addr().String()}))
			t.Cleanup(func() { tr.Close() })
			transports = append(transports, tr)
		}
	case "nats":
		ns, err := natsembed.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ns.Shutdown)
		front, err := natsrpc.Connect(ns.URL())
		if err != nil {
			t.Fatal(err)
		}
		served, err := natsrpc.Serve(front, fid, srv)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { served.Close(); front.Close() })
		for range n {
			nc, err := natsrpc.Connect(ns.URL())
			if err != nil {
				t.Fatal(err)
			}
			tr := natsrpc.NewTransport(nc)
			t.Cleanup(func() { tr.Close(); nc.Close() })
			transports = append(transports, tr)
		}
	default:
		in := runtime.NewInProc()
		served, err := in.Serve(fid, srv)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { served.Close() })
		for range n {
			transports = append(transports, in)
		}
	}
	var svcs []*sessionremote.BackendSessionService
	for _, tr := range transports {
		svcs = append(svcs, sessionremote.NewBackendSessionService(runtime.NewClient(tr)))
	}
	return svcs
}
