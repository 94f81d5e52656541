package sessionremote_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

const fid = "connector-1"

func sessionID(n uint64) session.ID { return session.ID(n) }

// conn records what the store tells a client connection.
type conn struct {
	mu     sync.Mutex
	kicks  []string
	closes int
}

func (c *conn) Kick(reason string)        { c.mu.Lock(); c.kicks = append(c.kicks, reason); c.mu.Unlock() }
func (c *conn) Close()                    { c.mu.Lock(); c.closes++; c.mu.Unlock() }
func (c *conn) Send(string, []byte) error { return nil }
func (c *conn) state() ([]string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.kicks...), c.closes
}

type cluster struct {
	store *session.Store
	svc   *sessionremote.BackendSessionService
	raw   *sessionremote.SessionRemoteClient
}

// network is the transport newCluster connects backend and frontend with:
// "inproc", or "tcp" and "nats" (real sockets) while TestOverNetworks runs.
var network = "inproc"

func newCluster(t testing.TB, opts ...session.Option) *cluster {
	t.Helper()
	return newClusterWith(t, nil, opts...)
}

// newClusterWith is newCluster with options for the frontend too.
func newClusterWith(t testing.TB, fopts []sessionremote.FrontendOption, opts ...session.Option) *cluster {
	t.Helper()
	store := session.NewStore(fid, opts...)
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store, fopts...))
	client := runtime.NewClient(connect(t, srv))
	return &cluster{store: store, svc: sessionremote.NewBackendSessionService(client), raw: sessionremote.NewSessionRemoteClient(client)}
}

// connect serves srv as frontend fid on the network under test and returns
// the backend's side.
func connect(t testing.TB, srv *runtime.Server) runtime.Transport {
	switch network {
	case "tcp":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ts := tcp.NewServer(srv)
		go ts.Serve(ln)
		tr := tcp.NewTransport(tcp.NewStaticResolver(map[string]string{fid: ln.Addr().String()}))
		t.Cleanup(func() { tr.Close(); ts.Close() })
		return tr
	case "nats":
		ns, err := natsembed.Start()
		if err != nil {
			t.Fatal(err)
		}
		front, err := natsrpc.Connect(ns.URL())
		if err != nil {
			t.Fatal(err)
		}
		back, err := natsrpc.Connect(ns.URL())
		if err != nil {
			t.Fatal(err)
		}
		served, err := natsrpc.Serve(front, fid, srv)
		if err != nil {
			t.Fatal(err)
		}
		tr := natsrpc.NewTransport(back)
		t.Cleanup(func() { tr.Close(); served.Close(); back.Close(); front.Close(); ns.Shutdown() })
		return tr
	}
	n := runtime.NewInProc()
	served, err := n.Serve(fid, srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { served.Close() })
	return n
}

// TestOverNetworks runs the operation table, the pomelo bugs and the model
// through real sockets: TCP, and NATS through an embedded server.
func TestOverNetworks(t *testing.T) {
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Bind", TestBind}, {"BindSingleSession", TestBindSingleSession}, {"Unbind", TestUnbind},
		{"Push", TestPush}, {"PushAllMerges", TestPushAllMerges}, {"GetBySid", TestGetBySid},
		{"GetByUid", TestGetByUid}, {"KickBySid", TestKickBySid}, {"KickByUid", TestKickByUid},
		{"BackendSession", TestBackendSession}, {"ClosedSession", TestBackendSessionOnAClosedSession},
		{"ExportHasEveryField", TestExportHasEveryField},
		{"EmptyUIDRejectedZeroUIDBinds", TestEmptyUIDRejectedZeroUIDBinds},
		{"UnbindLeavesNoStaleUIDIndex", TestUnbindLeavesNoStaleUIDIndex},
		{"EveryCallReturnsOnce", TestEveryCallReturnsOnce}, {"SnapshotsNeverAlias", TestSnapshotsNeverAlias},
		{"UnknownServerFailsAtOnceAndErrorsKeepTheirMessage", TestUnknownServerFailsAtOnceAndErrorsKeepTheirMessage},
		{"SettingsRoundTripLosslessly", TestSettingsRoundTripLosslessly},
		{"PushesOfDifferentKeysDoNotClobber", TestPushesOfDifferentKeysDoNotClobber}, {"Model", TestModelThroughRPC},
		{"SettingsBudget", TestSettingsBudgetThroughRPC}, {"AnswerTooLarge", TestAnswerTooLarge},
		{"Revisions", TestRevisions}, {"StalePushAll", TestPushAllFromAStaleSnapshot},
		{"ConditionalWrites", TestConditionalWrites}, {"RacingBackends", TestRacingBackends},
	}
	for _, n := range []string{"tcp", "nats"} {
		t.Run(n, func(t *testing.T) {
			network = n
			defer func() { network = "inproc" }()
			for _, tc := range tests {
				t.Run(tc.name, tc.fn)
			}
		})
	}
}

