package natsrpc

import goruntime "runtime"

// OutboxStats returns how many batches and answers the server's outbox has
// published.
func (s *Server) OutboxStats() (batches, answers uint64) { return s.out.stats() }

// Queued returns how many answers wait in the server's outbox.
func (s *Server) Queued() int {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	return len(s.out.queue)
}

// HoldOutbox makes the server's outbox busy, as if a goroutine were
// publishing it, so that answers stay queued until the returned function
// publishes them.
func (s *Server) HoldOutbox() (release func()) {
	o := &s.out
	o.mu.Lock()
	for o.busy {
		o.idle.Wait()
	}
	o.busy = true
	o.mu.Unlock()
	return s.publishQueued
}

// Batching reports whether t sends its calls to serverID in batches now.
func Batching(t *Transport, serverID string) bool {
	tg, err := t.targetOf(serverID)
	return err == nil && tg.ready.Load() && tg.singleUntil.Load() < mono()
}

// HoldSender makes t's sender of calls to serverID busy, as if a caller
// were publishing, so that batched calls stay queued until the returned
// function publishes them.
func HoldSender(t *Transport, serverID string) (release func()) {
	tg, err := t.targetOf(serverID)
	if err != nil {
		panic(err)
	}
	s := &tg.out
	s.mu.Lock()
	for s.busy {
		s.mu.Unlock()
		goruntime.Gosched()
		s.mu.Lock()
	}
	s.busy = true
	s.mu.Unlock()
	return func() { s.publish(0) }
}

// SenderQueued returns how many calls to serverID wait in t's sender.
func SenderQueued(t *Transport, serverID string) int {
	tg, err := t.targetOf(serverID)
	if err != nil {
		panic(err)
	}
	tg.out.mu.Lock()
	defer tg.out.mu.Unlock()
	return len(tg.out.ids)
}
