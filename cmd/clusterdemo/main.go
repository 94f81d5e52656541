// Clusterdemo runs a whole sessionrpc cluster in one process and proves
// that sys.sessionRemote does what SESSIONS.md (at the repository root)
// says, under load, over a real transport.
//
// Usage:
//
//	clusterdemo [-transport nats|tcp] [-nats URL] [-frontends N] [-backends N]
//	            [-clients N] [-workers N] [-duration D] [-seed S] [-trace] [-metrics ADDR]
//
// It starts an embedded NATS server on loopback (or uses the one -nats
// names), frontend servers ("connector-1", ...) that each hold -clients
// simulated client connections in a session store, and backend servers
// whose workers look sessions up by sid and by uid, bind and unbind uids,
// push single settings and whole setting maps, and kick by sid and by uid,
// all through the generated sys.sessionRemote client over the transport.
// A kicked client reconnects at once.
//
// Every worker owns a disjoint share of the sessions and uids and keeps a
// model of them, so every call's outcome is predicted, deliberate error
// paths included (unknown session, uid bound elsewhere, unbind of the wrong
// uid, empty uid, unknown server). At the end it compares every store and
// every connection's kicks with the models. It prints a line a second while
// it runs, then a report: calls and p50/p99 latency per operation, kicks,
// checks. It exits 0 only if every check held, 1 otherwise, 2 on bad usage.
//
// With -trace, every server traces one call in a hundred with otelrpc and
// the demo prints one traced backend → frontend call as a tree after the
// report; with -metrics ADDR, it serves the servers' call metrics and the
// frontends' session metrics to Prometheus at http://ADDR/metrics while it
// runs.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// cli runs the demo as the command line asks and returns the exit code.
// The report goes to stdout; progress and logs go to stderr.
func cli(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("clusterdemo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	fs.StringVar(&cfg.Transport, "transport", "nats", "the transport between servers: nats or tcp")
	fs.StringVar(&cfg.NATSURL, "nats", "", "the `URL` of an external NATS to use instead of an embedded one")
	fs.IntVar(&cfg.Frontends, "frontends", defaultFrontends, "frontend (connector) servers")
	fs.IntVar(&cfg.Backends, "backends", defaultBackends, "backend servers")
	fs.IntVar(&cfg.Clients, "clients", defaultClients, "client connections per frontend")
	fs.IntVar(&cfg.Workers, "workers", defaultWorkers, "worker goroutines per backend")
	fs.DurationVar(&cfg.Duration, "duration", defaultDuration, "how long the workload runs")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the workers' random choices (0: from the clock)")
	fs.IntVar(&cfg.Kill, "kill", 0, "frontends killed a third of the way through (no goodbye); calls to them must end, membership must drop them")
	fs.IntVar(&cfg.Restart, "restart", 0, "frontends killed and started again at once under the same id; no old reference may reach the new run")
	trace := fs.Bool("trace", false, "trace 1 call in 100 and print one traced backend → frontend call as a tree after the report")
	fs.StringVar(&cfg.MetricsAddr, "metrics", "", "serve Prometheus metrics of the servers and session stores at http://`ADDR`/metrics while running")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "clusterdemo: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return 2
	}
	if cfg.Duration <= 0 {
		fmt.Fprintln(stderr, "clusterdemo: -duration must be positive")
		return 2
	}
	if _, err := cfg.withDefaults(); err != nil {
		fmt.Fprintf(stderr, "clusterdemo: %v\n", err)
		return 2
	}
	cfg.Progress = stderr
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// The first interrupt stops the workload early; the checks and the
	// report still run. A second one kills the process as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()

	var traced bytes.Buffer
	if *trace {
		cfg.Trace = &traced
	}
	rep, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "clusterdemo: %v\n", err)
		return 1
	}
	if err := rep.Write(stdout); err != nil {
		fmt.Fprintf(stderr, "clusterdemo: %v\n", err)
		return 1
	}
	if _, err := traced.WriteTo(stdout); err != nil {
		fmt.Fprintf(stderr, "clusterdemo: %v\n", err)
		return 1
	}
	if !rep.OK() {
		return 1
	}
	return 0
}
