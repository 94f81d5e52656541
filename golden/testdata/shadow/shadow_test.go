package shadow

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
)

type timer struct{}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (timer) After(ctx context.Context, context string, time time.Duration) (time.Time, error) {
	return epoch.Add(time), nil
}

func (timer) Raw(runtime context.Context, json json.RawMessage, serverID string, a0 int, err string) error {
	return nil
}

func (timer) Locals(c context.Context, impl, args, result, out, r, a, inv string) (r0 string, err error) {
	return impl + args + result + out + r + a + inv, nil
}

func TestRoundTrip(t *testing.T) {
	srv := runtime.NewServer()
	RegisterTimerServer(srv, timer{})
	net := runtime.NewInProc()
	if _, err := net.Serve("t", srv); err != nil {
		t.Fatal(err)
	}
	c := NewTimerClient(runtime.NewClient(net))
	ctx := context.Background()
	got, err := NewContextProxy(c, "t", "wall").After(ctx, time.Hour)
	if err != nil || !got.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("After = %v, %v", got, err)
	}
	s, err := c.Locals(ctx, "t", "1", "2", "3", "4", "5", "6", "7")
	if err != nil || s != "1234567" {
		t.Fatalf("Locals = %q, %v", s, err)
	}
}
