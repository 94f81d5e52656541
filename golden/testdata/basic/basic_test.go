package basic

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sessionrpc/sessionrpc/golden/testdata/internal/session"
	"github.com/sessionrpc/sessionrpc/runtime"
)

var errNoSession = runtime.NewError(runtime.NotFound, "no such session")

// frontend is a SessionRemote over a map; one goroutine at a time is enough
// for this test.
type frontend struct {
	sessions map[session.ID]*session.Info
	kicked   map[session.ID]string
}

func (f *frontend) Bind(ctx context.Context, sid session.ID, uid string) error {
	s, ok := f.sessions[sid]
	if !ok {
		return fmt.Errorf("%w: %d", errNoSession, sid)
	}
	s.UID = uid
	return nil
}

func (f *frontend) GetBackendSessionBySid(ctx context.Context, sid session.ID) (*session.Info, error) {
	s, ok := f.sessions[sid]
	if !ok {
		return nil, errNoSession
	}
	return s, nil
}

func (f *frontend) GetBackendSessionsByUid(ctx context.Context, uid string) ([]session.Info, error) {
	var out []session.Info
	for id := range session.ID(10) {
		if s, ok := f.sessions[id]; ok && s.UID == uid {
			out = append(out, *s)
		}
	}
	return out, nil
}

func (f *frontend) KickBySid(ctx context.Context, sid session.ID, reason string) error {
	f.kicked[sid] = reason
	return nil
}

func (f *frontend) PushAll(ctx context.Context, sid session.ID, settings map[string]string) error {
	f.sessions[sid].Settings = settings
	return nil
}

// TestRoundTrip calls every generated stub through the in-process transport.
func TestRoundTrip(t *testing.T) {
	f := &frontend{sessions: map[session.ID]*session.Info{1: {ID: 1}, 2: {ID: 2}}, kicked: map[session.ID]string{}}
	srv := runtime.NewServer()
	RegisterSessionRemoteServer(srv, f)
	net := runtime.NewInProc()
	if _, err := net.Serve("connector-1", srv); err != nil {
		t.Fatal(err)
	}
	c := NewSessionRemoteClient(runtime.NewClient(net))
	ctx := context.Background()

	if err := c.Bind(ctx, "connector-1", 1, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := c.Bind(ctx, "connector-1", 9, "bob"); !errors.Is(err, errNoSession) || runtime.CodeOf(err) != runtime.NotFound {
		t.Fatalf("Bind(9) = %v, want %v", err, errNoSession)
	}
	info, err := c.GetBackendSessionBySid(ctx, "connector-1", 1)
	if err != nil || info.UID != "alice" || info.ID != 1 {
		t.Fatalf("GetBackendSessionBySid = %+v, %v", info, err)
	}
	infos, err := c.GetBackendSessionsByUid(ctx, "connector-1", "alice")
	if err != nil || len(infos) != 1 || infos[0].ID != 1 {
		t.Fatalf("GetBackendSessionsByUid = %+v, %v", infos, err)
	}

	p := NewSessionProxy(c, "connector-1", 2)
	if err := p.Bind(ctx, "carol"); err != nil {
		t.Fatal(err)
	}
	if err := p.PushAll(ctx, map[string]string{"room": "7"}); err != nil {
		t.Fatal(err)
	}
	info, err = p.GetBackendSessionBySid(ctx)
	if err != nil || info.UID != "carol" || info.Settings["room"] != "7" {
		t.Fatalf("proxy GetBackendSessionBySid = %+v, %v", info, err)
	}
	if err := p.KickBySid(ctx, "bye"); err != nil || f.kicked[2] != "bye" {
		t.Fatalf("KickBySid: %v, kicked %v", err, f.kicked)
	}
	if _, err := c.GetBackendSessionBySid(ctx, "connector-2", 1); runtime.CodeOf(err) != runtime.Unavailable {
		t.Fatalf("call to an unknown server: %v, want Unavailable", err)
	}
	if got, want := SessionRemoteGetBackendSessionBySidRoute, "sys.sessionRemote.getBackendSessionBySid"; got != want {
		t.Errorf("route %q, want %q", got, want)
	}
}
