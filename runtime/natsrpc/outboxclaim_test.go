package natsrpc

import (
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// Once the outbox is stopped, a handler that returns does not claim its
// call's answer: Close, which stops the outbox before it claims the calls
// in flight, must find it unclaimed and answer it, or nobody would.
func TestStoppedOutboxLeavesTheClaim(t *testing.T) {
	s := &Server{}
	s.out.init()
	s.out.stop()
	c := &serverCall{reply: "r"}
	s.queue(c, &runtime.Response{})
	if c.answered.Load() {
		t.Fatal("a stopped outbox claimed an answer it will not publish")
	}
	if b, a := s.out.stats(); b != 0 || a != 0 || len(s.out.queue) != 0 {
		t.Fatalf("stopped outbox queued or published an answer: %d batches, %d answers, %d queued", b, a, len(s.out.queue))
	}
}
