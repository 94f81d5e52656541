package presence_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/presence"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
)

// outcomes renders a result as "frontend:status:n" lines, n the sessions
// found or kicked.
func outcomes(r presence.Result) []string {
	var out []string
	for _, o := range r.Frontends {
		out = append(out, fmt.Sprintf("%s:%s:%d", o.FrontendID, o.Status, len(o.Sessions)+o.Kicked))
	}
	return out
}

// A cluster-wide kick with one frontend down: its outcome is Unavailable,
// the others Done, and the result says it is incomplete. Through the index,
// and by asking every frontend.
func TestKickEverywhereOneFrontendDown(t *testing.T) {
	for _, mode := range []string{"index", "broadcast"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, true)
			f1, f2, f3 := e.startFrontend("connector-1", nil), e.startFrontend("connector-2", nil), e.startFrontend("connector-3", nil)
			var opts []presence.DirectoryOption
			if mode == "broadcast" {
				opts = append(opts, presence.WithoutIndex())
			}
			b := e.startBackend(opts...)
			b.sees(t, f1, f2, f3)
			_, c1 := f1.login(t, "alice")
			_, c1b := f1.login(t, "alice")
			f2.login(t, "alice")
			f3.login(t, "bob")
			for _, f := range []*frontend{f1, f2, f3} {
				f.sync(t)
			}
			// connector-2 stops serving calls but stays in membership: a
			// frontend that is down as far as its callers can tell.
			f2.served.Close()

			res := b.dir.KickByUIDEverywhere(ctxFor(t, wait), "alice", "banned")
			want := []string{"connector-1:done:2", "connector-2:unavailable:0"}
			if mode == "broadcast" {
				want = append(want, "connector-3:none:0")
			}
			if diff := cmp.Diff(want, outcomes(res)); diff != "" {
				t.Fatalf("outcomes (-want +got):\n%s", diff)
			}
			if res.Broadcast != (mode == "broadcast") {
				t.Errorf("Broadcast = %v", res.Broadcast)
			}
			if res.Kicked() != 2 {
				t.Errorf("Kicked() = %d, want 2", res.Kicked())
			}
			err := res.Err()
			if !errors.Is(err, presence.ErrIncomplete) || runtime.CodeOf(err) != runtime.Unavailable {
				t.Fatalf("Err() = %v, want ErrIncomplete", err)
			}
			if !errors.Is(err, runtime.ErrNotDelivered) {
				t.Errorf("Err() = %v does not carry connector-2's own error", err)
			}
			for _, c := range []*clientConn{c1, c1b} {
				if kicks, _ := c.got(); !slices.Equal(kicks, []string{"banned"}) {
					t.Errorf("alice's client on connector-1 got kicks %q", kicks)
				}
			}
			if n := len(f3.store.GetByUID("bob")); n != 1 {
				t.Errorf("bob lost his session to alice's kick")
			}
		})
	}
}

// blockingKick is a frontend's sys.presence whose kicks never return until
// their caller gives up.
type blockingKick struct{ presence.PresenceRemote }

