package sessionremote_test

import (
	"context"
	"encoding/json"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// Benchmarks of the backend API through the generated client over the
// in-process transport: the cost the framework adds, codec included.

func BenchmarkGet(b *testing.B) {
	c := newCluster(b)
	s := c.store.Create(&conn{})
	s.Bind("u1")
	s.Set("room", 7)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.svc.Get(ctx, fid, s.ID()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBind(b *testing.B) {
	c := newCluster(b)
	s := c.store.Create(&conn{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		// Bind to the uid the session has: the steady-state path.
		if err := c.svc.Bind(ctx, fid, s.ID(), "u1"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPush(b *testing.B) {
	c := newCluster(b)
	s := c.store.Create(&conn{})
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := c.svc.Push(ctx, fid, s.ID(), "room", i); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetParallel(b *testing.B) {
	c := newCluster(b)
	var ids []uint64
	for i := range 64 {
		s := c.store.Create(&conn{})
		s.Bind("u" + strconv.Itoa(i))
		ids = append(ids, uint64(s.ID()))
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := c.svc.Get(ctx, fid, sessionID(ids[i%len(ids)])); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkServeLargeSessionParallel is the frontend's side of many callers
// reading one session that holds ~900 KiB of settings in 1,000 keys: the
// handler and the encoding of its answer, through the server's call path (Endpoint.Handle). B/op is
// what each read costs the frontend's heap.
func BenchmarkServeLargeSessionParallel(b *testing.B) {
	st := session.NewStore(fid)
	s := st.Create(&conn{})
	s.Bind("u1")
	for i := range 1000 {
		if err := s.Set("key-"+strconv.Itoa(i), strings.Repeat("x", 900)); err != nil {
			b.Fatal(err)
		}
	}
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(st))
	ep := srv.Endpoint()
	for _, req := range []runtime.Request{
		{Route: sessionremote.SessionRemoteGetBackendSessionBySidRoute, Payload: []byte(`{"a0":` + strconv.Itoa(int(s.ID())) + `}`)},
		{Route: sessionremote.SessionRemoteGetBackendSessionsByUidRoute, Payload: []byte(`{"a0":"u1"}`)},
	} {
		b.Run(req.Route[strings.LastIndexByte(req.Route, '.')+1:], func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if resp := ep.Handle(req, nil); resp.Code != runtime.OK {
						b.Error(resp.Err())
						return
					}
				}
			})
		})
	}
}

// BenchmarkWritesTCP is one write of one key by 64 backends at once, each to
// its own session, over TCP on loopback: pomelo's Push and PushAll and their
// conditional forms. cpu-µs/op is the process's CPU time per write, client
// and server together, the steadier figure on a loaded machine.
func BenchmarkWritesTCP(b *testing.B) {
	writes := []struct {
		name  string
		write func(ctx context.Context, bs *sessionremote.BackendSession) error
	}{
		{"Push", func(ctx context.Context, bs *sessionremote.BackendSession) error { return bs.Push(ctx, "room") }},
		{"PushIfUnchanged", func(ctx context.Context, bs *sessionremote.BackendSession) error {
			return bs.PushIfUnchanged(ctx, "room")
		}},
		{"PushAll", func(ctx context.Context, bs *sessionremote.BackendSession) error { return bs.PushAll(ctx) }},
		{"PushAllIfUnchanged", func(ctx context.Context, bs *sessionremote.BackendSession) error { return bs.PushAllIfUnchanged(ctx) }},
	}
	for _, w := range writes {
		b.Run(w.name, func(b *testing.B) {
			network = "tcp"
			defer func() { network = "inproc" }()
			c := newCluster(b)
			ctx := context.Background()
			snapshots := make(chan *sessionremote.BackendSession, 64)
			for range cap(snapshots) {
				s := c.store.Create(&conn{})
				s.Set("name", "player-5678")
				s.Set("level", 42)
				bs, err := c.svc.Get(ctx, fid, s.ID())
				if err != nil {
					b.Fatal(err)
				}
				snapshots <- bs
			}
			b.SetParallelism(max(1, 64/goruntime.GOMAXPROCS(0)))
			b.ReportAllocs()
			b.ResetTimer()
			start := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				bs := <-snapshots
				for i := 0; pb.Next(); i++ {
					bs.Set("room", i)
					if err := w.write(ctx, bs); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(processCPU()-start)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
		})
	}
}

// sizedSession makes a session with n settings, "room" among them, each a
// small JSON value, as a game session holds.
func sizedSession(c *cluster, n int) *session.Session {
	s := c.store.Create(&conn{})
	s.Bind("u1")
	for i := range n - 1 {
		s.Set("key"+strconv.Itoa(i), map[string]any{"level": i, "name": "player <" + strconv.Itoa(i) + ">"})
	}
	s.Set("room", 7)
	return s
}

// BenchmarkPushSetting is SessionRemoteClient.Push of one setting (a
// 50-byte JSON string) into a session of 1, 10 and 100 settings: the
// generated Setting encoding, the call and the store's write.
func BenchmarkPushSetting(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			c := newCluster(b)
			s := sizedSession(c, n)
			value := sessionremote.Setting{JSON: json.RawMessage(`"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"`)}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := c.raw.Push(ctx, fid, s.ID(), "room", value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetBySid is SessionRemoteClient.GetBackendSessionBySid of a
// session of 1, 10 and 100 settings: the answer grows with the session.
func BenchmarkGetBySid(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			c := newCluster(b)
			s := sizedSession(c, n)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				info, err := c.raw.GetBackendSessionBySid(ctx, fid, s.ID())
				if err != nil || len(info.Settings) != n {
					b.Fatal(info, err)
				}
			}
		})
	}
}
