package runtime_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime"
)

func TestRequireIdentity(t *testing.T) {
	admit := runtime.RequireIdentity("sys.", "backend-1")
	for _, tc := range []struct {
		name  string
		route string
		peer  *runtime.Peer
		want  error
	}{
		{"allowed identity", "sys.sessionRemote.kickBySid", &runtime.Peer{Identity: "backend-1"}, nil},
		{"other identity", "sys.sessionRemote.kickBySid", &runtime.Peer{Identity: "player-9"}, runtime.ErrPermissionDenied},
		{"no identity", "sys.sessionRemote.push", &runtime.Peer{}, runtime.ErrUnauthenticated},
		{"no peer", "sys.sessionRemote.push", nil, runtime.ErrUnauthenticated},
		{"route outside the prefix", "game.chat.send", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := admit(context.Background(), runtime.CallInfo{Route: tc.route, Server: true, Peer: tc.peer})
			if tc.want == nil {
				if err != nil {
					t.Fatalf("err = %v; want the call through", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v; want %v", err, tc.want)
			}
		})
	}
}

// Through a server: the refusal crosses the wire with its code.
func TestRequireIdentityThroughInProc(t *testing.T) {
	n := runtime.NewInProc()
	srv := runtime.NewServer(runtime.WithAdmission(runtime.RequireIdentity("bench.", "backend-1")))
	srv.RegisterService(&benchDesc, nil)
	if _, err := n.Serve("s", srv); err != nil {
		t.Fatal(err)
	}
	err := runtime.NewClient(n).Invoke(context.Background(), "s", "bench.svc.bind", &bindArgs{}, nil)
	if !errors.Is(err, runtime.ErrUnauthenticated) || runtime.CodeOf(err) != runtime.Unauthenticated {
		t.Fatalf("in-process call (no identity) = %v, want unauthenticated", err)
	}
}
