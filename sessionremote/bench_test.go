package sessionremote_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

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
