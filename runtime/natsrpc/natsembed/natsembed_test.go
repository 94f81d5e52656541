package natsembed_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
)

func TestStart(t *testing.T) {
	s, err := natsembed.Start(natsembed.WithMaxPayload(4096))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	if !strings.HasPrefix(s.URL(), "nats://127.0.0.1:") {
		t.Fatalf("URL = %q, want loopback", s.URL())
	}
	nc, err := nats.Connect(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if got := nc.MaxPayload(); got != 4096 {
		t.Fatalf("max payload = %d, want 4096", got)
	}
	s.Shutdown()
	if _, err := nats.Connect(s.URL(), nats.Timeout(time.Second)); err == nil {
		t.Fatal("connected to a server that was shut down")
	}
}

func TestTwoServersDoNotCollide(t *testing.T) {
	a, err := natsembed.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	b, err := natsembed.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Shutdown()
	if a.URL() == b.URL() {
		t.Fatalf("both servers at %s", a.URL())
	}
}

// A message published on one node reaches a subscriber on every other.
func TestStartCluster(t *testing.T) {
	nodes, err := natsembed.StartCluster(3)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, n := range nodes {
			n.Shutdown()
		}
	}()
	if len(nodes) != 3 {
		t.Fatalf("%d nodes, want 3", len(nodes))
	}
	for _, n := range nodes {
		if got := n.NATS().NumRemotes(); got != 2 {
			t.Fatalf("%s has %d routes, want 2", n.NATS().Name(), got)
		}
	}
	if got := strings.Count(natsembed.URLs(nodes), ","); got != 2 {
		t.Fatalf("URLs = %q", natsembed.URLs(nodes))
	}

	sub, err := nats.Connect(nodes[0].URL())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := sub.Subscribe("echo", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[1:] {
		pub, err := nats.Connect(n.URL())
		if err != nil {
			t.Fatal(err)
		}
		var got *nats.Msg
		deadline := time.Now().Add(5 * time.Second)
		for got == nil && time.Now().Before(deadline) {
			got, err = pub.Request("echo", []byte("hi"), time.Second)
			if err != nil {
				time.Sleep(10 * time.Millisecond) // interest still propagating
			}
		}
		pub.Close()
		if got == nil || string(got.Data) != "hi" {
			t.Fatalf("request from %s across the cluster: %v", n.NATS().Name(), err)
		}
	}
}

func TestStartClusterRejectsZero(t *testing.T) {
	if _, err := natsembed.StartCluster(0); err == nil {
		t.Fatal("StartCluster(0) succeeded")
	}
}

// Clients must bring the credentials the server was started with.
func TestAuthOptions(t *testing.T) {
	for name, c := range map[string]struct {
		opt   natsembed.Option
		good  nats.Option
		wrong nats.Option
	}{
		"user and password": {natsembed.WithUserPassword("u", "p"), nats.UserInfo("u", "p"), nats.UserInfo("u", "x")},
		"token":             {natsembed.WithToken("t"), nats.Token("t"), nats.Token("x")},
		"users": {natsembed.WithUsers(&server.User{Username: "a", Password: "pa"}, &server.User{Username: "b", Password: "pb"}),
			nats.UserInfo("b", "pb"), nats.UserInfo("a", "pb")},
	} {
		s, err := natsembed.Start(c.opt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		nc, err := nats.Connect(s.URL(), c.good)
		if err != nil {
			t.Errorf("%s: with credentials: %v", name, err)
		} else {
			nc.Close()
		}
		for _, opts := range [][]nats.Option{nil, {c.wrong}} {
			if _, err := nats.Connect(s.URL(), opts...); !errors.Is(err, nats.ErrAuthorization) {
				t.Errorf("%s: without the right credentials: %v, want nats.ErrAuthorization", name, err)
			}
		}
		s.Shutdown()
	}
}

// WithHost and WithPort decide where clients connect.
func TestWithHostAndPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // free again for the server
	s, err := natsembed.Start(natsembed.WithHost("127.0.0.1"), natsembed.WithPort(port))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	if want := fmt.Sprintf("nats://127.0.0.1:%d", port); s.URL() != want {
		t.Fatalf("URL() = %q, want %q", s.URL(), want)
	}
	nc, err := nats.Connect(s.URL())
	if err != nil {
		t.Fatalf("connect to %s: %v", s.URL(), err)
	}
	nc.Close()
}

// Without WithJetStream the server has none; with it, a key-value bucket
// whose keys expire (a bucket-wide MaxAge with LimitMarkerTTL, what a
// membership or session index on JetStream would use) works, its watcher
// sees the expiry, and Shutdown removes the temporary store.
func TestJetStream(t *testing.T) {
	plain, err := natsembed.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Shutdown()
	if plain.NATS().JetStreamEnabled() {
		t.Fatal("JetStream on without WithJetStream")
	}

	s, err := natsembed.Start(natsembed.WithJetStream())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	store := s.NATS().StoreDir()
	if _, err := os.Stat(store); err != nil {
		t.Fatalf("store directory: %v", err)
	}
	nc, err := nats.Connect(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, storage := range []jetstream.StorageType{jetstream.MemoryStorage, jetstream.FileStorage} {
		kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: "expiring-" + storage.String(), Storage: storage,
			TTL: time.Second, LimitMarkerTTL: time.Second,
		})
		if err != nil {
			t.Fatalf("%v bucket: %v", storage, err)
		}
		w, err := kv.Watch(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var ops []jetstream.KeyValueOp
	watch:
		for {
			select {
			case e := <-w.Updates():
				if e == nil {
					continue // end of the initial values
				}
				ops = append(ops, e.Operation())
				if e.Operation() != jetstream.KeyValuePut {
					break watch
				}
			case <-ctx.Done():
				t.Fatalf("%v bucket: no expiry seen; ops %v", storage, ops)
			}
		}
		t.Logf("%v bucket: %v, the expiry seen %v after the put", storage, ops, time.Since(start).Round(time.Millisecond))
		_ = w.Stop()
	}
	s.Shutdown()
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Fatalf("store %s left behind: %v", store, err)
	}
}

// A clustered JetStream takes a replicated bucket as soon as StartCluster
// returns.
func TestJetStreamCluster(t *testing.T) {
	nodes, err := natsembed.StartCluster(3, natsembed.WithJetStream())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, n := range nodes {
			n.Shutdown()
		}
	}()
	nc, err := nats.Connect(natsembed.URLs(nodes))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "replicated", Replicas: 3, Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "k")
	if err != nil || string(e.Value()) != "v" {
		t.Fatalf("get: %v %v", e, err)
	}
}
