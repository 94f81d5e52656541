package natsrpc_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
)

// BenchmarkRoundTrip compares, on the same embedded NATS server and
// connections, a small echo call
//
//   - natsrpc: through runtime.Client, this transport and runtime.Server, the
//     whole path generated code takes (JSON codec included);
//   - transport: through Transport.RoundTrip and Serve alone, with a
//     dispatcher that echoes the envelope's payload;
//   - nats: the same bytes through plain nats.go request/reply, answered on
//     the subscription's goroutine;
//   - nats-goroutine: the same, answered on a goroutine per request, as
//     natsrpc runs handlers: the floor for a server whose handlers may block.
func BenchmarkRoundTrip(b *testing.B) {
	ns := startNATS(b)
	snc, cnc := connect(b, ns.URL()), connect(b, ns.URL())

	rs := runtime.NewServer(runtime.WithLogger(quiet))
	rs.RegisterService(&runtime.ServiceDesc{Name: "bench", Methods: []runtime.MethodDesc{{
		Route: "bench.echo", NewArgs: newOf[strArgs](), NewResult: newOf[strRes](),
		Handler: func(ctx context.Context, impl, args, result any) error {
			result.(*strRes).R0 = args.(*strArgs).A0
			return nil
		}}}}, nil)
	srv, err := natsrpc.Serve(snc, "bench-1", rs, natsrpc.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	tr := natsrpc.NewTransport(cnc, natsrpc.WithLogger(quiet))
	b.Cleanup(tr.Close)
	client := runtime.NewClient(tr)

	for subject, respond := range map[string]nats.MsgHandler{
		"bench.plain": func(m *nats.Msg) { _ = m.Respond(m.Data) },
		"bench.go":    func(m *nats.Msg) { go m.Respond(m.Data) },
	} {
		sub, err := snc.Subscribe(subject, respond)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = sub.Unsubscribe() })
	}
	plain, _ := json.Marshal(strArgs{A0: "hello"})
	if err := snc.Flush(); err != nil {
		b.Fatal(err)
	}

	// Callers set deadlines: the realistic cost includes them.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	// The transport with as little else as can be: RoundTrip, and a server
	// whose codec passes bytes through and whose handler echoes them.
	rawServer := runtime.NewServer(runtime.WithLogger(quiet), runtime.WithCodec(rawCodec{}))
	rawServer.RegisterService(&runtime.ServiceDesc{Name: "bench", Methods: []runtime.MethodDesc{{
		Route: "bench.echo", NewArgs: newOf[[]byte](), NewResult: newOf[[]byte](),
		Handler: func(ctx context.Context, impl, args, result any) error {
			*result.(*[]byte) = *args.(*[]byte)
			return nil
		}}}}, nil)
	raw, err := natsrpc.Serve(snc, "bench-raw", rawServer, natsrpc.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	transportCall := func() error {
		resp, err := tr.RoundTrip(ctx, "bench-raw", &runtime.Request{Route: "bench.echo", Timeout: time.Hour, Payload: plain})
		if err == nil {
			err = resp.Err()
		}
		return err
	}
	rpcCall := func() error {
		var out strRes
		return client.Invoke(ctx, "bench-1", "bench.echo", &strArgs{A0: "hello"}, &out)
	}
	natsCall := func() error {
		_, err := cnc.RequestWithContext(ctx, "bench.plain", plain)
		return err
	}
	natsGoCall := func() error {
		_, err := cnc.RequestWithContext(ctx, "bench.go", plain)
		return err
	}

	for _, c := range []struct {
		name string
		call func() error
	}{{"natsrpc", rpcCall}, {"transport", transportCall}, {"nats", natsCall}, {"nats-goroutine", natsGoCall}} {
		b.Run(c.name+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/parallel64", func(b *testing.B) {
			b.ReportAllocs()
			parallel(b, 64, c.call)
		})
	}
}

// rawCodec carries *[]byte values as they are.
type rawCodec struct{}

func (rawCodec) Name() string                  { return "raw" }
func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), data...)
	return nil
}

// parallel runs b.N calls from n goroutines.
func parallel(b *testing.B, n int, call func() error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := call(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
