package otelrpc

import (
	"context"
	"encoding/hex"

	"github.com/sessionrpc/sessionrpc/runtime"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
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

// injectW3C is inject for the W3C Trace Context propagator, from the span
// context at hand: it writes what propagation.TraceContext writes, without
// a carrier map or a walk up ctx to find the span.
func injectW3C(ctx context.Context, sc trace.SpanContext) context.Context {
	var buf [55]byte // 00-<trace id>-<span id>-<flags>
	tid, sid := sc.TraceID(), sc.SpanID()
	b := append(buf[:0], "00-"...)
	b = hex.AppendEncode(b, tid[:])
	b = append(b, '-')
	b = hex.AppendEncode(b, sid[:])
	b = append(b, '-')
	// Only the flags the specification defines travel: sampled and random.
	b = hex.AppendEncode(b, []byte{byte(sc.TraceFlags() & (trace.FlagsSampled | trace.FlagsRandom))})
	md := runtime.Metadata{traceparent: string(b)}
	if ts := sc.TraceState().String(); ts != "" {
		md[tracestate] = ts
	}
	return runtime.WithMetadata(ctx, md)
}

// The W3C Trace Context metadata keys.
const (
	traceparent = "traceparent"
	tracestate  = "tracestate"
)

// extract returns ctx with the trace context the caller sent, if any, as
// the remote parent of the spans started from it, and that parent (invalid
// when there is none).
func extract(ctx context.Context, p propagation.TextMapPropagator) (context.Context, trace.SpanContext) {
	md := runtime.IncomingMetadata(ctx)
	if md.Len() == 0 {
		return ctx, trace.SpanContext{}
	}
	ctx = p.Extract(ctx, incomingCarrier{md})
	return ctx, trace.SpanContextFromContext(ctx)
}

// incomingCarrier lets a propagator read the metadata a call arrived with,
// key by key, without a map.
type incomingCarrier struct{ md runtime.EncodedMetadata }

var _ propagation.TextMapCarrier = incomingCarrier{}

func (c incomingCarrier) Get(key string) string {
	v, _ := c.md.Get(key)
	return v
}

// Set does nothing: what arrived is not written to.
func (incomingCarrier) Set(string, string) {}

func (c incomingCarrier) Keys() []string { return metadataCarrier(c.md.Map()).Keys() }