func bg(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wantErr(t *testing.T, err, sentinel error, code runtime.Code) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("err = %v, want one matching %v", err, sentinel)
	}
	if got := runtime.CodeOf(err); got != code {
		t.Fatalf("code of %v = %v, want %v", err, got, code)
	}
}

// pomelo's sys.sessionRemote, operation by operation, through the generated
// client over the in-process transport.

func TestBind(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	binds := 0
	c.store.OnBind(func(*session.Session, string) { binds++ })

	wantErr(t, c.svc.Bind(ctx, fid, 999, "u1"), sessionremote.ErrSessionNotFound, runtime.NotFound)
	wantErr(t, c.svc.Bind(ctx, fid, s.ID(), ""), sessionremote.ErrInvalidUID, runtime.InvalidArgument)
	if err := c.svc.Bind(ctx, fid, s.ID(), "u1"); err != nil {
		t.Fatal(err)
	}
	if err := c.svc.Bind(ctx, fid, s.ID(), "u1"); err != nil {
		t.Fatalf("bind to the same uid again: %v", err)
	}
	if binds != 1 {
		t.Errorf("bind hook ran %d times, want 1 (no event for the same uid)", binds)
	}
	wantErr(t, c.svc.Bind(ctx, fid, s.ID(), "u2"), sessionremote.ErrAlreadyBound, runtime.FailedPrecondition)
	if s.UID() != "u1" {
		t.Errorf("uid = %q after a refused bind", s.UID())
	}
}

func TestBindSingleSession(t *testing.T) {
	c := newCluster(t, session.WithSingleSession())
	ctx := bg(t)
	a, b := c.store.Create(&conn{}), c.store.Create(&conn{})
	if err := c.svc.Bind(ctx, fid, a.ID(), "u1"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, c.svc.Bind(ctx, fid, b.ID(), "u1"), sessionremote.ErrSingleSession, runtime.FailedPrecondition)
	if errors.Is(c.svc.Bind(ctx, fid, b.ID(), "u1"), sessionremote.ErrAlreadyBound) {
		t.Error("single-session refusal matches ErrAlreadyBound: the sentinels must be distinct")
	}
}

func TestUnbind(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	var unbound []string
	c.store.OnUnbind(func(_ *session.Session, uid string) { unbound = append(unbound, uid) })

	wantErr(t, c.svc.Unbind(ctx, fid, 999, "u1"), sessionremote.ErrSessionNotFound, runtime.NotFound)
	wantErr(t, c.svc.Unbind(ctx, fid, s.ID(), "u1"), sessionremote.ErrNotBound, runtime.FailedPrecondition)
	c.svc.Bind(ctx, fid, s.ID(), "u1")
	wantErr(t, c.svc.Unbind(ctx, fid, s.ID(), "u2"), sessionremote.ErrNotBound, runtime.FailedPrecondition)
	wantErr(t, c.svc.Unbind(ctx, fid, s.ID(), ""), sessionremote.ErrInvalidUID, runtime.InvalidArgument)
	if err := c.svc.Unbind(ctx, fid, s.ID(), "u1"); err != nil {
		t.Fatal(err)
	}
	if s.UID() != "" || len(c.store.GetByUID("u1")) != 0 {
		t.Errorf("after unbind: uid %q, sessions of u1 %v", s.UID(), c.store.GetByUID("u1"))
	}
	if diff := cmp.Diff([]string{"u1"}, unbound); diff != "" {
		t.Errorf("unbind events (-want +got):\n%s", diff)
	}
}

