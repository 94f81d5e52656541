package natsrpc

import (
	"fmt"
	goruntime "runtime"
	"sync"

	"github.com/sessionrpc/sessionrpc/runtime"
)

const (
	// minBatch is the size in bytes under which the goroutine publishing
	// answers yields once before publishing them, to let more answers join
	// the batch; as in runtime/tcp's writer.
	minBatch = 4 << 10
	// retainBatch is the largest batch buffer an outbox keeps for reuse;
	// one grown larger by a burst of big answers goes to the garbage
	// collector.
	retainBatch = 64 << 10
)

// outbox is a server's queue of answers waiting to be published. Why:
// nats.go writes what is published from a flusher goroutine of its own,
// woken by the publish that finds its buffer empty. Handlers finish at
// scattered moments on goroutines of their own, so publishing each answer
// as its handler returns wakes the flusher, and costs a write syscall, for
// almost every answer. Through the outbox the answers of handlers that
// finish close together are published back to back, by one goroutine,
// after it yields once to let other handlers finish: they land in nats.go's
// buffer together and go out in one write, as the answers of a
// subscription that responds inline do. In bench/ (64 callers, client,
// server and NATS in one process on loopback) this took the process from
// about 2.1 read and write syscalls per call to about 1.2, and its CPU per
// call down by about a quarter. (nats.go has no call that publishes
// several messages; each Publish appends to its buffer under its lock, and
// what the buffer holds when the flusher runs goes out in one write.)
//
// No goroutine of its own runs the outbox: the handler goroutine that
// queues an answer into an idle outbox publishes until the queue is empty
// (see [Server.publishQueued]), and the others only queue. So an outbox
// needs no stopping when the connection closes under it, and a lone call
// costs no goroutine switch.
type outbox struct {
	mu   sync.Mutex
	idle sync.Cond // signalled when busy becomes false; L is &mu
	// buf holds the queued answers' envelopes back to back; queue says
	// whose they are and where each ends.
	buf   []byte
	queue []queued
	// spareBuf and spareQueue are the other pair, while the publishing
	// goroutine does not hold them: two pairs take turns, so a steady
	// state allocates nothing.
	spareBuf   []byte
	spareQueue []queued
	busy       bool // a goroutine is publishing the queue
	stopped    bool // nothing more may be queued; see [outbox.stop]

	// groups gathers, while a batch is published, the answers to calls
	// of batches by inbox; only the publishing goroutine uses it.
	groups []answerGroup
	// subjects caches the answer subject of each inbox (inbox + "_"),
	// so that publishing does not build it anew; bounded.
	subjects map[string]string

	batches, answers uint64 // published so far, for tests
}

// queued is one answer in an outbox: the envelope in outbox.buf that ends
// at end, for call c.
type queued struct {
	c   *serverCall
	end int
}

func (o *outbox) init() { o.idle.L = &o.mu }

// stop makes o refuse answers from now on and waits until those already
// queued are published.
func (o *outbox) stop() {
	o.mu.Lock()
	o.stopped = true
	for o.busy {
		o.idle.Wait()
	}
	o.mu.Unlock()
}

// stats returns how many batches and answers o has published.
func (o *outbox) stats() (batches, answers uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.batches, o.answers
}

// queue claims c's answer and queues resp as that answer, then publishes
// the queue if no other goroutine does. It queues nothing when Close
// claimed the answer first, or when the outbox is stopped: then Close
// answers for c, if anyone does.
//
// The claim is made under o.mu, where stop marks the outbox stopped, so
// that a call is never left without an answer: either its answer is queued
// before the outbox stops, and stop waits for it to be published, or Close,
// which stops the outbox before it claims calls, finds the call unclaimed.
func (s *Server) queue(c *serverCall, resp *runtime.Response) {
	o := &s.out
	o.mu.Lock()
	if o.stopped || !c.answered.CompareAndSwap(false, true) {
		o.mu.Unlock()
		return
	}
	n := len(o.buf)
	o.buf = runtime.AppendResponse(o.buf, resp)
	s.budget.Acquire(len(o.buf) - n)
	o.queue = append(o.queue, queued{c, len(o.buf)})
	if o.busy {
		o.mu.Unlock()
		return
	}
	o.busy = true
	o.mu.Unlock()
	s.publishQueued()
}

