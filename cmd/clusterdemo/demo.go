package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// Config says what cluster [Run] starts and how long it drives it. The zero
// value of a field means its default.
type Config struct {
	// Transport is "nats" (the default) or "tcp".
	Transport string
	// NATSURL points at an external NATS; empty starts an embedded one on
	// loopback. Membership is on NATS whatever the transport.
	NATSURL string
	// Frontends and Backends are the numbers of servers of each kind
	// (default 2 each).
	Frontends, Backends int
	// Clients is the number of client connections each frontend holds
	// (default 300). A kicked client reconnects at once, so the number stays.
	Clients int
	// Workers is the number of goroutines per backend, each driving its own
	// share of the clients (default 8).
	Workers int
	// Duration is how long the workload runs (default 10s).
	Duration time.Duration
	// MinCallsPerOp, when positive, makes the workload run on past Duration
	// until every operation has been called this many times (or ctx ends):
	// tests ask for work done, not for time spent, so that a slow machine
	// makes them slower, never failing.
	MinCallsPerOp int
	// CallTimeout bounds every call a worker makes (default 5s); none
	// should come near it.
	CallTimeout time.Duration
	// Kill is the number of frontends killed a third of the way through
	// the run (their connections cut, no goodbye); Restart the number
	// killed and started again at once under the same id. At least one
	// frontend must be left untouched.
	Kill, Restart int
	// Seed seeds the workers' random choices; 0 picks one from the clock.
	Seed uint64
	// Progress receives one line per second while the workload runs; nil
	// prints nothing.
	Progress io.Writer
	// Logger receives what the demo and the transports log; nil means
	// slog.Default().
	Logger *slog.Logger

	// Trace, when set, makes every server trace one call in a hundred and
	// receives one traced backend → frontend call as a tree at the end.
	Trace io.Writer
	// MetricsAddr, when set, is where Prometheus metrics of every server's
	// calls and every frontend's sessions are served, at /metrics, while
	// the demo runs.
	MetricsAddr string

	// traceRatio, when set, replaces the share of calls -trace samples: the
	// tests trace every call, so that a short run surely has one.
	traceRatio float64
	// onMetrics, when set, is told the URL of the metrics once they are
	// served: the tests scrape it.
	onMetrics func(url string)

	// wrapFrontend, when set, stands between a frontend's sys.sessionRemote
	// implementation and its server: the tests use it to make a frontend
	// misbehave and prove that the checks notice.
	wrapFrontend func(frontendID string, store *session.Store, impl sessionremote.SessionRemote) sessionremote.SessionRemote
}

// Defaults, chosen so that a run with no flags takes about 11 seconds.
const (
	defaultFrontends = 2
	defaultBackends  = 2
	defaultClients   = 300
	defaultWorkers   = 8
	defaultDuration  = 10 * time.Second

	defaultCallTimeout = 5 * time.Second
	// stopTimeout bounds the graceful shutdown of the whole cluster.
	stopTimeout = 10 * time.Second
)

// withDefaults fills in the zero fields of cfg and rejects what cannot run.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Transport == "" {
		cfg.Transport = "nats"
	}
	setDefault(&cfg.Frontends, defaultFrontends)
	setDefault(&cfg.Backends, defaultBackends)
	setDefault(&cfg.Clients, defaultClients)
	setDefault(&cfg.Workers, defaultWorkers)
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = defaultCallTimeout
	}
	if cfg.Duration == 0 {
		cfg.Duration = defaultDuration
	}
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	switch {
	case cfg.Transport != "nats" && cfg.Transport != "tcp":
		return cfg, fmt.Errorf("unknown transport %q: want nats or tcp", cfg.Transport)
	case cfg.Frontends < 1 || cfg.Backends < 1 || cfg.Clients < 1 || cfg.Workers < 1:
		return cfg, errors.New("frontends, backends, clients and workers must be at least 1")
	case cfg.Duration < 0:
		return cfg, errors.New("duration must be positive")
	case cfg.Kill < 0 || cfg.Restart < 0 || cfg.Kill+cfg.Restart >= cfg.Frontends:
		return cfg, fmt.Errorf("-kill %d and -restart %d leave no frontend of %d untouched", cfg.Kill, cfg.Restart, cfg.Frontends)
	case cfg.survivors()*cfg.Clients < cfg.Backends*cfg.Workers:
		return cfg, fmt.Errorf("%d clients on the frontends no fault touches cannot keep %d workers busy: every worker needs a client of its own",
			cfg.survivors()*cfg.Clients, cfg.Backends*cfg.Workers)
	}
	return cfg, nil
}

