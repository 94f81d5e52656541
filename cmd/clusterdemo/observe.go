package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sessionrpc/sessionrpc/internal/spanview"
	"github.com/sessionrpc/sessionrpc/otelrpc"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// traceRatio is the share of calls -trace samples: what a production cluster
// would run with.
const traceRatio = 0.01

// keptSpans bounds the sampled spans -trace keeps in memory: enough for
// many whole traces, whatever the run's length.
const keptSpans = 4000

// observability is what -trace and -metrics install on the servers: each
// server its own tracer provider (as each would in its own process), all
// recording into one span keeper, and one meter provider for the process,
// read by Prometheus. Without either flag it installs nothing.
type observability struct {
	log   *slog.Logger
	keep  *spanKeeper // nil without -trace
	ratio float64     // of calls traced

	mu  sync.Mutex
	tps map[string]*sdktrace.TracerProvider // by server id

	mp      *sdkmetric.MeterProvider // nil without -metrics
	metrics *http.Server
	served  chan error
	url     string
}

func newObservability(cfg Config) (*observability, error) {
	o := &observability{log: cfg.Logger, ratio: traceRatio, tps: map[string]*sdktrace.TracerProvider{}}
	if cfg.traceRatio > 0 {
		o.ratio = cfg.traceRatio
	}
	if cfg.Trace != nil {
		o.keep = &spanKeeper{}
	}
	if cfg.MetricsAddr == "" {
		return o, nil
	}
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("-metrics: %w", err)
	}
	o.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp),
		sdkmetric.WithResource(resource.NewSchemaless(semconv.ServiceName("clusterdemo"))))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	o.metrics = &http.Server{Handler: mux}
	o.served = make(chan error, 1)
	o.url = "http://" + ln.Addr().String() + "/metrics"
	go func() { o.served <- o.metrics.Serve(ln) }()
	o.log.Info("serving Prometheus metrics", "url", o.url)
	if cfg.onMetrics != nil {
		cfg.onMetrics(o.url)
	}
	return o, nil
}

// options returns the otelrpc options of server id.
func (o *observability) options(id string) []otelrpc.Option {
	var opts []otelrpc.Option
	if o.keep != nil {
		o.mu.Lock()
		tp := o.tps[id]
		if tp == nil {
			tp = sdktrace.NewTracerProvider(
				sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(o.ratio))),
				sdktrace.WithSpanProcessor(o.keep),
				sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceInstanceID(id))),
			)
			o.tps[id] = tp
		}
		o.mu.Unlock()
		opts = append(opts, otelrpc.WithTracerProvider(tp))
	}
	if o.mp != nil {
		opts = append(opts, otelrpc.WithMeterProvider(o.mp))
	}
	return opts
}

// on reports whether anything is installed.
func (o *observability) on() bool { return o.keep != nil || o.mp != nil }

// serverOptions instruments the runtime.Server of server id.
func (o *observability) serverOptions(id string) []runtime.ServerOption {
	if !o.on() {
		return nil
	}
	return []runtime.ServerOption{otelrpc.ServerOption(o.options(id)...)}
}

// clientOptions instruments the runtime.Client of server id.
func (o *observability) clientOptions(id string) []runtime.ClientOption {
	if !o.on() {
		return nil
	}
	return []runtime.ClientOption{otelrpc.ClientOption(o.options(id)...)}
}

// storeOptions instruments the session store of frontend id.
func (o *observability) storeOptions(id string) []session.Option {
	if o.mp == nil {
		return nil
	}
	return []session.Option{otelrpc.StoreOption(o.options(id)...)}
}

// writeTrace writes one sampled backend → frontend call as a tree: the
// first whose client span succeeded and whose server span was recorded.
func (o *observability) writeTrace(w io.Writer) error {
	if o.keep == nil {
		return nil
	}
	for _, roots := range spanview.Traces(spanview.FromSDK(o.keep.spans())) {
		r := roots[0]
		if len(roots) == 1 && r.Kind == "client" && r.Status == "OK" && len(r.Children) > 0 {
			fmt.Fprintf(w, "\nOne traced call (%g%% of calls are traced):\n", o.ratio*100)
			return spanview.WriteTree(w, roots)
		}
	}
	_, err := fmt.Fprintln(w, "\nNo call was traced: the run was too short for 1 call in 100 to be sampled.")
	return err
}

// close stops serving metrics and shuts the providers down.
func (o *observability) close(ctx context.Context) error {
	var errs []error
	for _, tp := range o.tps {
		errs = append(errs, tp.Shutdown(ctx))
	}
	if o.mp != nil {
		errs = append(errs, o.metrics.Shutdown(ctx))
		if err := <-o.served; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
		errs = append(errs, o.mp.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// spanKeeper is the span processor of -trace: it keeps the first keptSpans
// sampled spans that end.
type spanKeeper struct {
	mu   sync.Mutex
	kept []sdktrace.ReadOnlySpan
}

func (k *spanKeeper) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

func (k *spanKeeper) OnEnd(s sdktrace.ReadOnlySpan) {
	k.mu.Lock()
	if len(k.kept) < keptSpans {
		k.kept = append(k.kept, s)
	}
	k.mu.Unlock()
}

func (k *spanKeeper) Shutdown(context.Context) error   { return nil }
func (k *spanKeeper) ForceFlush(context.Context) error { return nil }

func (k *spanKeeper) spans() []sdktrace.ReadOnlySpan {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]sdktrace.ReadOnlySpan(nil), k.kept...)
}
