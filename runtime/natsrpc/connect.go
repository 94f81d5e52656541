package natsrpc

import (
	"time"

	"github.com/nats-io/nats.go"
)

// Connect connects to NATS at urls (comma-separated, e.g.
// "nats://a:4222,nats://b:4222") with defaults suited to an RPC cluster,
// then opts, which override them:
//
//   - reconnect forever (nats.go gives up after 60 attempts, about two
//     minutes, and then closes the connection for good, leaving the process
//     deaf until it restarts);
//   - half a second between attempts on one URL, with nats.go's jitter;
//   - a ping every 20 seconds, so that a NATS server that vanished without
//     closing the TCP connection is noticed in under a minute, not five.
//
// Publishes made while disconnected are buffered, as nats.go does by
// default, and sent on reconnect: a call made then waits, within its
// deadline. Add nats.ReconnectBufSize(-1) to make it fail with Unavailable
// at once instead.
//
// Credentials and TLS are nats.go options, passed through unchanged:
// nats.UserCredentials, nats.UserInfo, nats.Token, nats.Nkey,
// nats.ClientCert, nats.RootCAs, nats.Secure. Connect does not retry a
// first connection that fails: NATS refusing the credentials
// (nats.ErrAuthorization) or a failed TLS handshake is returned at once.
func Connect(urls string, opts ...nats.Option) (*nats.Conn, error) {
	defaults := []nats.Option{
		nats.Name("sessionrpc"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.PingInterval(20 * time.Second),
	}
	return nats.Connect(urls, append(defaults, opts...)...)
}