// survivors is the number of frontends no fault touches.
func (cfg Config) survivors() int { return cfg.Frontends - cfg.Kill - cfg.Restart }

func setDefault(n *int, def int) {
	if *n == 0 {
		*n = def
	}
}

// stopWhenDone cancels the workload once it has run cfg.Duration and every
// operation has been called cfg.MinCallsPerOp times.
func stopWhenDone(ctx context.Context, cancel context.CancelFunc, start time.Time, cfg Config, live *progress) {
	t := time.NewTimer(cfg.Duration)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !live.atLeast(cfg.MinCallsPerOp) {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
	cancel()
}

// Run starts a cluster as cfg describes, drives it with the workload for
// cfg.Duration or until ctx ends, checks every session and connection
// against the workers' models, stops the cluster and reports. It returns an
// error only when the cluster cannot run at all; whether every check held
// is [Report.OK].
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	obs, err := newObservability(cfg)
	if err != nil {
		return nil, err
	}
	c, err := startCluster(ctx, cfg, obs)
	if err != nil {
		_ = obs.close(context.Background())
		return nil, err
	}
	live := &progress{}
	n := cfg.survivors()
	workers := newWorkers(cfg, c, n, live)
	faults := faultsAt(cfg, c)
	faulty := newFaultWorkers(cfg, c, faults)
	c.connectClients(func(fe int) []*mailbox {
		var owners []*mailbox
		if fe < n {
			for _, w := range workers {
				owners = append(owners, w.inbox)
			}
		} else {
			for _, w := range faulty[fe] {
				owners = append(owners, w.inbox)
			}
		}
		return owners
	})
	attrs := []any{"transport", cfg.Transport, "frontends", cfg.Frontends, "backends", cfg.Backends,
		"clients", cfg.Frontends * cfg.Clients, "workers", len(workers), "duration", cfg.Duration, "seed", cfg.Seed}
	if c.natsURL != "" {
		attrs = append(attrs, "nats", c.natsURL)
	}
	cfg.Logger.Info("cluster up", attrs...)

	runCtx, cancel := context.WithCancel(ctx)
	start := time.Now()
	go stopWhenDone(runCtx, cancel, start, cfg, live)
	var wg, fwg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(runCtx) })
	}
	watchCtx, stopWatching := context.WithCancel(context.Background())
	watchLeaves(watchCtx, c, faults, &fwg)
	for _, ws := range faulty {
		for _, w := range ws {
			fwg.Go(func() { w.run(runCtx, c) })
		}
	}
	if len(faults) > 0 {
		fwg.Go(func() { injectFaults(runCtx, c, faults, faulty, cfg.Duration/3) })
	}
	done := make(chan struct{})
	var pwg sync.WaitGroup
	if cfg.Progress != nil {
		pwg.Go(func() { live.print(cfg.Progress, start, done) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	cancel()
	if len(faults) > 0 {
		// Let every backend see the killed runs leave (a leave bound),
		// bounded, so that the report can say when they did.
		waitLeaves(c, faults, startTimeout)
	}
	stopWatching()
	fwg.Wait()
	close(done)
	pwg.Wait()

	rep := newReport(cfg, c, workers, elapsed)
	rep.Interrupted = ctx.Err() != nil
	verify(c, workers, n, rep)
	verifyShared(c, workers, n, rep)
	for _, f := range faults {
		rep.Faults = append(rep.Faults, f.report(c, start, faulty[f.fe], &rep.Checks))
	}

	stopCtx, stop := context.WithTimeout(context.Background(), stopTimeout)
	defer stop()
	err = c.stop(stopCtx)
	rep.Checks.check(err == nil, "stopping the cluster: %v", err)
	if cfg.Trace != nil {
		if err := obs.writeTrace(cfg.Trace); err != nil {
			return nil, err
		}
	}
	if err := obs.close(stopCtx); err != nil {
		cfg.Logger.Warn("stopping tracing and metrics", "err", err)
	}
	return rep, nil
}
