package natsrpc

import (
	"encoding/binary"
	goruntime "runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// sender gathers a Transport's calls to one server into batches (see
// batch.go). Like a server's outbox it has no goroutine of its own: the
// caller that queues a call into an idle sender publishes, after yielding
// once so that callers ready to run queue theirs into the same batch, and
// goes on while calls keep coming, for at most maxPublishRounds batches; a
// goroutine of its own then takes over. So a lone call is published by its
// caller at once, as a single call would be, and under load one message
// carries many.
type sender struct {
	t  *Transport
	tg *target

	mu   sync.Mutex
	buf  []byte   // the batch being gathered: the version byte and entries
	ids  []uint64 // the ids of its calls, in order
	busy bool     // a goroutine is publishing
	// spareBuf and spareIDs are the other pair, while the publishing
	// goroutine does not hold them.
	spareBuf []byte
	spareIDs []uint64
}

// maxPublishRounds is how many batches a caller publishes for others before
// it hands the sender over to a goroutine of its own, so that no caller is
// kept from its own answer for long.
const maxPublishRounds = 4

func (s *sender) init(t *Transport, tg *target) { s.t, s.tg = t, tg }

// sendBatched sends req, call id to server tg, in a batch. The outcome of
// the publish reaches the call like its answer, through t.calls.
func (t *Transport) sendBatched(tg *target, id uint64, req *runtime.Request) {
	s := &tg.out
	if len(req.Payload) > bigCall {
		// Alone: a large call neither delays the others nor, if NATS
		// refuses it, fails them with it.
		bp := bufPool.Get().(*[]byte)
		b := appendCall(append(*bp, batchVersion), id, req)
		t.publishBatch(tg, b, []uint64{id})
		putBuf(bp, b)
		return
	}
	s.mu.Lock()
	if len(s.buf) == 0 {
		s.buf = append(s.buf[:0], batchVersion)
	}
	s.buf = appendCall(s.buf, id, req)
	s.ids = append(s.ids, id)
	if s.busy {
		s.mu.Unlock()
		return
	}
	s.busy = true
	s.mu.Unlock()
	s.publish(maxPublishRounds)
}

// appendCall appends the entry of call id, req, to a batch.
func appendCall(b []byte, id uint64, req *runtime.Request) []byte {
	at := len(b)
	b = runtime.AppendRequest(appendEntryHeader(b, id, 0), req)
	setEntryLen(b, at, id)
	return b
}

// publish publishes what s gathers until nothing is left, or until it has
// published rounds times (0: no limit) and hands over to a new goroutine.
// The caller has set s.busy.
func (s *sender) publish(rounds int) {
	yielded := false
	n := 0
	s.mu.Lock()
	for len(s.ids) > 0 {
		if len(s.buf) < minBatch && len(s.ids) < maxBatchCalls && !yielded {
			yielded = true
			s.mu.Unlock()
			goruntime.Gosched()
			s.mu.Lock()
			continue
		}
		if n++; rounds > 0 && n > rounds {
			s.mu.Unlock()
			go s.publish(0)
			return
		}
		yielded = false
		buf, ids := s.buf, s.ids
		s.buf, s.ids = s.spareBuf[:0], s.spareIDs[:0]
		s.spareBuf, s.spareIDs = nil, nil
		s.mu.Unlock()
		s.publishChunks(buf, ids)
		s.mu.Lock()
		if cap(buf) <= retainBatch {
			s.spareBuf, s.spareIDs = buf[:0], ids[:0]
		}
	}
	s.busy = false
	s.mu.Unlock()
}

// publishChunks publishes buf, a batch of the calls ids, as batches within
// the limits of one. A batch after the first is made in place: the byte
// before its first entry, the last of a call already published (nats.go
// copies what it is given), becomes its version byte.
func (s *sender) publishChunks(buf []byte, ids []uint64) {
	limit := s.t.batchLimit()
	start, first := 0, 0 // buf[start] is the version byte of the chunk of ids[first:]
	at := 1
	for i := range ids {
		end := at + entrySize(buf[at:])
		if i > first && (end-start > limit || i-first == maxBatchCalls) {
			s.t.publishBatch(s.tg, buf[start:at], ids[first:i])
			start, first = at-1, i
			buf[start] = batchVersion
		}
		at = end
	}
	s.t.publishBatch(s.tg, buf[start:at], ids[first:])
}

// entrySize returns the length of the entry at the start of b, which is
// well formed.
func entrySize(b []byte) int {
	_, k := binary.Uvarint(b)
	return k + 4 + int(binary.BigEndian.Uint32(b[k:]))
}

// batchLimit is the size of the largest batch: maxBatchBytes, or the NATS
// server's max_payload if smaller.
func (t *Transport) batchLimit() int {
	if mp := int(t.nc.MaxPayload()); mp > 0 && mp < maxBatchBytes {
		return mp
	}
	return maxBatchBytes
}

// publishBatch publishes body, a batch of the calls ids to tg, under a
// record of the batch in t.calls, which NATS answers if nobody takes it.
// Calls whose callers have given up meanwhile are still in body; their
// answers will find nobody. When the publish fails, the calls fail with
// its error.
func (t *Transport) publishBatch(tg *target, body []byte, ids []uint64) {
	bid := t.nextID.Add(1)
	rec := &call{id: bid, tg: tg, serverID: tg.serverID, subject: tg.subject2, batch: slices.Clone(ids)}
	t.mu.Lock()
	for _, id := range ids {
		if c := t.calls[id]; c != nil && c.in == nil && c.isCall() {
			c.in = rec
			rec.pending++
		}
	}
	if rec.pending == 0 {
		t.mu.Unlock()
		return // every caller gave up, or the connection was lost
	}
	rec.epoch = t.epoch
	t.calls[bid] = rec
	t.mu.Unlock()
	var scratch [96]byte
	reply := string(strconv.AppendUint(append(scratch[:0], t.inbox...), bid, 36))
	if err := t.nc.PublishRequest(tg.subject2, reply, body); err != nil {
		perr := t.publishError(err, tg.serverID, len(body))
		t.mu.Lock()
		delete(t.calls, bid)
		for _, id := range ids {
			if c := t.calls[id]; c != nil && c.in == rec {
				c.in = nil
				delete(t.calls, id)
				c.done <- answer{err: perr}
			}
		}
		t.mu.Unlock()
		return
	}
	// The callers that gave up before the batch left are told now, after
	// it, as their cancels must be; the others may cancel themselves from
	// now on. (A call answered meanwhile is cancelled for nothing: the
	// server knows it no more.)
	var gone []uint64
	t.mu.Lock()
	for _, id := range ids {
		if c := t.calls[id]; c != nil && c.in == rec {
			c.sent = true
		} else {
			gone = append(gone, id)
		}
	}
	t.mu.Unlock()
	for _, id := range gone {
		name := strconv.AppendUint(append(scratch[:0], t.inbox...), id, 36)
		if err := t.nc.PublishMsg(controlMsg(tg.subject2, "", controlCancel, name)); err != nil {
			t.log.Debug("natsrpc: cancel not sent", "server", tg.serverID, "err", err)
		}
	}
}

// epoch is the origin of the monotonic nanoseconds of [mono].
var epoch = time.Now()

// mono returns the monotonic nanoseconds since epoch.
func mono() int64 { return int64(time.Since(epoch)) }