func TestPush(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	wantErr(t, c.svc.Push(ctx, fid, 999, "k", 1), sessionremote.ErrSessionNotFound, runtime.NotFound)
	if err := c.svc.Push(ctx, fid, s.ID(), "room", 7); err != nil {
		t.Fatal(err)
	}
	var room int
	if ok, err := s.Get("room", &room); !ok || err != nil || room != 7 {
		t.Fatalf("room = %d, %v, %v", room, ok, err)
	}
	// null is a value; only an absent value deletes.
	if err := c.svc.Push(ctx, fid, s.ID(), "room", nil); err != nil {
		t.Fatal(err)
	}
	if raw, ok := s.Raw("room"); !ok || string(raw) != "null" {
		t.Fatalf("after pushing nil: %q, %v; want the value null", raw, ok)
	}
	if err := c.raw.Push(ctx, fid, s.ID(), "room", sessionremote.Setting{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Raw("room"); ok {
		t.Fatal("a push with an absent value did not delete the key")
	}
	s.Set("gone", 1)
	if err := c.svc.Delete(ctx, fid, s.ID(), "gone"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Raw("gone"); ok {
		t.Fatal("Delete did not delete the key")
	}
	if err := c.svc.Delete(ctx, fid, s.ID(), "never-set"); err != nil {
		t.Fatalf("Delete of a key the session lacks: %v", err)
	}
	wantErr(t, c.svc.Delete(ctx, fid, 999, "k"), sessionremote.ErrSessionNotFound, runtime.NotFound)
	wantErr(t, c.svc.Push(ctx, fid, s.ID(), "bad", math.NaN()), sessionremote.ErrInvalidSetting, runtime.InvalidArgument)
}

func TestPushAllMerges(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	s.Set("keep", "me")
	s.Set("over", 1)
	wantErr(t, c.svc.PushAll(ctx, fid, 999, map[string]any{"a": 1}), sessionremote.ErrSessionNotFound, runtime.NotFound)
	if err := c.svc.PushAll(ctx, fid, s.ID(), map[string]any{"over": 2, "new": true}); err != nil {
		t.Fatal(err)
	}
	got := s.Export().Settings
	want := session.Settings{"keep": json.RawMessage(`"me"`), "over": json.RawMessage(`2`), "new": json.RawMessage(`true`)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings after pushAll (-want +got):\n%s", diff)
	}
}

func TestGetBySid(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	s.Bind("u1")
	s.Set("lvl", 3)
	_, err := c.svc.Get(ctx, fid, 999)
	wantErr(t, err, sessionremote.ErrSessionNotFound, runtime.NotFound)

	bs, err := c.svc.Get(ctx, fid, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	want := session.Info{ID: s.ID(), FrontendID: fid, UID: "u1", Revision: 3, Settings: session.Settings{"lvl": json.RawMessage("3")}}
	if diff := cmp.Diff(want, bs.Export()); diff != "" {
		t.Errorf("export (-want +got):\n%s", diff)
	}
}

func TestGetByUid(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	list, err := c.svc.GetByUID(ctx, fid, "nobody")
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("GetByUID(nobody) = %v, %v; want an empty list and no error", list, err)
	}
	a, b := c.store.Create(&conn{}), c.store.Create(&conn{})
	c.store.Create(&conn{}).Bind("other")
	a.Bind("u1")
	b.Bind("u1")
	list, err = c.svc.GetByUID(ctx, fid, "u1")
	if err != nil {
		t.Fatal(err)
	}
	var ids []session.ID
	for _, s := range list {
		ids = append(ids, s.ID())
		if s.UID() != "u1" || s.FrontendID() != fid {
			t.Errorf("session %d: uid %q frontend %q", s.ID(), s.UID(), s.FrontendID())
		}
	}
	if diff := cmp.Diff([]session.ID{a.ID(), b.ID()}, ids); diff != "" {
		t.Errorf("sessions of u1 (-want +got):\n%s", diff)
	}
	_, err = c.svc.GetByUID(ctx, fid, "")
	wantErr(t, err, sessionremote.ErrInvalidUID, runtime.InvalidArgument)
}

func TestKickBySid(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	cn := &conn{}
	s := c.store.Create(cn)
	if err := c.svc.KickBySID(ctx, fid, s.ID(), ""); err != nil {
		t.Fatal(err)
	}
	if err := c.svc.KickBySID(ctx, fid, s.ID(), "again"); err != nil {
		t.Fatalf("second kick: %v (kick is idempotent)", err)
	}
	if err := c.svc.KickBySID(ctx, fid, 999, "x"); err != nil {
		t.Fatalf("kick of an unknown sid: %v, want nil", err)
	}
	kicks, closes := cn.state()
	if diff := cmp.Diff([]string{"kick"}, kicks); diff != "" || closes != 1 {
		t.Errorf("kicks (-want +got):\n%s closes = %d, want 1", diff, closes)
	}
	if c.store.Get(s.ID()) != nil {
		t.Error("kicked session still in the store")
	}
}

func TestKickByUid(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	ca, cb, cother := &conn{}, &conn{}, &conn{}
	c.store.Create(ca).Bind("u1")
	c.store.Create(cb).Bind("u1")
	c.store.Create(cother).Bind("u2")
	if err := c.svc.KickByUID(ctx, fid, "u1", "maintenance"); err != nil {
		t.Fatal(err)
	}
	if err := c.svc.KickByUID(ctx, fid, "nobody", "x"); err != nil {
		t.Fatalf("kick of an unknown uid: %v, want nil", err)
	}
	for name, cn := range map[string]*conn{"a": ca, "b": cb} {
		kicks, closes := cn.state()
		if diff := cmp.Diff([]string{"maintenance"}, kicks); diff != "" || closes != 1 {
			t.Errorf("%s: kicks (-want +got):\n%s closes = %d", name, diff, closes)
		}
	}
	if kicks, closes := cother.state(); len(kicks) != 0 || closes != 0 {
		t.Errorf("another uid's session was kicked: %v %d", kicks, closes)
	}
	if n := c.store.Len(); n != 1 {
		t.Errorf("%d sessions left, want 1", n)
	}
}

// BackendSession, as pomelo's, with its bugs fixed.

func TestBackendSession(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	bs, err := c.svc.Get(ctx, fid, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	if err := bs.Bind(ctx, "user-42"); err != nil || bs.UID() != "user-42" || s.UID() != "user-42" {
		t.Fatalf("Bind: %v; backend uid %q, frontend uid %q", err, bs.UID(), s.UID())
	}
	if err := bs.Bind(ctx, "someone-else"); !errors.Is(err, sessionremote.ErrAlreadyBound) || bs.UID() != "user-42" {
		t.Fatalf("refused Bind changed the local uid to %q (err %v)", bs.UID(), err)
	}

	// Set is local until Push.
	bs.Set("room", 7)
	if _, ok := s.Raw("room"); ok {
		t.Fatal("Set changed the frontend before Push")
	}
	if err := bs.Push(ctx, "room"); err != nil {
		t.Fatal(err)
	}
	var room int
	if ok, _ := s.Get("room", &room); !ok || room != 7 {
		t.Fatalf("frontend room = %d, %v after Push", room, ok)
	}
	// Remove then Push deletes on the frontend.
	bs.Remove("room")
	if err := bs.Push(ctx, "room"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Raw("room"); ok {
		t.Fatal("Push of a removed key did not delete it on the frontend")
	}

	bs.Set("a", 1)
	bs.Set("b", []string{"x"})
	s.Set("frontend-only", true)
	if err := bs.PushAll(ctx); err != nil {
		t.Fatal(err)
	}
	want := session.Settings{"a": json.RawMessage(`1`), "b": json.RawMessage(`["x"]`), "frontend-only": json.RawMessage(`true`)}
	if diff := cmp.Diff(want, s.Export().Settings); diff != "" {
		t.Errorf("frontend settings after PushAll (-want +got):\n%s", diff)
	}

	if err := bs.Unbind(ctx, "user-42"); err != nil || bs.UID() != "" || s.UID() != "" {
		t.Fatalf("Unbind: %v; backend uid %q, frontend uid %q", err, bs.UID(), s.UID())
	}
}

func TestBackendSessionOnAClosedSession(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	bs, err := c.svc.Get(ctx, fid, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	s.Close("bye")
	bs.Set("k", 1)
	wantErr(t, bs.Push(ctx, "k"), sessionremote.ErrSessionNotFound, runtime.NotFound)
	wantErr(t, bs.Bind(ctx, "u"), sessionremote.ErrSessionNotFound, runtime.NotFound)
	if bs.UID() != "" {
		t.Errorf("failed Bind set the local uid to %q", bs.UID())
	}
}
