package session_test

// The cases of pomelo 2.2.7 test/service/sessionService.js, one Go test per `it`, each
// named after its describe/it pair. Where pomelo lets the caller choose the sid, the
// store assigns it; where pomelo's FrontendSession is a local copy of a session, the Go
// equivalent is the [session.Info] snapshot, pushed back with Store.Push/PushAll.

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/session"
)

const fid = "frontend-server-1"

// pomelo: session service test #bind "should get session by uid after binded"
func TestPomeloBindGetSessionByUIDAfterBound(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	if got := st.Get(s.ID()); got != s {
		t.Fatalf("Get(%d) = %p, want the created session %p", s.ID(), got, s)
	}
	uid := "changchang"
	events := 0
	st.OnBind(func(bs *session.Session, euid string) {
		events++
		if bs != s || euid != uid {
			t.Errorf("bind hook got (%d, %q), want (%d, %q)", bs.ID(), euid, s.ID(), uid)
		}
	})

	if err := st.Bind(s.ID(), uid); err != nil {
		t.Fatalf("Bind: %v", err)
	}
	list := st.GetByUID(uid)
	if len(list) != 1 || list[0] != s {
		t.Fatalf("GetByUID(%q) = %v, want [%d]", uid, ids(list), s.ID())
	}
	if events != 1 {
		t.Fatalf("bind hook ran %d times, want 1", events)
	}
	if err := st.Bind(s.ID(), uid); err != nil {
		t.Fatalf("second Bind to the same uid: %v, want nil", err)
	}
	if events != 1 {
		t.Fatalf("rebinding the same uid ran the bind hook again (%d runs)", events)
	}
}

// pomelo: session service test #bind "should fail if already binded uid"
func TestPomeloBindFailIfAlreadyBoundUID(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	if err := st.Bind(s.ID(), "py"); err != nil {
		t.Fatal(err)
	}
	err := st.Bind(s.ID(), "test")
	if !errors.Is(err, session.ErrAlreadyBound) {
		t.Fatalf("Bind to another uid: %v, want ErrAlreadyBound", err)
	}
	if s.UID() != "py" {
		t.Fatalf("UID() = %q after failed rebind, want py", s.UID())
	}
}

// pomelo: session service test #bind "should fail if try to bind a session not exist"
func TestPomeloBindFailIfSessionNotExist(t *testing.T) {
	st := session.NewStore(fid)
	err := st.Bind(1, "changchang")
	if !errors.Is(err, session.ErrSessionNotFound) {
		t.Fatalf("Bind of unknown sid: %v, want ErrSessionNotFound", err)
	}
}

// pomelo: session service test #unbind "should fail unbind session if session not exist"
func TestPomeloUnbindFailIfSessionNotExist(t *testing.T) {
	st := session.NewStore(fid)
	err := st.Unbind(1, "py")
	if !errors.Is(err, session.ErrSessionNotFound) {
		t.Fatalf("Unbind of unknown sid: %v, want ErrSessionNotFound", err)
	}
}

// pomelo: session service test #unbind "should fail unbind session if session not binded"
func TestPomeloUnbindFailIfSessionNotBound(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	err := st.Unbind(s.ID(), "py")
	if !errors.Is(err, session.ErrNotBound) {
		t.Fatalf("Unbind of unbound session: %v, want ErrNotBound", err)
	}
}

// pomelo: session service test #unbind "should fail to get session after session unbinded"
func TestPomeloUnbindGetByUIDEmptyAfterUnbind(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	if err := st.Bind(s.ID(), "py"); err != nil {
		t.Fatal(err)
	}
	if err := st.Unbind(s.ID(), "py"); err != nil {
		t.Fatalf("Unbind: %v", err)
	}
	if list := st.GetByUID("py"); len(list) != 0 {
		t.Fatalf("GetByUID after unbind = %v, want none", ids(list))
	}
	if s.UID() != "" {
		t.Fatalf("UID() = %q after unbind, want empty", s.UID())
	}
}

