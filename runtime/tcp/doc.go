// Package tcp is the TCP transport of sessionrpc: a [Transport] that a
// [runtime.Client] sends calls through, and a [Server] that serves a
// [runtime.Dispatcher] (normally a [*runtime.Server]) on a listener.
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
//	kind    1 byte: 1 request, 2 response, 3 cancel
//	id      uvarint: the call id, chosen by the client, unique per connection
//	body    request: the envelope of [runtime.AppendRequest]
//	        response: the envelope of [runtime.AppendResponse]
//	        cancel: empty
//
// A client sends request and cancel frames, a server response frames. A
// cancel frame asks the server to cancel the handler's ctx of that call; its
// answer, if any, is dropped. The caller's deadline travels in the request
// envelope, and the Dispatcher applies it. A frame longer than the limit
// ([WithMaxFrame]), of an unknown kind, or cut short closes that connection
// only; a well-framed request whose envelope does not parse is answered
// InvalidArgument.
package tcp
