// Package otelrpc is OpenTelemetry tracing and metrics for sessionrpc: one
// option per side.
//
//	client := runtime.NewClient(tr, otelrpc.ClientOption())            // a backend's calls
//	srv := runtime.NewServer(otelrpc.ServerOption())                   // calls it serves
//	store := session.NewStore("connector-1", otelrpc.StoreOption())    // a frontend's sessions
//
// Spans and metrics go to OpenTelemetry's global providers unless
// [WithTracerProvider] and [WithMeterProvider] say otherwise; the exporter
// (Prometheus, OTLP, stdout) is the application's choice, made when it
// builds the providers. sessionrpc's other packages do not import
// OpenTelemetry: a program that does not import this package does not pay
// for it.
//
// # Traces
//
// Every call gets a client span on the caller and a server span on the
// server, following the RPC semantic conventions of semconv v1.43.0 (the
// newest in go.opentelemetry.io/otel v1.47.0): span name and rpc.method are
// the route ("sys.sessionRemote.bind"), rpc.system.name is "sessionrpc",
// rpc.response.status_code is the status code as gRPC spells it ("OK",
// "NOT_FOUND"), error.type is set to it on failure, server.address on the
// client span is the target server id. A client span ends in error for any
// failure; a server span only for codes that are the server's fault
// (Unknown, DeadlineExceeded, Unimplemented, Internal, Unavailable,
// DataLoss), as the gRPC conventions have it.
//
// The client puts the W3C trace context of its span in the call's metadata
// (traceparent, tracestate); the server continues that trace, on every
// transport, or starts a new one when the call carries none. The server
// span is in the context the handler gets, so the calls a handler makes are
// its children: a trace follows a request from frontend to backend and
// back.
//
// Sampling is decided where a trace starts, by that tracer provider's
// sampler: with sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01)), one
// request in a hundred is traced end to end. A call whose trace its root did
// not sample is not traced downstream either, whatever the servers' own
// samplers say: the server and the calls its handler makes follow the
// caller's decision, as a parent-based sampler (the SDK's default) would,
// and pass its trace context on without starting spans, which saves most of
// the cost of tracing on the calls that are not sampled.
//
// # Metrics
//
// By route and final code (rpc.method, rpc.response.status_code, error.type):
//
//	rpc.client.call.duration          histogram, s     every call a client made
//	rpc.server.call.duration          histogram, s     every call a server answered, refused ones included
//	sessionrpc.client.active_calls    up-down counter  calls made and not yet answered (by route)
//	sessionrpc.server.active_calls    up-down counter  calls being served (by route)
//	sessionrpc.server.request.bytes   counter, By      bytes of request envelopes served
//	sessionrpc.server.response.bytes  counter, By      bytes of results sent
//
// The conventions define the first two; the others are sessionrpc's own. A
// server records every call its [runtime.Observer] sees, which includes
// calls refused before their handler ran (unknown route, admission, budget,
// undecodable arguments, shutdown), each once. A client's interceptor sees
// every call made through it.
//
// Cardinality is bounded: a route no service registered is recorded on the
// server as _OTHER (any caller can make routes up), and a client records at
// most [DefaultMaxRoutes] routes under their own names unless [WithRoutes]
// lists them. Session metrics bucket kick reasons: see [NewSessionObserver]
// and [WithKickReasons].
//
// Logs with trace ids are package slogrpc's.
package otelrpc
