package sessionremote_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rpc "github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// A push or pushAll that would take a session's settings past the store's
// budget fails ResourceExhausted (ErrSettingsBudget, across the wire) and
// changes nothing; the session stays readable. Before, every push succeeded
// until the session no longer fit in an answer and could never be read again.
func TestSettingsBudgetThroughRPC(t *testing.T) {
	// {"a":"<20 x>"} takes 28 bytes; adding "b":"<10 x>" would take 45.
	c := newCluster(t, session.WithSettingsBudget(40))
	ctx := bg(t)
	s := c.store.Create(&conn{})
	if err := c.svc.Push(ctx, fid, s.ID(), "a", strings.Repeat("x", 20)); err != nil {
		t.Fatal(err)
	}
	before := s.Export()
	b := strings.Repeat("x", 10)
	wantErr(t, c.svc.Push(ctx, fid, s.ID(), "b", b), sessionremote.ErrSettingsBudget, rpc.ResourceExhausted)
	wantErr(t, c.svc.PushAll(ctx, fid, s.ID(), map[string]any{"b": b}), sessionremote.ErrSettingsBudget, rpc.ResourceExhausted)
	bs, err := c.svc.Get(ctx, fid, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	bs.Set("b", b)
	wantErr(t, bs.Push(ctx, "b"), sessionremote.ErrSettingsBudget, rpc.ResourceExhausted)
	wantErr(t, bs.PushAll(ctx), sessionremote.ErrSettingsBudget, rpc.ResourceExhausted)
	if diff := cmp.Diff(before, s.Export()); diff != "" {
		t.Fatalf("refused pushes changed the session (-before +after):\n%s", diff)
	}
	bs.Remove("a")
	if err := bs.Push(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := bs.PushAll(ctx); err != nil {
		t.Fatalf("the same pushAll once it fits: %v", err)
	}
}

// An answer to getBackendSessionsByUid (or getBackendSessionBySid) larger
// than the frontend's payload limit fails ResourceExhausted naming the uid
// (or sid), with ErrAnswerTooLarge, before it is encoded; an answer of the
// limit exactly is sent. The frontend's measure of an answer is its exact
// encoded size, escapes included.
func TestAnswerTooLarge(t *testing.T) {
	const uid = `u<&>é"`
	populate := func(st *session.Store) (sid session.ID) {
		for i := range 3 {
			s := st.Create(&conn{})
			if err := s.Bind(uid); err != nil {
				t.Fatal(err)
			}
			if err := s.Set("k<"+fmt.Sprint(i), strings.Repeat("é&", 100*(i+1))); err != nil {
				t.Fatal(err)
			}
			sid = s.ID()
		}
		return sid
	}
	probe := session.NewStore(fid)
	sid := populate(probe)
	byUID := answerSize(t, probe, sessionremote.SessionRemoteGetBackendSessionsByUidRoute, fmt.Sprintf(`{"a0":%q}`, uid))
	bySID := answerSize(t, probe, sessionremote.SessionRemoteGetBackendSessionBySidRoute, fmt.Sprintf(`{"a0":%d}`, sid))

	ctx := bg(t)
	c := newClusterWith(t, []sessionremote.FrontendOption{sessionremote.WithMaxPayload(byUID)})
	populate(c.store)
	if list, err := c.svc.GetByUID(ctx, fid, uid); err != nil || len(list) != 3 {
		t.Fatalf("GetByUID with the limit at the answer's size = %d sessions, %v", len(list), err)
	}

	c = newClusterWith(t, []sessionremote.FrontendOption{sessionremote.WithMaxPayload(byUID - 1)})
	populate(c.store)
	_, err := c.svc.GetByUID(ctx, fid, uid)
	wantErr(t, err, sessionremote.ErrAnswerTooLarge, rpc.ResourceExhausted)
	if !strings.Contains(err.Error(), fmt.Sprintf("uid %q", uid)) {
		t.Fatalf("error %q does not name the uid", err)
	}
	if _, err := c.svc.Get(ctx, fid, sid); err != nil {
		t.Fatalf("a smaller answer under the same limit: %v", err)
	}

	c = newClusterWith(t, []sessionremote.FrontendOption{sessionremote.WithMaxPayload(bySID - 1)})
	populate(c.store)
	_, err = c.svc.Get(ctx, fid, sid)
	wantErr(t, err, sessionremote.ErrAnswerTooLarge, rpc.ResourceExhausted)
	if !strings.Contains(err.Error(), fmt.Sprintf("sid %d", sid)) {
		t.Fatalf("error %q does not name the sid", err)
	}
}

// answerSize returns the length of the result route sends for args, as the
// runtime encodes it.
func answerSize(t *testing.T, st *session.Store, route, args string) int {
	t.Helper()
	srv := rpc.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(st, sessionremote.WithMaxPayload(1<<30)))
	resp := srv.Endpoint().Handle(rpc.Request{Route: route, Payload: []byte(args)}, nil)
	if err := resp.Err(); err != nil {
		t.Fatal(err)
	}
	return len(resp.Payload)
}

// With the default settings budget, a session whose settings are full still
// travels in one message of a NATS server's default max_payload (1 MiB): it
// can be pushed, read by sid and read by uid over NATS, and one more byte is
// refused.
func TestFullSessionFitsInOneNATSMessage(t *testing.T) {
	network = "nats"
	defer func() { network = "inproc" }()
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	uid := strings.Repeat("u", 64)
	if err := c.svc.Bind(ctx, fid, s.ID(), uid); err != nil {
		t.Fatal(err)
	}
	// {"big":"x…"} takes the string's length plus 10 bytes.
	full := strings.Repeat("x", session.DefaultSettingsBudget-10)
	if err := c.svc.Push(ctx, fid, s.ID(), "big", full); err != nil {
		t.Fatalf("push of a value that fills the budget: %v", err)
	}
	if got := s.Export().Settings.EncodedSize(); got != session.DefaultSettingsBudget {
		t.Fatalf("settings take %d bytes, want the budget, %d", got, session.DefaultSettingsBudget)
	}
	bs, err := c.svc.Get(ctx, fid, s.ID())
	if err != nil {
		t.Fatalf("get of a full session over NATS: %v", err)
	}
	var got string
	if ok, err := bs.Get("big", &got); !ok || err != nil || got != full {
		t.Fatalf("big setting read back: %d bytes, %v, %v", len(got), ok, err)
	}
	if list, err := c.svc.GetByUID(ctx, fid, uid); err != nil || len(list) != 1 {
		t.Fatalf("getByUid of a full session over NATS = %d sessions, %v", len(list), err)
	}
	wantErr(t, c.svc.Push(ctx, fid, s.ID(), "big", full+"x"), sessionremote.ErrSettingsBudget, rpc.ResourceExhausted)
}

// Reading a session through sys.sessionRemote copies none of its settings:
// the answer is encoded from the store's shared snapshot. Before, every read
// cloned the settings under the session's lock, so a flood of small requests
// for a session with 1 MiB of settings held a copy per request.
func TestReadsDoNotCopySettings(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(&conn{})
	if err := s.Bind("u"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("big", strings.Repeat("x", 512<<10)); err != nil {
		t.Fatal(err)
	}
	f := sessionremote.NewFrontend(st)
	ctx := context.Background()
	const reads = 50
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range reads {
		if _, err := f.GetBackendSessionBySid(ctx, s.ID()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.GetBackendSessionsByUid(ctx, "u"); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / reads; per > 4<<10 {
		t.Fatalf("reading a session with 512 KiB of settings allocates %d bytes per read: it copies them", per)
	}
}

// A read whose caller has gone (its context is done) builds no answer.
func TestReadsForAGoneCaller(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(&conn{})
	if err := s.Bind("u"); err != nil {
		t.Fatal(err)
	}
	f := sessionremote.NewFrontend(st)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if info, err := f.GetBackendSessionBySid(ctx, s.ID()); !errors.Is(err, context.Canceled) || info != nil {
		t.Fatalf("GetBackendSessionBySid after cancel = %v, %v; want Canceled", info, err)
	}
	if list, err := f.GetBackendSessionsByUid(ctx, "u"); !errors.Is(err, context.Canceled) || list != nil {
		t.Fatalf("GetBackendSessionsByUid after cancel = %v, %v; want Canceled", list, err)
	}
}
