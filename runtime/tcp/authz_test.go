package tcp_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	rt "github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
)

// pushService is a system route only backends may call, and a game route
// open to everyone; it records what reached it.
type pushService struct {
	mu     sync.Mutex
	pushes []string // messages pushed, in order
	games  int      // calls of the game route
}

type (
	pushArgs   struct{ A0 string }
	gameResult struct{ R0 string } // the identity the handler saw
)

const (
	routePush = "sys.test.push"
	routeGame = "game.x.y"
)

func (s *pushService) desc() *rt.ServiceDesc {
	return &rt.ServiceDesc{Name: "test", Methods: []rt.MethodDesc{
		{Route: routePush, NewArgs: func() any { return new(pushArgs) },
			Handler: func(ctx context.Context, impl, args, result any) error {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.pushes = append(s.pushes, args.(*pushArgs).A0)
				return nil
			}},
		{Route: routeGame, NewArgs: func() any { return new(noArgs) }, NewResult: func() any { return new(gameResult) },
			Handler: func(ctx context.Context, impl, args, result any) error {
				s.mu.Lock()
				s.games++
				s.mu.Unlock()
				if p, ok := rt.PeerFromContext(ctx); ok {
					result.(*gameResult).R0 = p.Identity
				}
				return nil
			}},
	}}
}

func (s *pushService) state() ([]string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pushes), s.games
}

// seenCall is a call as an interceptor saw it.
type seenCall struct {
	route, identity string
	tls             bool
}

// TestAuthorization serves system and game routes over TCP with TLS that
// verifies client certificates when given, behind
// runtime.RequireIdentity("sys.", "backend-1"): only the client whose
// certificate names backend-1 reaches the system route; a client with
// another valid certificate is denied, one without any is unauthenticated,
// and neither changes anything; everyone reaches the game route; and the
// identity the transport established is what the observer sees.
func TestAuthorization(t *testing.T) {
	pki, other := newPKI(t), newPKI(t)
	svc := &pushService{}
	obs := &peerObserver{}
	srv := rt.NewServer(rt.WithLogger(quiet), rt.WithObserver(obs), rt.WithAdmission(rt.RequireIdentity("sys.", "backend-1")))
	srv.RegisterService(svc.desc(), svc)

	serverTLS := pki.serverConfig()
	serverTLS.ClientAuth = tls.VerifyClientCertIfGiven
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := tcp.NewServer(srv, tcp.WithTLS(serverTLS), tcp.WithLogger(quiet))
	served := make(chan struct{})
	go func() {
		ts.Serve(ln)
		close(served)
	}()
	t.Cleanup(func() {
		ts.Close()
		<-served
	})
	client := func(cfg *tls.Config) *rt.Client {
		tr := tcp.NewTransport(tcp.NewStaticResolver(map[string]string{"s": ln.Addr().String()}), tcp.WithTLS(cfg), tcp.WithLogger(quiet))
		t.Cleanup(func() { tr.Close() })
		return rt.NewClient(tr)
	}
	ctx := ctxFor(t, 10*time.Second)
	push := func(c *rt.Client, msg string) error { return c.Invoke(ctx, "s", routePush, &pushArgs{A0: msg}, nil) }
	game := func(t *testing.T, c *rt.Client, want string) {
		t.Helper()
		var out gameResult
		if err := c.Invoke(ctx, "s", routeGame, &noArgs{}, &out); err != nil {
			t.Fatalf("game route: %v", err)
		}
		if out.R0 != want {
			t.Fatalf("game handler saw identity %q, want %q", out.R0, want)
		}
	}
	unchanged := func(t *testing.T, wantPushes []string, wantGames int) {
		t.Helper()
		pushes, games := svc.state()
		if !slices.Equal(pushes, wantPushes) || games != wantGames {
			t.Fatalf("state = pushes %q, %d game calls; want %q, %d", pushes, games, wantPushes, wantGames)
		}
	}

	t.Run("backend-1 may push", func(t *testing.T) {
		c := client(pki.clientConfig("backend-1"))
		if err := push(c, "from backend"); err != nil {
			t.Fatal(err)
		}
		unchanged(t, []string{"from backend"}, 0)
		game(t, c, "backend-1")
	})
	t.Run("player-7 may not", func(t *testing.T) {
		c := client(pki.clientConfig("player-7"))
		err := push(c, "from player")
		wantCode(t, err, rt.PermissionDenied)
		if !errors.Is(err, rt.ErrPermissionDenied) {
			t.Errorf("%v does not match runtime.ErrPermissionDenied", err)
		}
		unchanged(t, []string{"from backend"}, 1)
		game(t, c, "player-7")
		t.Logf("player-7: %v", err)
	})
	t.Run("no certificate", func(t *testing.T) {
		c := client(pki.clientConfig(""))
		err := push(c, "from nobody")
		wantCode(t, err, rt.Unauthenticated)
		if !errors.Is(err, rt.ErrUnauthenticated) {
			t.Errorf("%v does not match runtime.ErrUnauthenticated", err)
		}
		unchanged(t, []string{"from backend"}, 2)
		game(t, c, "")
		t.Logf("no certificate: %v", err)
	})
	t.Run("backend-1 certified by another CA", func(t *testing.T) {
		cfg := pki.clientConfig("")
		cfg.Certificates = other.clientConfig("backend-1").Certificates
		err := push(client(cfg), "from impostor")
		wantCode(t, err, rt.Unavailable) // the handshake fails
		unchanged(t, []string{"from backend"}, 3)
		t.Logf("impostor: %v", err)
	})

	want := []seenCall{
		{routePush, "backend-1", true}, {routeGame, "backend-1", true},
		{routePush, "player-7", true}, {routeGame, "player-7", true},
		{routePush, "", true}, {routeGame, "", true},
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if !slices.Equal(obs.seen, want) {
		t.Fatalf("observer saw %+v\nwant %+v", obs.seen, want)
	}
}

// peerObserver records every call's route and the identity the transport
// established, refused calls included.
type peerObserver struct {
	mu   sync.Mutex
	seen []seenCall
}

func (o *peerObserver) StartCall(ctx context.Context, _ rt.CallInfo) context.Context { return ctx }

func (o *peerObserver) EndCall(ctx context.Context, info rt.CallInfo, _ rt.CallEnd) {
	c := seenCall{route: info.Route}
	if p, ok := rt.PeerFromContext(ctx); ok {
		c.identity, c.tls = p.Identity, p.TLS != nil
	}
	o.mu.Lock()
	o.seen = append(o.seen, c)
	o.mu.Unlock()
}
