package tcp_test

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	rt "github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
)

func TestMutualTLSIdentity(t *testing.T) {
	pki := newPKI(t)
	f := start(t, []tcp.ServerOption{tcp.WithTLS(pki.serverConfig())}, []tcp.TransportOption{tcp.WithTLS(pki.clientConfig("backend-7"))})
	var out peerResult
	if err := f.client.Invoke(ctxFor(t, 5*time.Second), "s", routePeer, &noArgs{}, &out); err != nil {
		t.Fatal(err)
	}
	if out.R0 != "backend-7" {
		t.Errorf("handler saw identity %q, want the client certificate's CN %q", out.R0, "backend-7")
	}
	if !out.R1 {
		t.Error("handler saw no TLS state")
	}
	if !strings.HasPrefix(out.R2, "127.0.0.1:") {
		t.Errorf("handler saw address %q", out.R2)
	}
}

func TestPlainPeerHasNoIdentity(t *testing.T) {
	f := start(t, nil, nil)
	var out peerResult
	if err := f.client.Invoke(ctxFor(t, 5*time.Second), "s", routePeer, &noArgs{}, &out); err != nil {
		t.Fatal(err)
	}
	if out.R0 != "" || out.R1 || !strings.HasPrefix(out.R2, "127.0.0.1:") {
		t.Fatalf("plain TCP peer = %+v, want an address only", out)
	}
}

// TestMutualTLSRefuses checks that clients the server cannot verify never
// reach a handler, and that their calls fail with Unavailable.
func TestMutualTLSRefuses(t *testing.T) {
	pki, other := newPKI(t), newPKI(t)
	for _, c := range []struct {
		name   string
		client *tls.Config // nil: no TLS at all
	}{
		{"no client certificate", pki.clientConfig("")},
		{"certificate of another CA", func() *tls.Config {
			cfg := pki.clientConfig("")
			cfg.Certificates = other.clientConfig("intruder").Certificates
			return cfg
		}()},
		{"server not trusted", other.clientConfig("backend-7")},
		{"plain TCP", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var clientOpts []tcp.TransportOption
			if c.client != nil {
				clientOpts = append(clientOpts, tcp.WithTLS(c.client))
			}
			f := start(t, []tcp.ServerOption{tcp.WithTLS(pki.serverConfig())}, clientOpts)
			start := time.Now()
			err := echo(ctxFor(t, time.Minute), f.client, "let me in")
			wantCode(t, err, rt.Unavailable)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("refusal took %v", d)
			}
			if n := f.svc.calls.Load(); n != 0 {
				t.Fatalf("%d calls reached the handler", n)
			}
			t.Logf("refused with: %v", err)
		})
	}
}
