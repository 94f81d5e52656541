package runtime_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime"
)

func TestRequireIdentity(t *testing.T) {
	ic := runtime.RequireIdentity("sys.", "backend-1")
	for _, tc := range []struct {
		name   string
		route  string
		peer   *runtime.Peer
		server bool
		want   error
	}{
		{"allowed identity", "sys.sessionRemote.kickBySid", &runtime.Peer{Identity: "backend-1"}, true, nil},
		{"other identity", "sys.sessionRemote.kickBySid", &runtime.Peer{Identity: "player-9"}, true, runtime.ErrPermissionDenied},
		{"no identity", "sys.sessionRemote.push", &runtime.Peer{}, true, runtime.ErrUnauthenticated},
		{"no peer", "sys.sessionRemote.push", nil, true, runtime.ErrUnauthenticated},
		{"route outside the prefix", "game.chat.send", nil, true, nil},
		{"client side", "sys.sessionRemote.push", nil, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.peer != nil {
				ctx = runtime.ContextWithPeer(ctx, tc.peer)
			}
			ran := false
			err := ic(ctx, runtime.CallInfo{Route: tc.route, Server: tc.server}, nil, nil, func(context.Context, any, any) error {
				ran = true
				return nil
			})
			if tc.want == nil {
				if err != nil || !ran {
					t.Fatalf("err = %v, handler ran %v; want the call through", err, ran)
				}
				return
			}
			if !errors.Is(err, tc.want) || ran {
				t.Fatalf("err = %v, handler ran %v; want %v and no handler", err, ran, tc.want)
			}
		})
	}
}

// Through a server: the refusal crosses the wire with its code.
func TestRequireIdentityThroughInProc(t *testing.T) {
	n := runtime.NewInProc()
	srv := runtime.NewServer(runtime.WithInterceptors(runtime.RequireIdentity("bench.", "backend-1")))
	srv.RegisterService(&benchDesc, nil)
	n.Serve("s", srv)
	err := runtime.NewClient(n).Invoke(context.Background(), "s", "bench.svc.bind", &bindArgs{}, nil)
	if !errors.Is(err, runtime.ErrUnauthenticated) || runtime.CodeOf(err) != runtime.Unauthenticated {
		t.Fatalf("in-process call (no identity) = %v, want unauthenticated", err)
	}
}
