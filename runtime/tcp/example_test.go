package tcp_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
)

// A frontend serves its services over TCP; a backend reaches it by server
// id. Generated clients take the runtime.Client in place of the hand-written
// Invoke below, e.g. NewSessionRemoteClient(client).Bind(ctx, "connector-1", sid, uid).
func Example() {
	// Frontend: the services, then the TCP server in front of them.
	services := runtime.NewServer()
	services.RegisterService(&runtime.ServiceDesc{Name: "demo.greeter", Methods: []runtime.MethodDesc{{
		Route:     "demo.greeter.hello",
		NewArgs:   func() any { return new(struct{ A0 string }) },
		NewResult: func() any { return new(struct{ R0 string }) },
		Handler: func(ctx context.Context, impl, args, result any) error {
			result.(*struct{ R0 string }).R0 = "hello, " + args.(*struct{ A0 string }).A0
			return nil
		},
	}}}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := tcp.NewServer(services)
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	// Backend: server ids resolve to addresses; one Transport for them all.
	resolver := tcp.NewStaticResolver(map[string]string{"connector-1": ln.Addr().String()})
	tr := tcp.NewTransport(resolver)
	defer tr.Close()
	client := runtime.NewClient(tr)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out struct{ R0 string }
	if err := client.Invoke(ctx, "connector-1", "demo.greeter.hello", &struct{ A0 string }{"backend"}, &out); err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.R0)
	// Output: hello, backend
}

// Servers join and leave the cluster: the resolver changes while calls run.
func ExampleStaticResolver() {
	var r tcp.StaticResolver
	r.Set("connector-1", "10.0.0.7:3150")
	r.Set("connector-2", "10.0.0.8:3150")
	r.Delete("connector-2") // calls to it now fail with Unavailable at once

	_, err := r.Resolve(context.Background(), "connector-2")
	fmt.Println(runtime.CodeOf(err))
	// Output: unavailable
}

// Mutual TLS: the server verifies client certificates against its CA and
// handlers see the client certificate's common name as the peer's identity.
func ExampleWithTLS() {
	var (
		serverCert, clientCert tls.Certificate // issued by your CA
		caPool                 = mustCAPool()  // holds your CA
	)
	srv := tcp.NewServer(runtime.NewServer(), tcp.WithTLS(&tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    caPool,
	}))
	tr := tcp.NewTransport(tcp.NewStaticResolver(nil), tcp.WithTLS(&tls.Config{
		Certificates: []tls.Certificate{clientCert},
		RootCAs:      caPool,
	}))
	// In a handler: p, _ := runtime.PeerFromContext(ctx); p.Identity is the CN.
	_, _ = srv, tr
}

func mustCAPool() *x509.CertPool { return x509.NewCertPool() }
