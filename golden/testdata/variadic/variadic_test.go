package variadic

import (
	"context"
	"slices"
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime"
)

type chat struct{ said, muted []string }

func (c *chat) Say(ctx context.Context, room string, msgs ...string) error {
	c.said = append(c.said, room)
	c.said = append(c.said, msgs...)
	return nil
}

func (c *chat) Sum(ctx context.Context, base int, xs ...int) (int, error) {
	for _, x := range xs {
		base += x
	}
	return base, nil
}

func (c *chat) Mute(ctx context.Context, uids ...string) error {
	c.muted = uids
	return nil
}

func TestRoundTrip(t *testing.T) {
	impl := &chat{}
	srv := runtime.NewServer()
	RegisterChatServer(srv, impl)
	net := runtime.NewInProc()
	if _, err := net.Serve("chat-1", srv); err != nil {
		t.Fatal(err)
	}
	c := NewChatClient(runtime.NewClient(net))
	ctx := context.Background()
	if n, err := c.Sum(ctx, "chat-1", 1, 2, 3); n != 6 || err != nil {
		t.Fatalf("Sum = %d, %v", n, err)
	}
	if n, err := c.Sum(ctx, "chat-1", 1); n != 1 || err != nil {
		t.Fatalf("Sum with no xs = %d, %v", n, err)
	}
	if err := c.Mute(ctx, "chat-1", "a", "b"); err != nil || !slices.Equal(impl.muted, []string{"a", "b"}) {
		t.Fatalf("Mute: %v, muted %v", err, impl.muted)
	}
	if err := NewMuteProxy(c, "chat-1", []string{"c"}).Mute(ctx); err != nil || !slices.Equal(impl.muted, []string{"c"}) {
		t.Fatalf("proxy Mute: %v, muted %v", err, impl.muted)
	}
	if err := NewRoomProxy(c, "chat-1", "lobby").Say(ctx, "hi", "there"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"lobby", "hi", "there"}; !slices.Equal(impl.said, want) {
		t.Fatalf("said %v, want %v", impl.said, want)
	}
}