// pomelo: session service test #remove "should not get the session after remove"
// (pomelo's remove is what a closing session does; here that is Session.Close).
func TestPomeloRemoveNotGetSessionAfterRemove(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	if err := st.Bind(s.ID(), "changchang"); err != nil {
		t.Fatal(err)
	}
	s.Close("")
	if got := st.Get(s.ID()); got != nil {
		t.Fatalf("Get after close = session %d, want nil", got.ID())
	}
	if list := st.GetByUID("changchang"); len(list) != 0 {
		t.Fatalf("GetByUID after close = %v, want none", ids(list))
	}
	if st.Len() != 0 {
		t.Fatalf("Len() = %d after close, want 0", st.Len())
	}
}

// pomelo: session service test #import "should update the session with the key/value pair"
func TestPomeloImportUpdateKeyValuePair(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	if err := st.Push(s.ID(), "key-1", mustRaw(t, "value-1")); err != nil {
		t.Fatalf("Push: %v", err)
	}
	var got string
	if ok, err := s.Get("key-1", &got); !ok || err != nil || got != "value-1" {
		t.Fatalf("Get(key-1) = %q, %v, %v; want value-1, true, nil", got, ok, err)
	}
}

// pomelo: session service test #import "should fail if try to update a session not exist"
// (first of the two identical import cases)
func TestPomeloImportFailIfSessionNotExist(t *testing.T) {
	st := session.NewStore(fid)
	err := st.Push(1, "key-1", mustRaw(t, "value-1"))
	if !errors.Is(err, session.ErrSessionNotFound) {
		t.Fatalf("Push to unknown sid: %v, want ErrSessionNotFound", err)
	}
}

// pomelo: session service test #import "should update the session with the key/value pairs"
func TestPomeloImportAllUpdateKeyValuePairs(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	settings := session.Settings{"key-1": mustRaw(t, "value-1"), "key-2": json.RawMessage(`{}`)}
	if err := st.PushAll(s.ID(), settings); err != nil {
		t.Fatalf("PushAll: %v", err)
	}
	var v1 string
	var v2 map[string]any
	if ok, err := s.Get("key-1", &v1); !ok || err != nil || v1 != "value-1" {
		t.Fatalf("Get(key-1) = %q, %v, %v", v1, ok, err)
	}
	if ok, err := s.Get("key-2", &v2); !ok || err != nil || v2 == nil || len(v2) != 0 {
		t.Fatalf("Get(key-2) = %v, %v, %v; want empty object", v2, ok, err)
	}
}

// pomelo: session service test #import "should fail if try to update a session not exist"
// (second of the two identical import cases: the same check, through the handle of a
// session that has since closed)
func TestPomeloImportFailIfSessionNotExistAfterClose(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	s.Close("")
	if err := st.Push(s.ID(), "key-1", mustRaw(t, "value-1")); !errors.Is(err, session.ErrSessionNotFound) {
		t.Fatalf("Push to closed sid: %v, want ErrSessionNotFound", err)
	}
	if err := s.Set("key-1", "value-1"); !errors.Is(err, session.ErrSessionClosed) {
		t.Fatalf("Set on closed session: %v, want ErrSessionClosed", err)
	}
}

// pomelo: session service test #import "should fail if try to update a session not exist"
// (the importAll variant)
func TestPomeloImportAllFailIfSessionNotExist(t *testing.T) {
	st := session.NewStore(fid)
	settings := session.Settings{"key-1": mustRaw(t, "value-1"), "key-2": json.RawMessage(`{}`)}
	err := st.PushAll(1, settings)
	if !errors.Is(err, session.ErrSessionNotFound) {
		t.Fatalf("PushAll to unknown sid: %v, want ErrSessionNotFound", err)
	}
}

