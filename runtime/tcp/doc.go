// Package tcp is the TCP transport of sessionrpc: a [Transport] that a
// [runtime.Client] sends calls through, and a [Server] that serves a
// [*runtime.Server] on a listener.
//
// A Transport keeps one connection per server address and multiplexes every
// concurrent call to that address on it, matched to answers by call id.
// Server ids turn into addresses through a [Resolver]; [StaticResolver] is a
// map. Frames queued while a connection is busy writing go out together in
// one write. A connection that breaks fails its calls in flight with
// Unavailable at once; the next call dials again, and after a failed dial
// calls fail fast with Unavailable until a backoff (10ms doubling to 1s)
// has passed. Connections may use TLS or mutual TLS ([WithTLS]).
//
// # Frames
//
// Both directions carry frames:
//
//	length  uint32, big endian: the number of bytes that follow
//	kind    1 byte: 1 request, 2 response, 3 cancel, 4 go-away, 5 hello,
//	        6 refused
//	id      uvarint: the call id, chosen by the client, unique per connection
//	        (0 for hello, go-away and refused)
//	body    request: the envelope of [runtime.AppendRequest]
//	        response: the envelope of [runtime.AppendResponse]
//	        hello: server id and incarnation, each a uvarint length and bytes
//	        refused: why, as text
//	        cancel, go-away: empty
//
// A client sends hello, request and cancel frames, a server response,
// go-away and refused frames. A client whose [Resolver] is a
// [MemberResolver] opens each connection with a hello naming the server id
// and incarnation it means to reach; a server with an identity
// ([WithIdentity]) that is not that one answers refused, reads nothing
// more and closes, so that none of the connection's calls is served and
// they fail with Unavailable matching [runtime.ErrNotDelivered]. A server
// accepts a connection without a hello, and a server without an identity
// accepts any hello. A cancel frame asks the server to cancel the handler's ctx of that
// call; its answer, if any, is dropped. The caller's deadline travels in the
// request envelope, and the Dispatcher applies it. A server sends go-away
// (id 0) as the last frame before closing a connection it found idle: every
// request the client sent that has no answer by then was not served, and
// the client sends it again on a new connection. A frame longer than the
// limit ([WithMaxFrame]), of an unknown kind, or cut short closes that
// connection only; a well-framed request whose envelope does not parse is
// answered InvalidArgument.
//
// # Limits
//
// A [Server] bounds what one peer can make it hold, so that a hostile or
// broken client costs its own connection and nothing else:
//
//   - Frames: none longer than [WithMaxFrame] (default: the max payload plus
//     1 MiB). A connection reads through a 4 KiB buffer, allocated at its
//     first read; a larger frame gets a buffer of its own that doubles as
//     bytes arrive, up to 64 KiB, then takes the frame's size, and it goes
//     with the call it carries. The memory of frames still arriving, on all connections
//     together, is bounded by [WithPartialFrameBudget] (default 64 MiB):
//     a connection whose frame finds no room waits, within its frame
//     timeout.
//   - Time: the TLS handshake must end within [WithDialTimeout] (default
//     5s); a frame, the first one included, must arrive whole within
//     [WithFrameTimeout] of its first byte (of the connection, for the first
//     frame; default 30s); a connection with no call in flight that sends
//     nothing for [WithIdleTimeout] (default 5 minutes) is closed with a
//     go-away. All of these are read deadlines on the connection: no timer
//     or goroutine per connection or per frame.
//   - Calls: at most [WithMaxConcurrentCalls] (default 256) run at once per
//     connection; later ones wait their turn, in arrival order. The bytes a
//     connection's calls hold, waiting or running, and its unwritten
//     answers are bounded by [WithConnBudget] (default twice the frame
//     limit), and every connection's by the server's budget
//     ([runtime.WithServerBudget]): a request over either is answered
//     ResourceExhausted at once, without its arguments being decoded. A
//     call refused by an admission ([runtime.WithAdmission]) costs its frame
//     and its envelope, never the decoding of its arguments. When a
//     connection closes, its running calls are cancelled and its waiting
//     ones never start.
//   - Answers: a connection queues at most 1 MiB of answers (plus one frame)
//     for its client. While the queue is full the server stops reading that
//     connection, so a client that does not read its answers has its
//     requests wait in its own socket buffers, not in the server; and a
//     client that accepts nothing written to it for the frame timeout is
//     closed. A connection that stops reading can hold at most its queue,
//     the batch being written, and the answers of its calls in flight.
//
// An idle connection costs the server two parked goroutines, its 4 KiB
// read buffer and a little over 1 KiB of state: about 15 KiB in all.
package tcp
