package tcp_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"testing"

	rt "github.com/sessionrpc/sessionrpc/runtime"
)

func echoOnce(ctx context.Context, c *rt.Client) error {
	var out echoResult
	return c.Invoke(ctx, "s", routeEcho, &echoArgs{A0: "hello"}, &out)
}

// BenchmarkSerial is the latency of one call at a time, client and server
// in one process over loopback.
func BenchmarkSerial(b *testing.B) {
	c := start(b, nil, nil).client
	ctx := context.Background()
	if err := echoOnce(ctx, c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := echoOnce(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParallel64 is the throughput of 64 concurrent callers sharing a
// Transport (so one connection).
func BenchmarkParallel64(b *testing.B) {
	c := start(b, nil, nil).client
	ctx := context.Background()
	if err := echoOnce(ctx, c); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := echoOnce(ctx, c); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkNoNetwork is the same call with the transport replaced by direct
// envelope encoding and dispatch: what the runtime and the JSON codec cost
// without any transport, for comparison.
func BenchmarkNoNetwork(b *testing.B) {
	c := rt.NewClient(newDirect(newService().server()))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := echoOnce(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

type direct struct{ ep *rt.Endpoint }

func newDirect(s *rt.Server) direct { return direct{s.Endpoint()} }

func (d direct) RoundTrip(ctx context.Context, _ string, req *rt.Request) (rt.Response, error) {
	var buf [256]byte
	var c rt.Call
	resp, ok := d.ep.Begin(&c, rt.AppendRequest(buf[:0], req), nil, nil)
	if ok {
		resp = d.ep.Serve(&c)
		d.ep.Done(&c)
	}
	resp, err := rt.ParseResponse(rt.AppendResponse(buf[:0], &resp))
	resp.Payload = bytes.Clone(resp.Payload) // the caller's, not the buffer's
	return resp, err
}

// BenchmarkRawPingPong is the floor for BenchmarkSerial: a blocking
// write and read of a length-prefixed 32-byte message and its echo over
// loopback, no framework.
func BenchmarkRawPingPong(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 36)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 36)
	binary.BigEndian.PutUint32(msg, 32)
	in := make([]byte, 36)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, in); err != nil {
			b.Fatal(err)
		}
	}
}