// pomelo: session service test #kick "should kick the sessions"
func TestPomeloKickTheSessions(t *testing.T) {
	st := session.NewStore(fid)
	s1, c1 := create(st, nil)
	s2, c2 := create(st, nil)
	closed := 0
	st.OnClosed(func(*session.Session, string) { closed++ })
	for _, s := range []*session.Session{s1, s2} {
		if err := st.Bind(s.ID(), "changchang"); err != nil {
			t.Fatal(err)
		}
	}
	st.KickByUID("changchang", "")
	if st.Get(s1.ID()) != nil || st.Get(s2.ID()) != nil {
		t.Fatal("kicked sessions are still in the store")
	}
	if list := st.GetByUID("changchang"); len(list) != 0 {
		t.Fatalf("GetByUID after kick = %v, want none", ids(list))
	}
	if closed != 2 {
		t.Fatalf("closed hook ran %d times, want 2", closed)
	}
	for _, c := range []*fakeConn{c1, c2} {
		if kicks, closes := c.calls(); !cmp.Equal(kicks, []string{"kick"}) || closes != 1 {
			t.Errorf("conn %d: kicks %q, closes %d; want [kick], 1", c.id, kicks, closes)
		}
	}
}

// pomelo: session service test #kick "should kick the session by sessionId"
func TestPomeloKickTheSessionBySessionID(t *testing.T) {
	st := session.NewStore(fid)
	s1 := st.Create(nil)
	s2 := st.Create(nil)
	closed := 0
	st.OnClosed(func(*session.Session, string) { closed++ })
	for _, s := range []*session.Session{s1, s2} {
		if err := st.Bind(s.ID(), "changchang"); err != nil {
			t.Fatal(err)
		}
	}
	st.KickBySID(s1.ID(), "")
	if st.Get(s1.ID()) != nil {
		t.Fatal("kicked session is still in the store")
	}
	if st.Get(s2.ID()) != s2 {
		t.Fatal("the other session of the uid is gone")
	}
	if got := ids(st.GetByUID("changchang")); !cmp.Equal(got, []session.ID{s2.ID()}) {
		t.Fatalf("GetByUID after kick = %v, want [%d]", got, s2.ID())
	}
	if closed != 1 {
		t.Fatalf("closed hook ran %d times, want 1", closed)
	}
}

// pomelo: session service test #kick "should ok if kick a session not exist" (by uid)
func TestPomeloKickOKIfSessionNotExist(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	st.KickByUID("changchang", "")
	if st.Get(s.ID()) != s || s.Closed() {
		t.Fatal("kicking an unknown uid closed an unrelated session")
	}
}

// pomelo: session service test #kick "should kick session by sid"
func TestPomeloKickSessionBySID(t *testing.T) {
	st := session.NewStore(fid)
	s, c := create(st, nil)
	closed := 0
	st.OnClosed(func(*session.Session, string) { closed++ })
	st.KickBySID(s.ID(), "")
	if st.Get(s.ID()) != nil {
		t.Fatal("kicked session is still in the store")
	}
	if closed != 1 {
		t.Fatalf("closed hook ran %d times, want 1", closed)
	}
	if kicks, closes := c.calls(); len(kicks) != 1 || closes != 1 {
		t.Fatalf("conn: kicks %q, closes %d; want one each", kicks, closes)
	}
}

// pomelo: session service test #kick "should ok if kick a session not exist" (by sid)
func TestPomeloKickBySIDOKIfSessionNotExist(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	st.KickBySID(s.ID()+1, "")
	if st.Get(s.ID()) != s || s.Closed() {
		t.Fatal("kicking an unknown sid closed an unrelated session")
	}
}

// pomelo: session service test #forEachSession "should iterate all created sessions"
func TestPomeloForEachSessionIteratesAllCreated(t *testing.T) {
	st := session.NewStore(fid)
	want := []session.ID{st.Create(nil).ID(), st.Create(nil).ID(), st.Create(nil).ID()}
	var got []session.ID
	st.Range(func(s *session.Session) bool {
		got = append(got, s.ID())
		return true
	})
	if diff := cmp.Diff(want, got, sortIDs); diff != "" {
		t.Fatalf("Range visited (-want +got):\n%s", diff)
	}
	n := 0
	st.Range(func(*session.Session) bool { n++; return false })
	if n != 1 {
		t.Fatalf("Range went on after f returned false: %d calls", n)
	}
}

