package natsrpc_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
)

// greeter stands in for a generated service: rpcgen writes the
// ServiceDesc, the typed client and the Register function.
var greeter = &runtime.ServiceDesc{Name: "demo.greeter", Methods: []runtime.MethodDesc{{
	Route:     "demo.greeter.hello",
	NewArgs:   func() any { return new(struct{ A0 string }) },
	NewResult: func() any { return new(struct{ R0 string }) },
	Handler: func(ctx context.Context, impl, args, result any) error {
		result.(*struct{ R0 string }).R0 = "hello, " + args.(*struct{ A0 string }).A0
		return nil
	},
}}}

// A frontend serves its runtime.Server under its server id; a backend
// calls it by that id through a Transport. Here both run in one process
// against an embedded NATS; in production each connects to the NATS
// cluster with natsrpc.Connect.
func Example() {
	ns, err := natsembed.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Shutdown()

	// Frontend.
	fnc, err := natsrpc.Connect(ns.URL())
	if err != nil {
		log.Fatal(err)
	}
	defer fnc.Close()
	srv := runtime.NewServer()
	srv.RegisterService(greeter, nil)
	frontend, err := natsrpc.Serve(fnc, "connector-1", srv)
	if err != nil {
		log.Fatal(err)
	}
	defer frontend.Shutdown(context.Background())

	// Backend.
	bnc, err := natsrpc.Connect(ns.URL())
	if err != nil {
		log.Fatal(err)
	}
	defer bnc.Close()
	tr := natsrpc.NewTransport(bnc)
	defer tr.Close()
	client := runtime.NewClient(tr)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out struct{ R0 string }
	if err := client.Invoke(ctx, "connector-1", "demo.greeter.hello", &struct{ A0 string }{"backend-1"}, &out); err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.R0)

	err = client.Invoke(ctx, "connector-2", "demo.greeter.hello", &struct{ A0 string }{"backend-1"}, &out)
	fmt.Println(runtime.CodeOf(err))
	// Output:
	// hello, backend-1
	// unavailable
}

// Connection settings are nats.go options, passed through unchanged: a
// credentials file (NATS JWT + NKey seed), or user and password, a token,
// an NKey, and TLS with a client certificate.
func ExampleConnect() {
	nc, err := natsrpc.Connect("tls://nats-1.internal:4222,tls://nats-2.internal:4222",
		nats.UserCredentials("/etc/sessionrpc/backend.creds"),
		nats.RootCAs("/etc/sessionrpc/ca.pem"),
		nats.ClientCert("/etc/sessionrpc/backend.pem", "/etc/sessionrpc/backend-key.pem"),
		nats.Secure(&tls.Config{MinVersion: tls.VersionTLS13}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	client := runtime.NewClient(natsrpc.NewTransport(nc))
	_ = client
}

// Several clusters, or environments, can share one NATS: each uses its own
// subject prefix, on both sides.
func ExampleWithSubjectPrefix() {
	nc, err := natsrpc.Connect(nats.DefaultURL, nats.UserInfo("game", "secret"))
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	tr := natsrpc.NewTransport(nc, natsrpc.WithSubjectPrefix("staging.game1"))
	defer tr.Close()
	srv, err := natsrpc.Serve(nc, "connector-1", runtime.NewServer(),
		natsrpc.WithSubjectPrefix("staging.game1"), natsrpc.WithMaxConcurrentCalls(10000))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
}
