package sessionremote_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// Each test here guards against one of the pomelo bugs listed in SESSIONS.md
// at the repository root, seen from a backend through sys.sessionRemote.

// Pomelo bug 1: BackendSession.export returned every field undefined.
func TestExportHasEveryField(t *testing.T) {
	c := newCluster(t)
	s := c.store.Create(&conn{})
	s.Bind("u1")
	s.Set("k", "v")
	bs, err := c.svc.Get(bg(t), fid, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	got := bs.Export()
	if got.ID != s.ID() || got.FrontendID != fid || got.UID != "u1" || string(got.Settings["k"]) != `"v"` {
		t.Fatalf("export = %+v", got)
	}
}

// Pomelo bug 2: Session.remove(key) deleted the session's own field.
func TestRemoveDeletesTheSetting(t *testing.T) {
	c := newCluster(t)
	s := c.store.Create(&conn{})
	s.Bind("u1")
	bs, _ := c.svc.Get(bg(t), fid, s.ID())
	bs.Set("uid", "not the uid")
	bs.Remove("uid")
	if ok, _ := bs.Get("uid", new(string)); ok {
		t.Error("the setting survived Remove")
	}
	if bs.UID() != "u1" || bs.ID() != s.ID() {
		t.Errorf("Remove touched the session's own fields: uid %q id %d", bs.UID(), bs.ID())
	}
}

// Pomelo bug 3: uid 0 or "" broke bind and unbind.
func TestEmptyUIDRejectedZeroUIDBinds(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	wantErr(t, c.svc.Bind(ctx, fid, s.ID(), ""), sessionremote.ErrInvalidUID, runtime.InvalidArgument)
	if err := c.svc.Bind(ctx, fid, s.ID(), "0"); err != nil {
		t.Fatalf("uid \"0\": %v", err)
	}
	if err := c.svc.Unbind(ctx, fid, s.ID(), "0"); err != nil {
		t.Fatalf("unbind uid \"0\": %v", err)
	}
	if s.UID() != "" {
		t.Errorf("uid = %q after unbind", s.UID())
	}
}

// Pomelo bug 4: "5" vs 5 left stale uid-index entries.
func TestUnbindLeavesNoStaleUIDIndex(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	for _, uid := range []string{"5", "05", "5 "} {
		if err := c.svc.Bind(ctx, fid, s.ID(), uid); err != nil {
			t.Fatal(err)
		}
		if err := c.svc.Unbind(ctx, fid, s.ID(), uid); err != nil {
			t.Fatal(err)
		}
	}
	for _, uid := range []string{"5", "05", "5 "} {
		if list, _ := c.svc.GetByUID(ctx, fid, uid); len(list) != 0 {
			t.Errorf("uid %q still finds %d sessions", uid, len(list))
		}
	}
}

// Pomelo bug 5: callbacks crashed when nil; one path answered synchronously.
// Here every call returns exactly once, on the caller's goroutine, with an
// error or without.
func TestEveryCallReturnsOnce(t *testing.T) {
	c := newCluster(t)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for name, call := range map[string]func() error{
		"ok":             func() error { return c.svc.KickBySID(bg(t), fid, 1, "") },
		"remote error":   func() error { return c.svc.Bind(bg(t), fid, 1, "u") },
		"local error":    func() error { return c.svc.Push(bg(t), fid, 1, "k", make(chan int)) },
		"cancelled call": func() error { return c.svc.Bind(done, fid, 1, "u") },
		"unknown server": func() error { return c.svc.Bind(bg(t), "nowhere", 1, "u") },
	} {
		returned := 0
		err := call()
		returned++
		if returned != 1 {
			t.Errorf("%s returned %d times", name, returned)
		}
		if name != "ok" && err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// Pomelo bug 6: the settings "deep copy" was shallow.
func TestSnapshotsNeverAlias(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	s.Set("nested", map[string]any{"list": []int{1, 2}})
	bs, _ := c.svc.Get(ctx, fid, s.ID())

	exp := bs.Export()
	exp.Settings["nested"][2] = 'X'
	exp.Settings["new"] = json.RawMessage(`1`)
	var nested map[string][]int
	bs.Get("nested", &nested)
	if diff := cmp.Diff(map[string][]int{"list": {1, 2}}, nested); diff != "" {
		t.Errorf("changing an export changed the snapshot (-want +got):\n%s", diff)
	}
	if ok, _ := bs.Get("new", new(int)); ok {
		t.Error("a key added to the export appeared in the snapshot")
	}
	nested["list"][0] = 99
	bs.Get("nested", &nested)
	if nested["list"][0] != 1 {
		t.Error("a decoded value aliases the snapshot")
	}
	var front map[string][]int
	s.Get("nested", &front)
	if front["list"][0] != 1 {
		t.Error("the frontend's value changed with the backend's copy")
	}
}

// Pomelo bug 7: RPCs to dead servers never called back; errors lost messages.
func TestUnknownServerFailsAtOnceAndErrorsKeepTheirMessage(t *testing.T) {
	c := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	_, err := c.svc.Get(ctx, "connector-9", 1)
	if runtime.CodeOf(err) != runtime.Unavailable {
		t.Fatalf("Get on an unknown frontend = %v, want unavailable", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %v: waited for the deadline instead of failing at once", time.Since(start))
	}
	err = c.svc.Bind(ctx, fid, 77, "u")
	var re *runtime.Error
	if !errors.As(err, &re) || re.Message() != "session not found: sid 77" {
		t.Errorf("remote error message = %v", err)
	}
}

// Pomelo bug 8: numbers turned into float64.
// Values set on either side read back as the same Go value on the other.
func TestSettingsRoundTripLosslessly(t *testing.T) {
	type pos struct {
		X, Y int64
		Tags []string
		M    map[string]uint64
	}
	values := map[string]any{
		"minInt64":  int64(math.MinInt64),
		"maxInt64":  int64(math.MaxInt64),
		"maxUint64": uint64(math.MaxUint64),
		"2^53+1":    int64(1<<53 + 1),
		"float":     0.1 + 0.2,
		"string":    "héllo",
		"bool":      true,
		"struct":    pos{X: math.MinInt64, Y: 1<<53 + 1, Tags: []string{"a"}, M: map[string]uint64{"m": math.MaxUint64}},
		"slice":     []int64{math.MaxInt64, -1},
		"map":       map[string]int64{"k": math.MinInt64},
	}
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	bs, _ := c.svc.Get(ctx, fid, s.ID())

	check := func(t *testing.T, get func(string, any) (bool, error)) {
		t.Helper()
		for k, v := range values {
			out := newLike(v)
			if ok, err := get(k, out); !ok || err != nil {
				t.Fatalf("%s: %v %v", k, ok, err)
			}
			if diff := cmp.Diff(v, deref(out)); diff != "" {
				t.Errorf("%s (-set +read):\n%s", k, diff)
			}
		}
	}
	// Backend to frontend.
	for k, v := range values {
		if err := bs.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := bs.PushAll(ctx); err != nil {
		t.Fatal(err)
	}
	check(t, s.Get)
	// Frontend to backend.
	s2 := c.store.Create(&conn{})
	for k, v := range values {
		s2.Set(k, v)
	}
	s2.Set("nil", nil)
	bs2, err := c.svc.Get(ctx, fid, s2.ID())
	if err != nil {
		t.Fatal(err)
	}
	check(t, bs2.Get)
	var n any = "not nil"
	if ok, _ := bs2.Get("nil", &n); !ok || n != nil {
		t.Errorf("nil read back as %v (present %v)", n, ok)
	}
	// Into an interface, numbers stay exact.
	var anyv any
	bs2.Get("maxUint64", &anyv)
	if num, ok := anyv.(json.Number); !ok || num.String() != "18446744073709551615" {
		t.Errorf("uint64 max into any = %#v, want json.Number", anyv)
	}
}

// Pomelo bug 9: two backends pushing one session race. Push sends one key
// and PushAll the keys its snapshot changed, so concurrent pushes of
// different keys never undo each other. (Pushes of the same key:
// TestRacingBackends.)
func TestPushesOfDifferentKeysDoNotClobber(t *testing.T) {
	c := newCluster(t)
	ctx := bg(t)
	s := c.store.Create(&conn{})
	const backends = 8
	var wg sync.WaitGroup
	for i := range backends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bs, err := c.svc.Get(ctx, fid, s.ID())
			if err != nil {
				t.Error(err)
				return
			}
			key := string(rune('a' + i))
			bs.Set(key, i)
			push := bs.PushAll
			if i%2 == 0 {
				push = func(ctx context.Context) error { return bs.Push(ctx, key) }
			}
			if err := push(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := len(s.Export().Settings); got != backends {
		t.Errorf("%d keys on the frontend, want %d: a push undid another", got, backends)
	}
}

// newLike returns a pointer to a new zero value of v's type.
func newLike(v any) any { return reflect.New(reflect.TypeOf(v)).Interface() }

func deref(p any) any { return reflect.ValueOf(p).Elem().Interface() }
