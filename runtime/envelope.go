package runtime

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Request is the envelope of one call as it travels from client to server:
// the route, the encoded arguments, what is left of the caller's deadline and
// the caller's metadata. The timeout travels rather than an absolute time so
// that clocks of different machines never need to agree.
type Request struct {
	Route    string
	Timeout  time.Duration   // 0 when the caller set no deadline
	Metadata EncodedMetadata // empty when the caller sent none
	Payload  []byte          // the arguments, encoded by the codec
}

// Response is the envelope of one call's answer: a status and, on success,
// the encoded result.
type Response struct {
	Code    Code   // OK on success
	Key     string // the error's identity, see [Error.Is]; empty on success
	Message string // the error's message; empty on success
	Payload []byte // the result, encoded by the codec; empty for error-only methods
}

// Err returns the error the response carries, or nil when Code is OK.
func (r *Response) Err() error {
	if r.Code == OK {
		return nil
	}
	return errorFromStatus(r.Code, r.Key, r.Message)
}

// ErrorResponse returns the response that carries err to the caller, as
// [Server.Dispatch] sends it: the code and identity of the first [*Error] in
// its chain (Unknown for plain errors) and its message. Transports use it
// for the errors they answer themselves.
func ErrorResponse(err error) Response {
	c, key, msg := statusOf(err)
	if c == OK {
		c = Unknown
	}
	return Response{Code: c, Key: key, Message: msg}
}

// Wire format, shared by the network transports. Every field is
// length-prefixed with a uvarint; the payload runs to the end of the buffer,
// so the frame or message that holds an envelope delimits it.
//
//	request:  version(1) route timeout-ns(uvarint) n-metadata (key value)* payload
//	response: version(1) code(uvarint) key message payload
const envelopeVersion = 1

// Limits that keep a hostile peer from making a decoder allocate much.
const (
	maxRouteLen    = 1 << 10
	maxMetadata    = 64
	maxMetadataLen = 1 << 12
	maxMessageLen  = 1 << 16
)

// ErrMalformed is returned by [ParseRequest] and [ParseResponse] for bytes
// that are not an envelope.
var ErrMalformed = NewError(InvalidArgument, "malformed envelope")

// AppendRequest appends the wire form of r to buf.
func AppendRequest(buf []byte, r *Request) []byte {
	buf = append(buf, envelopeVersion)
	buf = appendString(buf, r.Route)
	t := r.Timeout
	if t < 0 {
		t = 0
	}
	buf = binary.AppendUvarint(buf, uint64(t))
	if r.Metadata.wire == "" {
		buf = append(buf, 0) // no entries
	} else {
		buf = append(buf, r.Metadata.wire...)
	}
	return append(buf, r.Payload...)
}

// ParseRequest decodes a request from its wire form. The result's Payload
// aliases data.
func ParseRequest(data []byte) (Request, error) { return parseRequest(data, nil) }

// parseRequest is [ParseRequest], taking the route's string from known when
// it is not nil and knows it.
func parseRequest(data []byte, known func(route []byte) (string, bool)) (Request, error) {
	d := decoder{data: data}
	if v := d.byte(); v != envelopeVersion && d.err == nil {
		return Request{}, fmt.Errorf("%w: unknown version %d", ErrMalformed, v)
	}
	var r Request
	if route := d.bytes(maxRouteLen); d.err == nil {
		var ok bool
		if known != nil {
			r.Route, ok = known(route)
		}
		if !ok {
			r.Route = string(route)
		}
	}
	t := d.uvarint()
	if t > uint64(1<<62) {
		d.fail("timeout out of range")
	}
	r.Timeout = time.Duration(t)
	// The metadata is checked here and kept in its wire form, in one string.
	block := d.data
	n := d.uvarint()
	if n > maxMetadata {
		d.fail("too many metadata entries")
	}
	if n > 0 && d.err == nil {
		for i := uint64(0); i < 2*n && d.err == nil; i++ {
			d.bytes(maxMetadataLen)
		}
		r.Metadata = EncodedMetadata{wire: string(block[:len(block)-len(d.data)])}
	}
	if d.err != nil {
		return Request{}, d.err
	}
	r.Payload = d.data
	return r, nil
}

// AppendResponse appends the wire form of r to buf.
func AppendResponse(buf []byte, r *Response) []byte {
	buf = append(buf, envelopeVersion)
	buf = binary.AppendUvarint(buf, uint64(r.Code))
	buf = appendString(buf, r.Key)
	buf = appendString(buf, r.Message)
	return append(buf, r.Payload...)
}

// ParseResponse decodes a response from its wire form. The result's Payload
// aliases data.
func ParseResponse(data []byte) (Response, error) {
	d := decoder{data: data}
	if v := d.byte(); v != envelopeVersion && d.err == nil {
		return Response{}, fmt.Errorf("%w: unknown version %d", ErrMalformed, v)
	}
	c := d.uvarint()
	if c > 1<<16 {
		d.fail("code out of range")
	}
	r := Response{Code: Code(c)}
	r.Key = d.string(maxMessageLen)
	r.Message = d.string(maxMessageLen)
	if d.err != nil {
		return Response{}, d.err
	}
	r.Payload = d.data
	return r, nil
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// decoder reads envelope fields, remembering the first error.
type decoder struct {
	data []byte
	err  error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, what)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.data) == 0 {
		d.fail("truncated")
		return 0
	}
	b := d.data[0]
	d.data = d.data[1:]
	return b
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.data)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.data = d.data[n:]
	return v
}

func (d *decoder) string(limit int) string { return string(d.bytes(limit)) }

// bytes reads a length-prefixed field; the result aliases the data.
func (d *decoder) bytes(limit int) []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(limit) {
		d.fail("field too long")
		return nil
	}
	if n > uint64(len(d.data)) {
		d.fail("truncated")
		return nil
	}
	b := d.data[:n:n]
	d.data = d.data[n:]
	return b
}
