package runtime

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Client is the [Invoker] over a [Transport]: it encodes arguments with its
// codec, sends them with the caller's deadline and metadata, and decodes the
// result or the error. Generated clients take one. A Client is safe for
// concurrent use.
type Client struct {
	t     Transport
	opts  clientOptions
	ic    Interceptor
	reqs  sync.Pool   // of *Request
	bufs  sync.Pool   // of *[]byte, for payloads when the codec is an AppendCodec
	codec AppendCodec // the codec, when it is one
}

// NewClient returns a client that sends its calls through t. Options:
// [WithCodec], [WithInterceptors], [WithMaxPayload], [WithDefaultTimeout].
func NewClient(t Transport, opts ...ClientOption) *Client {
	o := newClientOptions(opts)
	c := &Client{t: t, opts: o, ic: chain(o.interceptors)}
	c.reqs.New = func() any { return new(Request) }
	c.bufs.New = func() any { return new([]byte) }
	c.codec, _ = o.codec.(AppendCodec)
	return c
}

// Invoke calls route on server serverID with args and decodes the answer into
// result (nil for error-only methods). Every error it returns is an [*Error].
// Arguments of type [RawMessage] are sent as they are, and a *RawMessage
// result receives the answer undecoded.
func (c *Client) Invoke(ctx context.Context, serverID, route string, args, result any) error {
	if c.opts.defaultTimeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.opts.defaultTimeout)
			defer cancel()
		}
	}
	if c.ic == nil {
		return c.roundTrip(ctx, serverID, route, args, result)
	}
	err := c.ic(ctx, CallInfo{Route: route, ServerID: serverID}, args, result, func(ctx context.Context, args, result any) error {
		return c.roundTrip(ctx, serverID, route, args, result)
	})
	return asError(err)
}

func (c *Client) roundTrip(ctx context.Context, serverID, route string, args, result any) error {
	if err := ctx.Err(); err != nil {
		return ContextError(err)
	}
	var timeout time.Duration
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
		if timeout <= 0 {
			return errDeadline
		}
	}
	// Transports keep neither the request nor its payload once RoundTrip
	// returns, so both are reused.
	var buf *[]byte
	var payload []byte
	var err error
	if raw, ok := args.(RawMessage); ok {
		payload = raw
	} else if c.codec != nil {
		buf = c.bufs.Get().(*[]byte)
		payload, err = c.codec.MarshalAppend((*buf)[:0], args)
		defer c.putBuf(buf, payload)
	} else {
		payload, err = c.opts.codec.Marshal(args)
	}
	if err != nil {
		return Errorf(InvalidArgument, "%s: encode arguments: %v", route, err)
	}
	if len(payload) > c.opts.maxPayload {
		return Errorf(ResourceExhausted, "%s: arguments of %d bytes exceed the limit of %d", route, len(payload), c.opts.maxPayload)
	}
	req := c.reqs.Get().(*Request)
	*req = Request{Route: route, Timeout: timeout, Metadata: outgoingMetadata(ctx), Payload: payload}
	resp, err := c.t.RoundTrip(ctx, serverID, req)
	*req = Request{}
	c.reqs.Put(req)
	if err != nil {
		return asError(err)
	}
	if resp.Code != OK {
		return resp.Err()
	}
	if raw, ok := result.(*RawMessage); ok {
		*raw = resp.Payload // the transport gives the caller its own
		return nil
	}
	if result != nil {
		if err := c.opts.codec.Unmarshal(resp.Payload, result); err != nil {
			return Errorf(Internal, "%s: decode result: %v", route, err)
		}
	}
	return nil
}

// RawMessage is a call's arguments already encoded, or its result left
// encoded: for a connector that forwards a client's message to a backend and
// its answer back, and has no reason to decode either.
//
// Passed as the args of [Client.Invoke], its bytes are the call's payload,
// sent without the client's codec: they must be what the server's codec
// decodes into the route's arguments (with [JSON] and a generated service,
// an object {"a0":…,"a1":…} of the arguments by position). A *RawMessage
// passed as the result receives the answer's payload as it came, undecoded
// (with JSON, {"r0":…}), and empty for an error-only route; it is the
// caller's to keep. Interceptors see them as they are. The payload limit
// applies to raw arguments as to encoded ones.
type RawMessage []byte

// putBuf keeps the buffer payload was encoded into for the next call, unless
// it grew too large to keep.
func (c *Client) putBuf(buf *[]byte, payload []byte) {
	if cap(payload) <= maxRetainedBuffer {
		*buf = payload[:0]
		c.bufs.Put(buf)
	}
}

// maxRetainedBuffer is the largest buffer kept for reuse: a rare large call
// should not keep its memory alive for all the small ones.
const maxRetainedBuffer = 64 << 10

// asError makes sure err is an [*Error] (or wraps one), so that callers can
// always use [CodeOf] and errors.As.
func asError(err error) error {
	if err == nil {
		return nil
	}
	if nilPointerError(err) {
		return errNilError // a typed nil from an interceptor
	}
	var e *Error
	if errors.As(err, &e) {
		if e == nil {
			return errNilError
		}
		return err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return errDeadline
	case errors.Is(err, context.Canceled):
		return errCanceled
	}
	return &Error{code: Unknown, key: err.Error(), msg: err.Error()}
}
