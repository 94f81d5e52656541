package runtime

import (
	"context"
	"crypto/tls"
	"net"

	"github.com/sessionrpc/sessionrpc/internal/ctxkey"
)

// Peer is the other end of a call as the server's transport saw it. An
// [Admission] sees it in [CallInfo]; handlers and interceptors read it with
// [PeerFromContext].
type Peer struct {
	Addr net.Addr // the remote address; nil in-process
	// TLS is the connection's TLS state, nil without TLS. With mutual TLS,
	// TLS.PeerCertificates[0] is the caller's verified certificate.
	TLS *tls.ConnectionState
	// Identity names the caller as the transport authenticated it (for TCP
	// with mutual TLS, the certificate's subject common name); empty when
	// the transport authenticated nobody.
	Identity string
}

// PeerFromContext returns the peer of the call ctx belongs to, if the
// transport recorded one.
func PeerFromContext(ctx context.Context) (*Peer, bool) {
	p, ok := ctx.Value(ctxkey.Peer{}).(*Peer)
	return p, ok
}
