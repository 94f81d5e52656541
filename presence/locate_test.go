package presence_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/presence"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
)

// locate returns where uid is, failing the test on an error.
func (b *backend) locate(t *testing.T, uid string) []presence.Location {
	t.Helper()
	locs, err := b.dir.Locate(ctxFor(t, wait), uid)
	if err != nil {
		t.Fatalf("Locate(%q): %v", uid, err)
	}
	return locs
}

// Locate follows binds, unbinds and closes, on one frontend and on several.
func TestLocate(t *testing.T) {
	e := newEnv(t, true)
	f1, f2 := e.startFrontend("connector-1", nil), e.startFrontend("connector-2", nil)
	b := e.startBackend()
	b.sees(t, f1, f2)
	if !b.dir.HasIndex() || !f1.fe.HasIndex() {
		t.Fatal("no index with JetStream")
	}

	if locs := b.locate(t, "alice"); len(locs) != 0 {
		t.Fatalf("alice before any login: %+v", locs)
	}
	a1, _ := f1.login(t, "alice")
	a2, _ := f1.login(t, "alice")
	a3, _ := f2.login(t, "alice")
	f1.sync(t)
	f2.sync(t)
	want := []presence.Location{
		{FrontendID: f1.id, Incarnation: f1.inc, SIDs: []session.ID{a1.ID(), a2.ID()}},
		{FrontendID: f2.id, Incarnation: f2.inc, SIDs: []session.ID{a3.ID()}},
	}
	if diff := cmp.Diff(want, b.locate(t, "alice")); diff != "" {
		t.Fatalf("alice on two frontends (-want +got):\n%s", diff)
	}
	if refs := want[0].Refs(); refs[1] != (session.Ref{FrontendID: f1.id, Incarnation: f1.inc, ID: a2.ID()}) {
		t.Errorf("Refs = %+v", refs)
	}

	// Unbind and close take sessions out; the last one takes the entry.
	if err := a1.Unbind("alice"); err != nil {
		t.Fatal(err)
	}
	a3.Close("client gone")
	f1.sync(t)
	f2.sync(t)
	want = []presence.Location{{FrontendID: f1.id, Incarnation: f1.inc, SIDs: []session.ID{a2.ID()}}}
	if diff := cmp.Diff(want, b.locate(t, "alice")); diff != "" {
		t.Fatalf("alice after an unbind and a close (-want +got):\n%s", diff)
	}
	a2.Kick("bye")
	f1.sync(t)
	if locs := b.locate(t, "alice"); len(locs) != 0 {
		t.Fatalf("alice after her last session closed: %+v", locs)
	}
	if keys := e.keys(b.nc); len(keys) != 0 {
		t.Fatalf("the index still holds %q with nobody logged in", keys)
	}

	_, err := b.dir.Locate(ctxFor(t, wait), "")
	if !errors.Is(err, presence.ErrInvalidUID) || runtime.CodeOf(err) != runtime.InvalidArgument {
		t.Errorf("Locate of an empty uid: %v", err)
	}
}

// A bind is acknowledged before the index has it; the index follows within
// a few round trips to JetStream. Measured, and asserted with slack for a
// loaded machine.
func TestIndexLag(t *testing.T) {
	e := newEnv(t, true)
	f := e.startFrontend("connector-1", nil)
	b := e.startBackend()
	b.sees(t, f)
	const claim = 5 * time.Second // "a few round trips", with room for a busy CI machine
	var worst time.Duration
	for i := range 20 {
		uid := "user-" + strings.Repeat("x", i)
		start := time.Now()
		s, _ := f.login(t, uid)
		eventually(t, wait, "the index has the bind", func() bool { return len(b.locate(t, uid)) == 1 })
		worst = max(worst, time.Since(start))
		start = time.Now()
		s.Close("gone")
		eventually(t, wait, "the index has the close", func() bool { return len(b.locate(t, uid)) == 0 })
		worst = max(worst, time.Since(start))
	}
	t.Logf("worst lag of 40 changes, bind or close to Locate seeing it: %v", worst)
	if worst > claim {
		t.Errorf("the index lagged %v, more than %v", worst, claim)
	}
}

// A frontend that dies leaves its entries behind; readers drop them once
// membership drops the frontend, and clean them out of the index.
func TestLocateAfterKill(t *testing.T) {
	e := newEnv(t, true)
	f1, f2 := e.startFrontend("connector-1", nil), e.startFrontend("connector-2", nil)
	b := e.startBackend()
	b.sees(t, f1, f2)
	f1.login(t, "alice")
	f1.login(t, "bob")
	_, _ = f2.login(t, "alice")
	f1.sync(t)
	f2.sync(t)
	if n := len(b.locate(t, "alice")); n != 2 {
		t.Fatalf("alice on %d frontends, want 2", n)
	}

	killed := time.Now()
	f1.kill()
	eventually(t, wait, "the view drops the killed frontend", func() bool {
		_, ok := b.view.Lookup(f1.id, f1.inc)
		return !ok
	})
	gone := time.Since(killed)
	t.Logf("the killed frontend left the view after %v (leave bound %v)", gone, leaveBound)
	if gone > leaveBound+5*time.Second {
		t.Errorf("left after %v, not within the leave bound %v (and slack)", gone, leaveBound)
	}
	// From then on, Locate never names it.
	want := []presence.Location{{FrontendID: f2.id, Incarnation: f2.inc, SIDs: []session.ID{1}}}
	if diff := cmp.Diff(want, b.locate(t, "alice")); diff != "" {
		t.Fatalf("alice after connector-1 died (-want +got):\n%s", diff)
	}
	if locs := b.locate(t, "bob"); len(locs) != 0 {
		t.Fatalf("bob, who was only on the dead frontend: %+v", locs)
	}
	// And the reads cleaned the index: bob's entry is gone, alice's names
	// connector-2 only.
	eventually(t, wait, "the index is cleaned", func() bool {
		keys := e.keys(b.nc)
		if len(keys) != 1 {
			return false
		}
		v, err := e.kv(b.nc).Get(ctxFor(t, wait), keys[0])
		return err == nil && !strings.Contains(string(v.Value()), f1.id)
	})
}