// pomelo: session service test #forEachBindedSession "should iterate all binded sessions"
func TestPomeloForEachBindedSessionIteratesAllBound(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	st.Create(nil) // not bound: must not be visited
	if err := st.Bind(s.ID(), "py"); err != nil {
		t.Fatal(err)
	}
	var got []string
	st.RangeBound(func(bs *session.Session) bool {
		got = append(got, bs.UID())
		if bs != s {
			t.Errorf("RangeBound visited session %d, want only %d", bs.ID(), s.ID())
		}
		return true
	})
	if !cmp.Equal(got, []string{"py"}) {
		t.Fatalf("RangeBound visited uids %q, want [py]", got)
	}
}

// pomelo: frontend session test #bind "should get session by uid after binded"
func TestPomeloFrontendSessionBind(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	events := 0
	st.OnBind(func(_ *session.Session, uid string) {
		events++
		if uid != "changchang" {
			t.Errorf("bind hook uid %q", uid)
		}
	})
	if err := s.Bind("changchang"); err != nil {
		t.Fatalf("Session.Bind: %v", err)
	}
	if list := st.GetByUID("changchang"); len(list) != 1 || list[0] != s {
		t.Fatalf("GetByUID = %v, want [%d]", ids(list), s.ID())
	}
	if events != 1 {
		t.Fatalf("bind hook ran %d times, want 1", events)
	}
}

// pomelo: frontend session test #unbind "should fail to get session after session unbinded"
func TestPomeloFrontendSessionUnbind(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	if err := s.Bind("py"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unbind("py"); err != nil {
		t.Fatalf("Session.Unbind: %v", err)
	}
	if list := st.GetByUID("py"); len(list) != 0 {
		t.Fatalf("GetByUID after unbind = %v, want none", ids(list))
	}
}

// pomelo: frontend session test #set/get "should update the key/value pair in frontend
// session but not session": changing a snapshot changes nothing in the store.
func TestPomeloFrontendSessionSetGetLocalOnly(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	snap := s.Export()
	snap.Settings = session.Settings{"key-1": mustRaw(t, "value-1")}

	if _, ok := s.Raw("key-1"); ok {
		t.Fatal("setting a key in a snapshot reached the session")
	}
	var got string
	if ok, err := snap.Settings.Get("key-1", &got); !ok || err != nil || got != "value-1" {
		t.Fatalf("snapshot Get(key-1) = %q, %v, %v", got, ok, err)
	}
}

// pomelo: frontend session test #push "should push the specified key/value pair to session"
func TestPomeloFrontendSessionPush(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	snap := s.Export()
	snap.Settings = session.Settings{"key-1": mustRaw(t, "value-1"), "key-2": json.RawMessage(`{}`)}

	if err := st.Push(snap.ID, "key-1", snap.Settings["key-1"]); err != nil {
		t.Fatalf("Push: %v", err)
	}
	if raw, ok := s.Raw("key-1"); !ok || string(raw) != `"value-1"` {
		t.Fatalf("Raw(key-1) = %s, %v; want \"value-1\"", raw, ok)
	}
	if _, ok := s.Raw("key-2"); ok {
		t.Fatal("Push of key-1 also pushed key-2")
	}
}

// pomelo: frontend session test #push "should push all the key/value pairs to session"
func TestPomeloFrontendSessionPushAll(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	snap := s.Export()
	snap.Settings = session.Settings{"key-1": mustRaw(t, "value-1"), "key-2": json.RawMessage(`{}`)}

	if err := st.PushAll(snap.ID, snap.Settings); err != nil {
		t.Fatalf("PushAll: %v", err)
	}
	snap.Revision++ // one change
	if diff := cmp.Diff(snap, s.Export()); diff != "" {
		t.Fatalf("session after PushAll (-snapshot +session):\n%s", diff)
	}
}

// pomelo: frontend session test #export "should equal frontend session after export"
func TestPomeloFrontendSessionExport(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	info := s.Export()
	if info.ID != s.ID() || info.FrontendID != s.FrontendID() || info.FrontendID != fid {
		t.Fatalf("Export() = %+v, want id %d frontend %q", info, s.ID(), fid)
	}
}

var sortIDs = cmp.Transformer("sortIDs", func(in []session.ID) []session.ID {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
})
