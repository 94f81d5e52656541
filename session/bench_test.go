package session_test

import (
	"encoding/json"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/sessionrpc/sessionrpc/session"
)

// BenchmarkMemoryPerSession measures the heap a store of 1,000,000 sessions needs, per
// session: empty sessions, and sessions with four small settings. Connections are nil, so
// this is the store's own cost; the connector's Conn comes on top. Run it with
// -benchtime 1x; the bytes/session metric is the result, ns/op is not meaningful.
func BenchmarkMemoryPerSession(b *testing.B) {
	const n = 1_000_000
	settings := []struct {
		key   string
		value any
	}{{"room", 1234}, {"name", "player-5678"}, {"level", 42}, {"vip", true}}

	for _, withSettings := range []bool{false, true} {
		name := "empty"
		if withSettings {
			name = "4settings"
		}
		b.Run(name, func(b *testing.B) {
			var perSession float64
			for b.Loop() {
				before := heapAlloc()
				st := session.NewStore("frontend-1")
				for range n {
					s := st.Create(nil)
					if withSettings {
						for _, kv := range settings {
							if err := s.Set(kv.key, kv.value); err != nil {
								b.Fatal(err)
							}
						}
					}
				}
				after := heapAlloc()
				runtime.KeepAlive(st)
				perSession = float64(after-before) / n
			}
			b.ReportMetric(perSession, "bytes/session")
		})
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle settles finalizers and sweeping
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// populated returns a store holding n empty sessions, with ids 1..n.
func populated(n int) *session.Store {
	st := session.NewStore("frontend-1")
	for range n {
		st.Create(nil)
	}
	return st
}

func BenchmarkGet(b *testing.B) {
	const n = 100_000
	st := populated(n)
	i := 0
	for b.Loop() {
		if st.Get(session.ID(i%n+1)) == nil {
			b.Fatal("missing session")
		}
		i++
	}
}

func BenchmarkGetParallel(b *testing.B) {
	const n = 100_000
	st := populated(n)
	var seq atomic.Uint64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := seq.Add(1_000)
		for pb.Next() {
			st.Get(session.ID(i%n + 1))
			i++
		}
	})
}

// BenchmarkBind binds a fresh session to a fresh uid each time, as a login does.
func BenchmarkBind(b *testing.B) {
	st := session.NewStore("frontend-1", session.WithSingleSession())
	ids := make([]session.ID, b.N)
	uids := make([]string, b.N)
	for i := range b.N {
		ids[i] = st.Create(nil).ID()
		uids[i] = "user-" + strconv.Itoa(i)
	}
	b.ResetTimer()
	for i := range b.N {
		if err := st.Bind(ids[i], uids[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBindUnbind measures a bind and an unbind of one session, in steady state.
func BenchmarkBindUnbind(b *testing.B) {
	st := populated(1)
	for b.Loop() {
		if err := st.Bind(1, "user"); err != nil {
			b.Fatal(err)
		}
		if err := st.Unbind(1, "user"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPush(b *testing.B) {
	const n = 100_000
	st := populated(n)
	value := json.RawMessage(`{"room":1234,"seat":7}`)
	i := 0
	for b.Loop() {
		if err := st.Push(session.ID(i%n+1), "table", value); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkPushParallel(b *testing.B) {
	const n = 100_000
	st := populated(n)
	value := json.RawMessage(`{"room":1234,"seat":7}`)
	var seq atomic.Uint64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := seq.Add(1_000)
		for pb.Next() {
			st.Push(session.ID(i%n+1), "table", value)
			i++
		}
	})
}

func BenchmarkExport(b *testing.B) {
	st := populated(1)
	s := st.Get(1)
	for _, k := range []string{"room", "name", "level", "vip"} {
		if err := s.Set(k, k+"-value"); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := st.Export(1); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSessionSize guards the memory budget measured by BenchmarkMemoryPerSession, which
// is too slow for every run: a Session struct must stay within the 80-byte size class.
func TestSessionSize(t *testing.T) {
	if size := unsafe.Sizeof(session.Session{}); size > 80 {
		t.Fatalf("Session is %d bytes, want at most 80", size)
	}
}