// A run that readers took for dead, but was not, writes itself back: the
// reader tells it what it removed.
func TestCleanedRunWritesItselfBack(t *testing.T) {
	e := newEnv(t, true)
	f := e.startFrontend("connector-1", nil)
	b := e.startBackend()
	b.sees(t, f)
	f.login(t, "alice")
	f.sync(t)
	notices, err := b.nc.SubscribeSync(prefixOf(e) + ".cleaned." + f.id)
	if err != nil {
		t.Fatal(err)
	}
	// The frontend goes silent past its leave bound without dying: its
	// registration stops, so views drop it.
	f.reg.Close()
	eventually(t, wait, "the view drops the silent frontend", func() bool {
		_, ok := b.view.Lookup(f.id, f.inc)
		return !ok
	})
	if locs := b.locate(t, "alice"); len(locs) != 0 {
		t.Fatalf("alice on a frontend the view dropped: %+v", locs)
	}
	// The reader removed the run's entry, and told it.
	if _, err := notices.NextMsg(wait); err != nil {
		t.Fatalf("no notice of the cleanup: %v", err)
	}
	// The run is alive: it writes alice back.
	eventually(t, wait, "the run writes its entry back", func() bool {
		keys := e.keys(b.nc)
		if len(keys) != 1 {
			return false
		}
		v, err := e.kv(b.nc).Get(ctxFor(t, wait), keys[0])
		return err == nil && strings.Contains(string(v.Value()), f.inc)
	})
}

// Any string is a uid: the index keys encode it.
func TestStrangeUIDs(t *testing.T) {
	e := newEnv(t, true)
	f := e.startFrontend("connector-1", nil)
	b := e.startBackend()
	b.sees(t, f)
	uids := []string{"0", "a.b.c", "a b", "*", ">", "$KV", "ünïcödé 世界", "\x00\xff", "-", "=", "/",
		strings.Repeat("long", 100), strings.Repeat("y", 192), strings.Repeat("y", 193)}
	for _, uid := range uids {
		f.login(t, uid)
	}
	f.sync(t)
	for _, uid := range uids {
		locs := b.locate(t, uid)
		if len(locs) != 1 || len(locs[0].SIDs) != 1 {
			t.Errorf("uid %q located as %+v", uid, locs)
		}
	}
	if n := len(e.keys(b.nc)); n != len(uids) {
		t.Errorf("%d keys for %d uids", n, len(uids))
	}
}

// Without JetStream there is no index: Locate says so, the frontends run.
func TestWithoutJetStream(t *testing.T) {
	e := newEnv(t, false)
	f := e.startFrontend("connector-1", nil)
	b := e.startBackend()
	b.sees(t, f)
	if f.fe.HasIndex() || b.dir.HasIndex() {
		t.Fatal("an index without JetStream")
	}
	f.login(t, "alice")
	_, err := b.dir.Locate(ctxFor(t, wait), "alice")
	if !errors.Is(err, presence.ErrNoIndex) || runtime.CodeOf(err) != runtime.FailedPrecondition {
		t.Fatalf("Locate without the index: %v, want ErrNoIndex", err)
	}
	res := b.dir.GetByUIDEverywhere(ctxFor(t, wait), "alice")
	if !res.Broadcast || len(res.Sessions()) != 1 || res.Err() != nil {
		t.Fatalf("GetByUIDEverywhere without the index: %+v, %v", res, res.Err())
	}
}

// A store without an incarnation cannot be told apart from its next run:
// refused.
func TestFrontendNeedsAnIncarnation(t *testing.T) {
	e := newEnv(t, true)
	nc := e.connect()
	for name, store := range map[string]*session.Store{
		"no incarnation": session.NewStore("connector-1"),
		"bad id":         session.NewStore("connector.1", session.WithIncarnation("run-1")),
	} {
		_, err := presence.NewFrontend(ctxFor(t, wait), nc, store, e.frontendOpts()...)
		if runtime.CodeOf(err) != runtime.InvalidArgument {
			t.Errorf("%s: NewFrontend = %v, want InvalidArgument", name, err)
		}
	}
}

// A run the view does not list yet (its join has not spread) is not in
// Locate's answer, but its entries are not removed either: readers remove
// only runs they know are gone.
func TestUnknownRunIsNotCleaned(t *testing.T) {
	e := newEnv(t, true)
	b := e.startBackend()
	nc := e.connect()
	store := session.NewStore("connector-7", session.WithIncarnation("run-7"))
	fe, err := presence.NewFrontend(ctxFor(t, wait), nc, store, e.frontendOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fe.Close)
	notices, err := b.nc.SubscribeSync(prefixOf(e) + ".cleaned.connector-7")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Create(nil).Bind("alice"); err != nil {
		t.Fatal(err)
	}
	if err := fe.Sync(ctxFor(t, wait)); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if locs := b.locate(t, "alice"); len(locs) != 0 {
			t.Fatalf("a run the view does not list: %+v", locs)
		}
	}
	if msg, err := notices.NextMsg(500 * time.Millisecond); err == nil {
		t.Fatalf("a reader removed the entry of a run it never saw: %s", msg.Data)
	}
	if n := len(e.keys(b.nc)); n != 1 {
		t.Fatalf("%d keys, want alice's", n)
	}
}
