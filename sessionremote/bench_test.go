package sessionremote_test

import (
	"context"
	"strconv"
	"testing"
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
