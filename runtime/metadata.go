package runtime

import "context"

// Metadata is the key-value data that travels with a call beside its
// arguments: trace ids, the caller's identity. Keys are case-sensitive.
type Metadata map[string]string

type outgoingKey struct{}
type incomingKey struct{}

// WithMetadata returns a context whose calls carry md, merged over any
// metadata ctx already carries.
func WithMetadata(ctx context.Context, md Metadata) context.Context {
	old, _ := ctx.Value(outgoingKey{}).(Metadata)
	merged := make(Metadata, len(old)+len(md))
	for k, v := range old {
		merged[k] = v
	}
	for k, v := range md {
		merged[k] = v
	}
	return context.WithValue(ctx, outgoingKey{}, merged)
}

// outgoingMetadata returns the metadata a client sends with a call on ctx.
func outgoingMetadata(ctx context.Context) Metadata {
	md, _ := ctx.Value(outgoingKey{}).(Metadata)
	return md
}

// MetadataFromContext returns the metadata the caller sent, inside a handler
// or a server interceptor. The map is the handler's own: changing it changes
// nothing for the caller.
func MetadataFromContext(ctx context.Context) Metadata {
	md, _ := ctx.Value(incomingKey{}).(Metadata)
	return md
}

func withIncomingMetadata(ctx context.Context, md Metadata) context.Context {
	return context.WithValue(ctx, incomingKey{}, md)
}

// clone returns a copy of md, or nil when it is empty.
func (md Metadata) clone() Metadata {
	if len(md) == 0 {
		return nil
	}
	c := make(Metadata, len(md))
	for k, v := range md {
		c[k] = v
	}
	return c
}
