package runtime

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
)

// Metadata is the key-value data that travels with a call beside its
// arguments: trace ids, the caller's identity. Keys are case-sensitive.
type Metadata map[string]string

// EncodedMetadata is metadata in the form a call carries it: its wire form,
// held in one immutable string, so that a call's metadata costs one
// allocation on each side however many keys it has, and none to copy. The
// zero value is empty. Build one with [Metadata.Encode]; read it with
// [EncodedMetadata.Get] or [EncodedMetadata.Map].
type EncodedMetadata struct {
	wire string // n (key value)*, each a uvarint length and bytes; "" when n is 0
}

// Encode returns md in wire form. Keys come out in the map's (random) order.
func (md Metadata) Encode() EncodedMetadata {
	if len(md) == 0 {
		return EncodedMetadata{}
	}
	size := uvarintLen(uint64(len(md)))
	for k, v := range md {
		size += uvarintLen(uint64(len(k))) + len(k) + uvarintLen(uint64(len(v))) + len(v)
	}
	var b strings.Builder // one allocation, of exactly the size
	b.Grow(size)
	var n [binary.MaxVarintLen64]byte
	b.Write(binary.AppendUvarint(n[:0], uint64(len(md))))
	for k, v := range md {
		b.Write(binary.AppendUvarint(n[:0], uint64(len(k))))
		b.WriteString(k)
		b.Write(binary.AppendUvarint(n[:0], uint64(len(v))))
		b.WriteString(v)
	}
	return EncodedMetadata{wire: b.String()}
}

func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// Len returns the number of entries, counting a key sent twice twice.
func (e EncodedMetadata) Len() int {
	s := e.wire
	n, _ := nextUvarint(&s)
	return int(n)
}

// Get returns the value of key. A key sent twice has its last value, as
// [EncodedMetadata.Map] gives it.
func (e EncodedMetadata) Get(key string) (value string, ok bool) {
	e.each(func(k, v string) {
		if k == key {
			value, ok = v, true
		}
	})
	return value, ok
}

// Map returns the entries in a new map, the caller's own.
func (e EncodedMetadata) Map() Metadata {
	if e.wire == "" {
		return nil
	}
	md := make(Metadata, e.Len())
	e.each(func(k, v string) { md[k] = v })
	return md
}

// String formats the entries as a map prints, keys sorted.
func (e EncodedMetadata) String() string { return fmt.Sprint(map[string]string(e.Map())) }

// each calls f with every entry in order. The wire form is always well
// formed (Encode and the request parser make it), but each stops at the
// first thing that is not, rather than trust that.
func (e EncodedMetadata) each(f func(k, v string)) {
	s := e.wire
	n, ok := nextUvarint(&s)
	for ; ok && n > 0; n-- {
		k, ok1 := nextString(&s)
		v, ok2 := nextString(&s)
		if !ok1 || !ok2 {
			return
		}
		f(k, v)
	}
}

// with returns e with md's entries added, replacing those of the same key.
func (e EncodedMetadata) with(md Metadata) EncodedMetadata {
	if e.wire == "" {
		return md.Encode()
	}
	if len(md) == 0 {
		return e
	}
	var body []byte
	count := 0
	e.each(func(k, v string) {
		if _, replaced := md[k]; !replaced {
			body = appendString(body, k)
			body = appendString(body, v)
			count++
		}
	})
	for k, v := range md {
		body = appendString(body, k)
		body = appendString(body, v)
		count++
	}
	wire := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(body)), uint64(count))
	return EncodedMetadata{wire: string(append(wire, body...))}
}

func nextUvarint(s *string) (uint64, bool) {
	var v uint64
	for i := 0; i < len(*s) && i < binary.MaxVarintLen64; i++ {
		b := (*s)[i]
		if i == binary.MaxVarintLen64-1 && b > 1 {
			return 0, false // overflows 64 bits
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			*s = (*s)[i+1:]
			return v, true
		}
	}
	return 0, false
}

func nextString(s *string) (string, bool) {
	n, ok := nextUvarint(s)
	if !ok || n > uint64(len(*s)) {
		return "", false
	}
	v := (*s)[:n]
	*s = (*s)[n:]
	return v, true
}

type outgoingKey struct{}
type incomingKey struct{}

// metadataContext carries a call's metadata, outgoing or incoming, for one
// allocation where context.WithValue takes two (the value's box and the
// context).
type metadataContext struct {
	context.Context
	key any // outgoingKey{} or incomingKey{}
	md  EncodedMetadata
}

func (c *metadataContext) Value(key any) any {
	if key == c.key {
		return &c.md
	}
	return c.Context.Value(key)
}

func metadataOf(ctx context.Context, key any) EncodedMetadata {
	if md, ok := ctx.Value(key).(*EncodedMetadata); ok {
		return *md
	}
	return EncodedMetadata{}
}

// WithMetadata returns a context whose calls carry md, merged over any
// metadata ctx already carries. md is copied: changing it afterwards
// changes nothing.
func WithMetadata(ctx context.Context, md Metadata) context.Context {
	if len(md) == 0 {
		return ctx
	}
	return &metadataContext{Context: ctx, key: outgoingKey{}, md: outgoingMetadata(ctx).with(md)}
}

// outgoingMetadata returns the metadata a client sends with a call on ctx.
func outgoingMetadata(ctx context.Context) EncodedMetadata { return metadataOf(ctx, outgoingKey{}) }

// MetadataFromContext returns the metadata the caller sent, inside a handler
// or a server interceptor, in a new map: the caller's own. To read one key,
// [MetadataValue] is cheaper.
func MetadataFromContext(ctx context.Context) Metadata {
	return IncomingMetadata(ctx).Map()
}

// MetadataValue returns the value of one key of the metadata the caller
// sent, inside a handler or a server interceptor.
func MetadataValue(ctx context.Context, key string) (string, bool) {
	return IncomingMetadata(ctx).Get(key)
}

// IncomingMetadata returns the metadata the caller sent as it arrived,
// inside a handler or a server interceptor.
func IncomingMetadata(ctx context.Context) EncodedMetadata { return metadataOf(ctx, incomingKey{}) }

func withIncomingMetadata(ctx context.Context, md EncodedMetadata) context.Context {
	return &metadataContext{Context: ctx, key: incomingKey{}, md: md}
}
