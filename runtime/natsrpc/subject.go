package natsrpc

import (
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// Control messages share the call subject and carry this header; see the
// package documentation.
const (
	controlHeader = "Sessionrpc-Control"
	controlCancel = "cancel"
	controlProbe  = "probe"
	controlHello  = "hello" // on the v2 subject only; see batch.go
)

// Probe answers, one byte per probed call.
const (
	probeRunning = '1'
	probeUnknown = '0'
)

// validToken reports whether s can be one token of a NATS subject: not
// empty, no whitespace or control characters, no '.', and no wildcard.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ', c == 0x7f, c == '.', c == '*', c == '>':
			return false
		}
	}
	return true
}

// checkPrefix returns an InvalidArgument error unless prefix is one or more
// dot-separated valid tokens.
func checkPrefix(prefix string) error {
	for tok := range strings.SplitSeq(prefix, ".") {
		if !validToken(tok) {
			return runtime.Errorf(runtime.InvalidArgument, "natsrpc: invalid subject prefix %q", prefix)
		}
	}
	return nil
}

// callSubject returns the subject of serverID's calls.
func callSubject(prefix, serverID string) (string, error) {
	if !validToken(serverID) {
		return "", runtime.Errorf(runtime.InvalidArgument,
			"natsrpc: invalid server id %q: want one subject token, without spaces, '.', '*' or '>'", serverID)
	}
	return prefix + "." + serverID, nil
}

// isNoResponders reports whether m is NATS's answer to a request nobody
// subscribed to.
func isNoResponders(m *nats.Msg) bool {
	return len(m.Data) == 0 && m.Header.Get("Status") == "503"
}

// controlMsg builds a control message of kind to subject.
func controlMsg(subject, reply, kind string, body []byte) *nats.Msg {
	return &nats.Msg{Subject: subject, Reply: reply, Header: nats.Header{controlHeader: {kind}}, Data: body}
}