// publishQueued publishes the outbox's queue, batch after batch, until it
// is empty. The caller has set o.busy. Before publishing a small batch it
// yields once, so that handlers ready to run finish and queue their answers
// into the same batch.
//
// A call is forgotten only after its answer was handed to nats.go: a probe
// asking about it meanwhile is told the call runs, and one that finds it
// unknown is answered after the answer, so the caller, which reads answers
// in order, never takes an answered call for a lost one.
func (s *Server) publishQueued() {
	o := &s.out
	yielded := false
	o.mu.Lock()
	for len(o.queue) > 0 {
		if len(o.buf) < minBatch && !yielded {
			yielded = true
			o.mu.Unlock()
			goruntime.Gosched()
			o.mu.Lock()
			continue
		}
		yielded = false
		buf, queue := o.buf, o.queue
		o.buf, o.queue = o.spareBuf[:0], o.spareQueue[:0]
		o.spareBuf, o.spareQueue = nil, nil
		o.batches++
		o.answers += uint64(len(queue))
		o.mu.Unlock()

		start := 0
		for _, q := range queue {
			if q.c.reply != "" {
				s.send(q.c.reply, buf[start:q.end])
			} else {
				s.group(q.c.key, buf[start:q.end])
			}
			start = q.end
		}
		s.flushGroups()
		s.budget.Release(len(buf))
		for _, q := range queue {
			s.calls.delete(q.c)
		}
		clear(queue) // let the calls go

		o.mu.Lock()
		if cap(buf) <= retainBatch {
			o.spareBuf, o.spareQueue = buf[:0], queue[:0]
		}
	}
	o.busy = false
	o.idle.Broadcast()
	o.mu.Unlock()
}

// answerGroup is a batch of answers being gathered for one caller's inbox.
type answerGroup struct {
	inbox string
	buf   []byte
}

// maxGroups bounds the inboxes an outbox gathers answers for at once; the
// answers for more are published as each group fills.
const maxGroups = 64

// group adds the answer env of call k, which came in a batch, to the batch
// of answers for its inbox, publishing that batch first if the answer would
// not fit. Only the goroutine publishing the outbox calls it.
func (s *Server) group(k callKey, env []byte) {
	o := &s.out
	limit := s.batchLimit()
	if len(env)+entryHeader+1 > limit {
		// Too large to share a message: alone, or as the error that it is
		// too large for NATS.
		s.sendOne(k, env)
		return
	}
	var g *answerGroup
	for i := range o.groups {
		if o.groups[i].inbox == k.inbox {
			g = &o.groups[i]
			break
		}
	}
	if g == nil {
		if len(o.groups) == maxGroups {
			s.flushGroups()
		}
		if n := len(o.groups); n < cap(o.groups) {
			o.groups = o.groups[:n+1] // keeping that group's buffer
		} else {
			o.groups = append(o.groups, answerGroup{})
		}
		g = &o.groups[len(o.groups)-1]
		g.inbox = k.inbox
		if cap(g.buf) == 0 {
			g.buf = make([]byte, 0, 1024)
		}
		g.buf = append(g.buf[:0], batchVersion)
	}
	if len(g.buf)+len(env)+entryHeader > limit {
		s.publishGroup(g)
		g.buf = append(g.buf[:0], batchVersion)
	}
	g.buf = append(appendEntryHeader(g.buf, k.id, len(env)), env...)
}

// batchLimit is the size of the largest batch: maxBatchBytes, or the NATS
// server's max_payload if smaller.
func (s *Server) batchLimit() int {
	if mp := int(s.nc.MaxPayload()); mp > 0 && mp < maxBatchBytes {
		return mp
	}
	return maxBatchBytes
}

// sendOne publishes the answer env of call k as a batch of its own, or, if
// NATS would not take it, its caller's ResourceExhausted error.
func (s *Server) sendOne(k callKey, env []byte) {
	bp := bufPool.Get().(*[]byte)
	b := append(appendEntryHeader(append(*bp, batchVersion), k.id, len(env)), env...)
	if mp := int(s.nc.MaxPayload()); mp > 0 && len(b) > mp {
		b = append((*bp)[:0], batchVersion)
		b = runtime.AppendResponse(appendEntryHeader(b, k.id, 0), &runtime.Response{Code: runtime.ResourceExhausted,
			Message: fmt.Sprintf("natsrpc: answer of %d bytes exceeds the NATS server's max_payload of %d", len(env), mp)})
		setEntryLen(b, 1, k.id)
	}
	s.send(s.answerSubject(k.inbox), b)
	putBuf(bp, b)
}

// publishGroup publishes the answers gathered in g.
func (s *Server) publishGroup(g *answerGroup) {
	if len(g.buf) > 1 {
		s.send(s.answerSubject(g.inbox), g.buf)
	}
}

// flushGroups publishes every group and forgets them, keeping their
// buffers for the next batch.
func (s *Server) flushGroups() {
	o := &s.out
	for i := range o.groups {
		s.publishGroup(&o.groups[i])
		o.groups[i].inbox = ""
		if cap(o.groups[i].buf) > retainBatch {
			o.groups[i].buf = nil
		}
	}
	o.groups = o.groups[:0]
}

// answerSubject returns the subject of the answer batches for inbox.
func (s *Server) answerSubject(inbox string) string {
	o := &s.out
	if subj, ok := o.subjects[inbox]; ok {
		return subj
	}
	subj := inbox + answerToken
	if o.subjects == nil || len(o.subjects) >= maxCachedSubjects {
		o.subjects = make(map[string]string)
	}
	o.subjects[inbox] = subj
	return subj
}
