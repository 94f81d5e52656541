package sessionremote_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

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
