package otelrpc

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// An Option configures the instrumentation made by [ClientOption],
// [ServerOption], [StoreOption] and the functions they are built on.
type Option func(*config)

type config struct {
	tp          trace.TracerProvider
	mp          metric.MeterProvider
	prop        propagation.TextMapPropagator
	routes      []string // nil: learn routes, up to maxRoutes
	maxRoutes   int
	kickReasons []string
}

// DefaultMaxRoutes is how many distinct routes a client records under their
// own names when [WithRoutes] does not list them: more are recorded as
// _OTHER.
const DefaultMaxRoutes = 512

// defaultKickReasons are the kick reasons that session metrics record as
// they are unless WithKickReasons says otherwise.
var defaultKickReasons = []string{"kick", "maintenance", "duplicate_login", "timeout", "idle", "banned", "shutdown", "server_full"}

func newConfig(opts []Option) *config {
	c := &config{maxRoutes: DefaultMaxRoutes, kickReasons: defaultKickReasons}
	for _, o := range opts {
		o(c)
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.prop == nil {
		c.prop = propagation.TraceContext{}
	}
	return c
}

// WithTracerProvider sets where spans go. The default is OpenTelemetry's
// global provider (otel.GetTracerProvider), which records nothing until the
// application sets one.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider sets where metrics go; the application picks the
// exporter (Prometheus, OTLP, stdout) when it builds the provider. The
// default is OpenTelemetry's global provider (otel.GetMeterProvider), which
// records nothing until the application sets one.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithPropagator sets how trace context travels in call metadata. The
// default is W3C Trace Context (traceparent and tracestate) alone, whatever
// the global propagator is, so that traces cross servers without setup; pass
// a composite to carry baggage too.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(c *config) { c.prop = p }
}

// WithRoutes lists the routes a client records under their own names; any
// other route is recorded as _OTHER, with the route it had in the span's
// rpc.method_original attribute. Without it, a client records the first
// [DefaultMaxRoutes] distinct routes it calls (or as many as
// [WithMaxRoutes] says) and the rest as _OTHER: routes come from generated
// clients, so a program calls a bounded set unless it builds route names at
// run time. Servers need no list: a route no service registered is always
// _OTHER.
func WithRoutes(routes ...string) Option {
	return func(c *config) { c.routes = append([]string{}, routes...) }
}

// WithMaxRoutes sets how many distinct routes a client without [WithRoutes]
// records under their own names (see there).
func WithMaxRoutes(n int) Option {
	return func(c *config) { c.maxRoutes = n }
}

// WithKickReasons sets the kick reasons session metrics record as they are:
// any other reason is recorded as "other", because callers choose the text
// of a reason and a metric must not grow a series per text. The default set
// is kick (what a kick without a reason carries), maintenance,
// duplicate_login, timeout, idle, banned, shutdown and server_full.
func WithKickReasons(reasons ...string) Option {
	return func(c *config) { c.kickReasons = append([]string{}, reasons...) }
}
