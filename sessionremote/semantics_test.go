package sessionremote_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// Rows of SESSIONS.md that the operation tests in remote_test.go do not
// reach.

// kickByUid, like bind and getBackendSessionsByUid, refuses the empty uid
// instead of treating it as a uid nobody has.
func TestKickByUidRefusesEmptyUID(t *testing.T) {
	c := newCluster(t)
	cn := &conn{}
	c.store.Create(cn)
	wantErr(t, c.svc.KickByUID(bg(t), fid, "", "x"), sessionremote.ErrInvalidUID, runtime.InvalidArgument)
	if kicks, closes := cn.state(); len(kicks) != 0 || closes != 0 || c.store.Len() != 1 {
		t.Errorf("a refused kick touched a session: kicks %q, closes %d, %d sessions left", kicks, closes, c.store.Len())
	}
}

// Through sys.sessionRemote a pushAll never deletes: a nil value arrives as
// JSON null and is stored, from the raw client and the service alike. Only
// push with an absent value deletes.
func TestPushAllOverTheWireNeverDeletes(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	s.Set("raw", 1)
	s.Set("svc", 2)
	if err := c.raw.PushAll(ctx, fid, s.ID(), session.Settings{"raw": nil}); err != nil {
		t.Fatal(err)
	}
	if err := c.svc.PushAll(ctx, fid, s.ID(), map[string]any{"svc": nil}); err != nil {
		t.Fatal(err)
	}
	want := session.Settings{"raw": json.RawMessage(`null`), "svc": json.RawMessage(`null`)}
	if diff := cmp.Diff(want, s.Export().Settings); diff != "" {
		t.Errorf("settings after pushAll of nil values (-want +got):\n%s", diff)
	}
}

// BackendSession.Set encodes the value at once: changing the value
// afterwards changes neither the snapshot nor what Push sends.
func TestBackendSessionSetCopiesTheValue(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	bs, err := c.svc.Get(ctx, fid, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	team := map[string]int{"red": 1}
	if err := bs.Set("team", team); err != nil {
		t.Fatal(err)
	}
	team["red"] = 99
	if err := bs.Push(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	var local, front map[string]int
	bs.Get("team", &local)
	s.Get("team", &front)
	want := map[string]int{"red": 1}
	if !cmp.Equal(want, local) || !cmp.Equal(want, front) {
		t.Errorf("after changing the value set: snapshot %v, frontend %v; want %v in both", local, front, want)
	}
}
