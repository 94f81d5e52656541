package natsrpc

import (
	"encoding/binary"
	"strconv"
)

// The batch wire (version 2). Under load, a Transport sends the calls it
// has for one server together, several to a NATS message, and the server
// answers the calls of one caller together: NATS then routes, and nats.go
// reads and writes, one message for many calls, which plain request/reply
// cannot do. A call is still a call: it has its own id, is charged, run and
// answered on its own, and is named in probes and cancels as under version 1.
//
//	<prefix>.<serverID>.v2   batches of calls to serverID, and control
//	                         messages for the calls they carried
//	<inbox>.<batchID>        the reply subject of a batch: NATS answers
//	                         "no responders" there when nobody serves v2
//	<inbox>._                batches of answers
//
// A batch, of calls or of answers, is the version byte 2 and then, for each
// call, its id (uvarint), the length of its envelope (4 bytes, big endian)
// and the envelope: the runtime request envelope in a batch of calls, the
// response envelope in a batch of answers. The server learns the caller's
// inbox from the batch's reply subject, everything up to its last dot; a
// call's name, in probes and cancels, is its inbox followed by its id in
// base 36, as the reply subject of a version 1 call is.
//
// A server serves both versions, so old transports keep calling it on
// <prefix>.<serverID>. A transport sends batches until NATS answers one
// with "no responders" (an old server, or none at all), or denies
// publishing to the v2 subject; it then sends those calls again, singly on
// the version 1 subject, and that server's later calls too, for a while.
const (
	batchVersion = 2
	v2Suffix     = ".v2"
	answerToken  = "_"
)

// Bounds of a batch. A transport closes a batch at maxBatchCalls calls or
// maxBatchBytes bytes, and sends a call larger than bigCall in a batch of
// its own; a server drops unread a batch of more than maxServedBatch calls,
// which no transport sends, so that one message never makes it do more
// than that many calls' work.
const (
	maxBatchCalls  = 256
	maxBatchBytes  = 64 << 10
	bigCall        = 16 << 10
	maxServedBatch = 1024
	entryHeader    = binary.MaxVarintLen64 + 4 // the most an entry adds to its envelope
)

// appendEntryHeader appends the header of the entry of call id, whose
// envelope of n bytes follows.
func appendEntryHeader(b []byte, id uint64, n int) []byte {
	b = binary.AppendUvarint(b, id)
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

// nextEntry reads the entry at the start of b: the call's id, its envelope,
// and the rest of b. ok is false when b does not start with a whole entry.
func nextEntry(b []byte) (id uint64, env, rest []byte, ok bool) {
	id, k := binary.Uvarint(b)
	if k <= 0 || len(b)-k < 4 {
		return 0, nil, nil, false
	}
	n := binary.BigEndian.Uint32(b[k:])
	b = b[k+4:]
	if uint64(n) > uint64(len(b)) {
		return 0, nil, nil, false
	}
	return id, b[:n:n], b[n:], true
}

// callKey names a call a server runs: its caller's inbox (ending in a dot)
// and its id, or, for a version 1 call whose reply subject is not of that
// shape, the whole reply subject and id 0. It is the call's peer address.
type callKey struct {
	inbox string
	id    uint64
}

// Network implements net.Addr.
func (callKey) Network() string { return "nats" }

// String implements net.Addr: the call's name, which is the reply subject
// of a version 1 call.
func (k callKey) String() string {
	if k.id == 0 {
		return k.inbox
	}
	return k.inbox + strconv.FormatUint(k.id, 36)
}

// keyOf returns the key of the call named name: a reply subject, or a name
// in a probe or a cancel.
func keyOf(name string) callKey {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '.' {
			if id, ok := parseID(name[i+1:]); ok {
				return callKey{inbox: name[:i+1], id: id}
			}
			break
		}
	}
	return callKey{inbox: name}
}

// parseID parses a call id as transports write it: base 36 in lower case,
// without leading zeros, not zero. Any other token is not an id, so that
// two names differ exactly when their keys do.
func parseID(s string) (uint64, bool) {
	if s == "" || len(s) > 13 || s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return 0, false
		}
	}
	id, err := strconv.ParseUint(s, 36, 64)
	return id, err == nil
}

// inboxOf returns the inbox of a batch's reply subject: everything up to
// its last dot, included; false when there is no dot.
func inboxOf(reply string) (string, bool) {
	for i := len(reply) - 1; i >= 0; i-- {
		if reply[i] == '.' {
			return reply[:i+1], true
		}
	}
	return "", false
}

// setEntryLen fills in the envelope length of the entry of call id that
// starts at b[at] and runs to the end of b, written with a length of 0.
func setEntryLen(b []byte, at int, id uint64) {
	k := at + uvarintLen(id)
	binary.BigEndian.PutUint32(b[k:], uint32(len(b)-k-4))
}

// uvarintLen is the length of id as a uvarint.
func uvarintLen(id uint64) int {
	n := 1
	for ; id >= 0x80; id >>= 7 {
		n++
	}
	return n
}