func (blockingKick) KickByUid(ctx context.Context, _, _ string) (int, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

// A frontend that does not answer cannot hold a cluster-wide call past its
// caller's deadline; the others' outcomes stand.
func TestKickEverywhereWithinTheDeadline(t *testing.T) {
	e := newEnv(t, true)
	f1 := e.startFrontend("connector-1", nil)
	f2 := e.startFrontend("connector-2", blockingKick{})
	b := e.startBackend(presence.WithoutIndex())
	b.sees(t, f1, f2)
	f1.login(t, "alice")
	f2.login(t, "alice")

	const deadline = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	res := b.dir.KickByUIDEverywhere(ctx, "alice", "banned")
	took := time.Since(start)
	if took > deadline+5*time.Second {
		t.Errorf("the kick took %v with a deadline of %v", took, deadline)
	}
	want := []string{"connector-1:done:1", "connector-2:unavailable:0"}
	if diff := cmp.Diff(want, outcomes(res)); diff != "" {
		t.Fatalf("outcomes (-want +got):\n%s", diff)
	}
	if code := runtime.CodeOf(res.Frontends[1].Err); code != runtime.DeadlineExceeded {
		t.Errorf("the silent frontend's error: %v, want DeadlineExceeded", res.Frontends[1].Err)
	}
}

// GetByUIDEverywhere finds a user's sessions on every frontend, through the
// index or by asking each, and the snapshots work like any other.
func TestGetEverywhere(t *testing.T) {
	e := newEnv(t, true)
	f1, f2, f3 := e.startFrontend("connector-1", nil), e.startFrontend("connector-2", nil), e.startFrontend("connector-3", nil)
	withIndex := e.startBackend()
	without := e.startBackend(presence.WithoutIndex())
	withIndex.sees(t, f1, f2, f3)
	without.sees(t, f1, f2, f3)
	a1, _ := f1.login(t, "alice")
	a3, _ := f3.login(t, "alice")
	f1.sync(t)
	f3.sync(t)

	for name, b := range map[string]*backend{"index": withIndex, "broadcast": without} {
		res := b.dir.GetByUIDEverywhere(ctxFor(t, wait), "alice")
		if res.Err() != nil {
			t.Fatalf("%s: %v", name, res.Err())
		}
		var refs []session.Ref
		for _, s := range res.Sessions() {
			refs = append(refs, s.Ref())
		}
		want := []session.Ref{
			{FrontendID: f1.id, Incarnation: f1.inc, ID: a1.ID()},
			{FrontendID: f3.id, Incarnation: f3.inc, ID: a3.ID()},
		}
		if diff := cmp.Diff(want, refs); diff != "" {
			t.Errorf("%s: alice's sessions (-want +got):\n%s", name, diff)
		}
		wantOut := []string{"connector-1:done:1", "connector-3:done:1"}
		if name == "broadcast" {
			wantOut = []string{"connector-1:done:1", "connector-2:none:0", "connector-3:done:1"}
		}
		if diff := cmp.Diff(wantOut, outcomes(res)); diff != "" {
			t.Errorf("%s: outcomes (-want +got):\n%s", name, diff)
		}
	}
	// A snapshot from a cluster-wide get acts on its session.
	s := withIndex.dir.GetByUIDEverywhere(ctxFor(t, wait), "alice").Sessions()[1]
	if err := s.Set("room", 3); err != nil {
		t.Fatal(err)
	}
	if err := s.Push(ctxFor(t, wait), "room"); err != nil {
		t.Fatal(err)
	}
	var room int
	if ok, _ := a3.Get("room", &room); !ok || room != 3 {
		t.Errorf("push through a cluster-wide snapshot: room %d", room)
	}
	if res := withIndex.dir.GetByUIDEverywhere(ctxFor(t, wait), ""); !errors.Is(res.Err(), presence.ErrInvalidUID) {
		t.Errorf("empty uid: %v", res.Err())
	}
}

// When every run the index names has nothing of the uid (the index lags a
// move of the user to another frontend), the call asks every frontend.
func TestEverywhereWhenTheIndexLags(t *testing.T) {
	e := newEnv(t, true)
	f1, f2 := e.startFrontend("connector-1", nil), e.startFrontend("connector-2", nil)
	b := e.startBackend()
	b.sees(t, f1, f2)
	s, _ := f1.login(t, "alice")
	f1.sync(t)
	// Both frontends stop writing the index: it keeps naming connector-1.
	f1.fe.Close()
	f2.fe.Close()
	s.Close("moved")
	f2.login(t, "alice")

	res := b.dir.KickByUIDEverywhere(ctxFor(t, wait), "alice", "banned")
	if !res.Broadcast || res.Kicked() != 1 || res.Err() != nil {
		t.Fatalf("kick of a user the index lags: %q, broadcast %v, %v", outcomes(res), res.Broadcast, res.Err())
	}
}

// PushByUIDs reaches each user's sessions wherever they are, and says per
// uid what happened, a frontend down included.
func TestPushByUIDs(t *testing.T) {
	for _, mode := range []string{"index", "broadcast"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, true)
			f1, f2 := e.startFrontend("connector-1", nil), e.startFrontend("connector-2", nil)
			f3 := e.startFrontend("connector-3", nil)
			var opts []presence.DirectoryOption
			if mode == "broadcast" {
				opts = append(opts, presence.WithoutIndex())
			}
			b := e.startBackend(opts...)
			b.sees(t, f1, f2, f3)
			_, a1 := f1.login(t, "alice")
			_, a2 := f1.login(t, "alice")
			_, bob := f2.login(t, "bob")
			f3.login(t, "dave")
			for _, f := range []*frontend{f1, f2, f3} {
				f.sync(t)
			}

			msg := []byte(`{"text":"hello"}`)
			got := b.dir.PushByUIDs(ctxFor(t, wait), "onChat", msg, []string{"alice", "bob", "carol", ""})
			var summary []string
			for _, d := range got {
				summary = append(summary, fmt.Sprintf("%s:%s:%d", d.UID, d.Status, d.Sessions))
			}
			want := []string{"alice:done:2", "bob:done:1", "carol:none:0", ":none:0"}
			if diff := cmp.Diff(want, summary); diff != "" {
				t.Fatalf("deliveries (-want +got):\n%s", diff)
			}
			if !errors.Is(got[3].Err, presence.ErrInvalidUID) {
				t.Errorf("the empty uid's error: %v", got[3].Err)
			}
			for name, c := range map[string]*clientConn{"alice 1": a1, "alice 2": a2, "bob": bob} {
				if _, pushes := c.got(); !slices.Equal(pushes, []string{`onChat {"text":"hello"}`}) {
					t.Errorf("%s's client got %q", name, pushes)
				}
			}

			// connector-3 goes down: dave's push is unavailable, alice's
			// still delivered. Through the index, alice is done; asking
			// every frontend, one that might hold her sessions did not
			// answer, and her delivery says so.
			f3.served.Close()
			got = b.dir.PushByUIDs(ctxFor(t, wait), "onChat", msg, []string{"alice", "dave"})
			wantAlice := presence.Done
			if mode == "broadcast" {
				wantAlice = presence.Unavailable
			}
			if got[0].Status != wantAlice || got[0].Sessions != 2 {
				t.Errorf("alice with connector-3 down: %+v, want %v with 2 sessions", got[0], wantAlice)
			}
			if got[1].Status != presence.Unavailable || !errors.Is(got[1].Err, presence.ErrIncomplete) {
				t.Errorf("dave on a frontend that is down: %+v", got[1])
			}
		})
	}
}
