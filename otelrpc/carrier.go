package otelrpc

import (
	"context"

	"github.com/sessionrpc/sessionrpc/runtime"
	"go.opentelemetry.io/otel/propagation"
)

// metadataCarrier lets a propagator read and write call metadata.
type metadataCarrier runtime.Metadata

var _ propagation.TextMapCarrier = metadataCarrier(nil)

func (m metadataCarrier) Get(key string) string { return m[key] }

func (m metadataCarrier) Set(key, value string) { m[key] = value }

func (m metadataCarrier) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// inject returns ctx with the trace context of its span added to the
// metadata its calls carry.
func inject(ctx context.Context, p propagation.TextMapPropagator) context.Context {
	md := make(metadataCarrier, 2)
	p.Inject(ctx, md)
	if len(md) == 0 {
		return ctx
	}
	return runtime.WithMetadata(ctx, runtime.Metadata(md))
}

// extract returns ctx with the trace context the caller sent, if any, as
// the remote parent of the spans started from it.
func extract(ctx context.Context, p propagation.TextMapPropagator) context.Context {
	md := runtime.MetadataFromContext(ctx)
	if len(md) == 0 {
		return ctx
	}
	return p.Extract(ctx, metadataCarrier(md))
}
