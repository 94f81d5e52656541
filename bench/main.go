// Command bench compares sessionrpc's transports with gRPC, arpc, rpcx,
// net/rpc, plain NATS, a raw multiplexed TCP floor and a raw TCP ping-pong,
// in one process on loopback: serial latency, throughput under concurrent
// callers, and allocations per call.
//
//	go run .                 # table
//	go run . -json           # JSON array: name, serial_us_p50, serial_us_p99, calls_per_s, allocs_per_call
//	go run . -sweep          # calls/s, p99 and CPU per call at 1, 8, 64 and 256 callers
//	go run . -sweep -svg f   # the same, and a chart of calls/s against callers in f
//	go run . -only a,b       # a subset (also runs the extra peers)
//	go run . -quick          # a smoke run
//
// Compare peers within one run: the numbers of different runs, on a shared
// machine, are not comparable.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// peer is one stack under test and how to start it.
type peer struct {
	name  string
	start func(*env) (target, error)
	extra bool // run only when named by -only
}

var peers = []peer{
	{name: "sessionrpc-inproc", start: newInProc},
	{name: "sessionrpc-tcp", start: newTCP},
	{name: "sessionrpc-nats", start: newNATS},
	{name: "sessionrpc-nats-single", start: newNATSSingle},
	{name: "grpc-go", start: newGRPC},
	{name: "arpc", start: newARPC},
	{name: "rpcx", start: newRPCX},
	{name: "net-rpc", start: newNetRPC},
	{name: "raw-mux-tcp", start: newRawMux},
	{name: "raw-tcp-pingpong", start: newRawTCP},
	{name: "nats-request", start: newNATSRequest},
	{name: "sessionrpc-tcp-push-1", start: sessionPeer(false, 1), extra: true},
	{name: "sessionrpc-tcp-push-10", start: sessionPeer(false, 10), extra: true},
	{name: "sessionrpc-tcp-push-100", start: sessionPeer(false, 100), extra: true},
	{name: "sessionrpc-tcp-get-1", start: sessionPeer(true, 1), extra: true},
	{name: "sessionrpc-tcp-get-10", start: sessionPeer(true, 10), extra: true},
	{name: "sessionrpc-tcp-get-100", start: sessionPeer(true, 100), extra: true},
	{name: "sessionrpc-tcp-otel-1pct", start: newTCPOtel1Pct, extra: true},
	{name: "sessionrpc-tcp-otel-always", start: newTCPOtelAlways, extra: true},
	{name: "sessionrpc-tcp-otel-traces", start: newTCPOtelTraces, extra: true},
	{name: "sessionrpc-tcp-otel-metrics", start: newTCPOtelMetrics, extra: true},
	{name: "sessionrpc-tcp-traceparent", start: newTCPTraceparent, extra: true},
	{name: "grpc-go-raw", start: newGRPCRaw, extra: true},
	{name: "arpc-raw", start: newARPCRaw, extra: true},
	{name: "rpcx-msgpack", start: newRPCXMsgpack, extra: true},
	{name: "raw-mux-tcp-go", start: newRawMuxGo, extra: true},
}

// sweepPeers are the peers -sweep runs unless -only names others: the
// sessionrpc transports that cross a network, the RPC stacks they compete
// with, and the floor of each (raw-mux-tcp, nats-request).
var sweepPeers = []string{"sessionrpc-tcp", "sessionrpc-nats", "grpc-go", "arpc", "rpcx", "net-rpc", "raw-mux-tcp", "nats-request"}

// config is what the flags ask for.
type config struct {
	json, sweep bool
	svg         string // file to draw the sweep in, or ""
	only        []string
	serial      int           // timed serial calls
	warm        int           // serial calls before timing
	duration    time.Duration // of each concurrent phase
	callers     int           // of the throughput phase
	levels      []int         // callers of each sweep phase
	rounds      int           // runs of everything; each figure is the median
}

// result is one row of the main output; its JSON keys are the interface
// other tools read, so they are exactly these.
type result struct {
	Name          string  `json:"name"`
	SerialUsP50   float64 `json:"serial_us_p50"`
	SerialUsP99   float64 `json:"serial_us_p99"`
	CallsPerS     float64 `json:"calls_per_s"`
	AllocsPerCall float64 `json:"allocs_per_call"`

	// For the table only: CPU time and system calls per call in the
	// throughput phase (see [osStats]).
	cpuUs, syscalls float64
}

// sweepResult is one point of the sweep.
type sweepResult struct {
	Name      string  `json:"name"`
	Callers   int     `json:"callers"`
	CallsPerS float64 `json:"calls_per_s"`
	P99Us     float64 `json:"p99_us"`
	CPUUs     float64 `json:"cpu_us_per_call"`
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
		os.Exit(1)
	}
}

// run is the command: flags in args, results to stdout, progress and
// errors to stderr.
func run(args []string, stdout, stderr io.Writer) error {
	if isScale(args) {
		return runScale(args, stdout, stderr) // scale.go
	}
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	names := cfg.only
	if names == nil {
		if cfg.sweep {
			names = sweepPeers
		} else {
			for _, p := range peers {
				if !p.extra {
					names = append(names, p.name)
				}
			}
		}
	}
	e := &env{}
	defer e.close()
	fmt.Fprintf(stderr, "bench: GOMAXPROCS=%d, %d serial calls, %v per concurrent phase\n", runtime.GOMAXPROCS(0), cfg.serial, cfg.duration)
	var failed []string
	if cfg.sweep {
		var got map[string][][]sweepResult
		got, failed = runRounds(names, cfg.rounds, stderr, func(p *peer) ([]sweepResult, error) { return sweepOne(e, p, cfg, stderr) })
		var out []sweepResult
		for _, name := range names {
			if rs, ok := got[name]; ok {
				out = append(out, medianSweep(rs)...)
			}
		}
		if cfg.json {
			err = writeJSON(stdout, out)
		} else {
			err = writeSweep(stdout, out, cfg.levels)
		}
		if err == nil && cfg.svg != "" {
			err = writeSVGFile(cfg.svg, out, fmt.Sprintf("in one process on loopback, GOMAXPROCS=%d, %v per point, median of %d round(s)", runtime.GOMAXPROCS(0), cfg.duration, cfg.rounds))
		}
	} else {
		var got map[string][]result
		got, failed = runRounds(names, cfg.rounds, stderr, func(p *peer) (result, error) { return benchOne(e, p, cfg) })
		var out []result
		for _, name := range names {
			if rs, ok := got[name]; ok {
				out = append(out, medianResult(rs))
			}
		}
		if cfg.json {
			err = writeJSON(stdout, out)
		} else {
			err = writeTable(stdout, out, cfg.callers)
		}
	}
	if err != nil {
		return err
	}
	if failed != nil {
		return fmt.Errorf("failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// runRounds runs one for each named peer, rounds times in turn (so that a
// change in the machine's load falls on every peer alike), and returns each
// peer's results. A peer that fails is reported on stderr and left out.
func runRounds[T any](names []string, rounds int, stderr io.Writer, one func(*peer) (T, error)) (got map[string][]T, failed []string) {
	got = map[string][]T{}
	for r := range rounds {
		for _, name := range names {
			if slices.Contains(failed, name) {
				continue
			}
			fmt.Fprintf(stderr, "bench: round %d/%d: %s\n", r+1, rounds, name)
			res, err := one(find(name))
			if err != nil {
				fmt.Fprintf(stderr, "bench: %s: %v\n", name, err)
				failed = append(failed, name)
				delete(got, name)
				continue
			}
			got[name] = append(got[name], res)
		}
	}
	return got, failed
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var only, levels string
	fs.BoolVar(&cfg.json, "json", false, "print JSON instead of a table")
	fs.BoolVar(&cfg.sweep, "sweep", false, "measure calls/s, p99 and CPU per call at each of -levels callers, for "+strings.Join(sweepPeers, ", ")+" unless -only")
	fs.StringVar(&cfg.svg, "svg", "", "with -sweep, also draw calls/s against callers as SVG in `file`")
	fs.StringVar(&only, "only", "", "comma-separated `peers` to run, in order; extra peers run only when named here")
	quick := fs.Bool("quick", false, "smoke run: 500 serial calls, 0.3 s phases (flags set explicitly win)")
	fs.IntVar(&cfg.serial, "n", 20000, "timed serial `calls` per peer")
	fs.IntVar(&cfg.warm, "warmup", 2000, "serial `calls` before timing")
	fs.DurationVar(&cfg.duration, "duration", 3*time.Second, "length of each concurrent phase, after a tenth as long of warm-up")
	fs.IntVar(&cfg.callers, "callers", 64, "concurrent `callers` of the throughput phase")
	fs.StringVar(&levels, "levels", "1,8,64,256", "comma-separated `callers` of the sweep's phases")
	fs.IntVar(&cfg.rounds, "rounds", 1, "run every peer this many `times`, in turn, and report the median of each figure")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: bench [flags]\n\nPeers:")
		for _, p := range peers {
			if p.extra {
				fmt.Fprintf(stderr, " (%s)", p.name)
			} else {
				fmt.Fprintf(stderr, " %s", p.name)
			}
		}
		fmt.Fprintf(stderr, "\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["n"] {
			cfg.serial = 500
		}
		if !set["warmup"] {
			cfg.warm = 100
		}
		if !set["duration"] {
			cfg.duration = 300 * time.Millisecond
		}
	}
	if cfg.svg != "" && !cfg.sweep {
		return cfg, errors.New("-svg draws the sweep: it needs -sweep")
	}
	if cfg.serial < 1 || cfg.warm < 0 || cfg.duration <= 0 || cfg.callers < 1 || cfg.rounds < 1 {
		return cfg, errors.New("-n, -callers, -duration and -rounds must be positive, -warmup not negative")
	}
	if only != "" {
		for name := range strings.SplitSeq(only, ",") {
			name = strings.TrimSpace(name)
			if find(name) == nil {
				return cfg, fmt.Errorf("unknown peer %q", name)
			}
			cfg.only = append(cfg.only, name)
		}
	}
	for l := range strings.SplitSeq(levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil || n < 1 {
			return cfg, fmt.Errorf("bad -levels entry %q", l)
		}
		cfg.levels = append(cfg.levels, n)
	}
	return cfg, nil
}

func find(name string) *peer {
	for i := range peers {
		if peers[i].name == name {
			return &peers[i]
		}
	}
	return nil
}

// callTimeout is the deadline every call carries. It is far off: it is there
// because real callers set one, and the stacks that carry deadlines pay for
// it, not to end calls. It is set once per phase, not per call, so the
// context costs nothing per call.
const callTimeout = 10 * time.Minute

// benchOne starts p, measures it serially then under cfg.callers, and stops it.
func benchOne(e *env, p *peer, cfg config) (result, error) {
	t, err := p.start(e)
	if err != nil {
		return result{}, fmt.Errorf("start: %w", err)
	}
	defer t.close()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	s, err := measureSerial(ctx, t, cfg.warm, cfg.serial)
	if err != nil {
		return result{}, err
	}
	l, err := measureLoad(ctx, t, cfg.callers, cfg.duration/10, cfg.duration)
	if err != nil {
		return result{}, fmt.Errorf("%d callers: %w", cfg.callers, err)
	}
	runtime.GC()
	return result{
		Name:          t.name(),
		SerialUsP50:   micros(s.p50),
		SerialUsP99:   micros(s.p99),
		CallsPerS:     math.Round(l.callsPerS),
		AllocsPerCall: round2(s.allocsPerCall),
		cpuUs:         l.cpuUs,
		syscalls:      l.syscalls,
	}, nil
}

// sweepOne starts p and measures it at each of cfg.levels callers.
func sweepOne(e *env, p *peer, cfg config, stderr io.Writer) ([]sweepResult, error) {
	t, err := p.start(e)
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	defer t.close()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var out []sweepResult
	for _, n := range cfg.levels {
		fmt.Fprintf(stderr, "bench:   %d callers\n", n)
		l, err := measureLoad(ctx, t, n, cfg.duration/10, cfg.duration)
		if err != nil {
			return nil, fmt.Errorf("%d callers: %w", n, err)
		}
		out = append(out, sweepResult{Name: t.name(), Callers: n, CallsPerS: math.Round(l.callsPerS), P99Us: micros(l.p99), CPUUs: round2(l.cpuUs)})
		runtime.GC()
	}
	return out, nil
}

// medianResult is the median of each figure over rounds of one peer.
func medianResult(rs []result) result {
	med := func(f func(result) float64) float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = f(r)
		}
		return median(xs)
	}
	return result{
		Name:          rs[0].Name,
		SerialUsP50:   med(func(r result) float64 { return r.SerialUsP50 }),
		SerialUsP99:   med(func(r result) float64 { return r.SerialUsP99 }),
		CallsPerS:     med(func(r result) float64 { return r.CallsPerS }),
		AllocsPerCall: med(func(r result) float64 { return r.AllocsPerCall }),
		cpuUs:         med(func(r result) float64 { return r.cpuUs }),
		syscalls:      med(func(r result) float64 { return r.syscalls }),
	}
}

// medianSweep is the median of each figure at each level over rounds of
// one peer's sweep.
func medianSweep(rounds [][]sweepResult) []sweepResult {
	out := slices.Clone(rounds[0])
	for i := range out {
		var calls, p99, cpu []float64
		for _, r := range rounds {
			calls, p99, cpu = append(calls, r[i].CallsPerS), append(p99, r[i].P99Us), append(cpu, r[i].CPUUs)
		}
		out[i].CallsPerS, out[i].P99Us, out[i].CPUUs = median(calls), median(p99), median(cpu)
	}
	return out
}

// median returns the middle of xs, or the mean of the two middle ones.
func median(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

func micros(d time.Duration) float64 { return round2(float64(d) / float64(time.Microsecond)) }

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// roundSig3 keeps three significant digits, so a short phase on a fast
// machine still reports its time instead of rounding to zero.
func roundSig3(x float64) float64 {
	if x == 0 {
		return 0
	}
	scale := math.Pow(10, 2-math.Floor(math.Log10(math.Abs(x))))
	return math.Round(x*scale) / scale
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeTable(w io.Writer, rs []result, callers int) error {
	width := len("peer")
	for _, r := range rs {
		width = max(width, len(r.Name))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tserial p50 µs\tserial p99 µs\tcalls/s @%d\tallocs/call\tCPU µs/call @%d\tsyscalls/call @%d\t\n", width, "peer", callers, callers, callers)
	for _, r := range rs {
		sys := "-"
		if r.syscalls >= 0 {
			sys = fmt.Sprintf("%.2f", r.syscalls)
		}
		fmt.Fprintf(tw, "%-*s\t%.1f\t%.1f\t%.0f\t%.1f\t%.1f\t%s\t\n", width, r.Name, r.SerialUsP50, r.SerialUsP99, r.CallsPerS, r.AllocsPerCall, r.cpuUs, sys)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if checks := targetChecks(rs); len(checks) > 0 {
		fmt.Fprintf(w, "\ntargets (ratios within this run):\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, c := range checks {
			verdict := "NOT MET"
			if c.met {
				verdict = "met"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.what, c.got, c.want, verdict, c.note)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	writeRatios(w, fmt.Sprintf("%d callers", callers), func(name string) (float64, float64, bool) {
		for _, r := range rs {
			if r.Name == name {
				return r.CallsPerS, r.cpuUs, true
			}
		}
		return 0, 0, false
	})
	return nil
}

// check is one target of RESULTS.md, judged on one run.
type check struct {
	what, got, want string
	met             bool
	note            string // the same ratio by CPU time per call, for throughput
}

// targetChecks judges the targets whose peers are in rs.
func targetChecks(rs []result) []check {
	by := map[string]result{}
	for _, r := range rs {
		by[r.Name] = r
	}
	var out []check
	ratio := func(what, a, b string, field func(result) float64, want float64, atLeast bool) {
		ra, okA := by[a]
		rb, okB := by[b]
		if !okA || !okB || field(rb) == 0 {
			return
		}
		x := field(ra) / field(rb)
		c := check{what: what, got: fmt.Sprintf("%.2f×", x)}
		if field(ra) == ra.CallsPerS && ra.cpuUs > 0 && rb.cpuUs > 0 {
			// Were both CPU-bound, throughput would be in the inverse
			// ratio of CPU time per call.
			c.note = fmt.Sprintf("(by CPU time per call: %.2f×)", rb.cpuUs/ra.cpuUs)
		}
		if atLeast {
			c.want, c.met = fmt.Sprintf("target ≥ %g×", want), x >= want
		} else {
			c.want, c.met = fmt.Sprintf("target ≤ %g×", want), x <= want
		}
		out = append(out, c)
	}
	calls := func(r result) float64 { return r.CallsPerS }
	p50 := func(r result) float64 { return r.SerialUsP50 }
	cpu := func(r result) float64 { return r.cpuUs }
	ratio("sessionrpc-tcp calls/s ÷ grpc-go calls/s", "sessionrpc-tcp", "grpc-go", calls, 5, true)
	ratio("sessionrpc-tcp calls/s ÷ raw-mux-tcp calls/s", "sessionrpc-tcp", "raw-mux-tcp", calls, 1, true)
	ratio("sessionrpc-tcp serial p50 ÷ raw-tcp-pingpong p50", "sessionrpc-tcp", "raw-tcp-pingpong", p50, 1.2, false)
	if r, ok := by["sessionrpc-tcp"]; ok {
		out = append(out, check{what: "sessionrpc-tcp allocs/call (client+server)", got: fmt.Sprintf("%.1f", r.AllocsPerCall), want: "target ≤ 6", met: r.AllocsPerCall <= 6})
	}
	ratio("sessionrpc-nats calls/s ÷ nats-request calls/s", "sessionrpc-nats", "nats-request", calls, 1, true)
	ratio("sessionrpc-nats CPU µs/call ÷ nats-request", "sessionrpc-nats", "nats-request", cpu, 1, false)
	ratio("sessionrpc-nats serial p50 ÷ sessionrpc-nats-single (A/B)", "sessionrpc-nats", "sessionrpc-nats-single", p50, 1.1, false)
	return out
}

// ratioPairs are the comparisons printed under the table and the sweep:
// sessionrpc against its nearest competitor, and each sessionrpc transport
// against the floor under it.
var ratioPairs = [][2]string{
	{"sessionrpc-tcp", "grpc-go"},
	{"sessionrpc-tcp", "raw-mux-tcp"},
	{"sessionrpc-nats", "nats-request"},
	{"sessionrpc-nats-single", "nats-request"},
}

// writeRatios prints, for each of ratioPairs with both peers in by, a's
// calls/s over b's and a's CPU time per call over b's; callers labels the
// concurrency they were measured at.
func writeRatios(w io.Writer, callers string, by func(name string) (callsPerS, cpuUs float64, ok bool)) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	printed := false
	for _, pair := range ratioPairs {
		ca, ua, okA := by(pair[0])
		cb, ub, okB := by(pair[1])
		if !okA || !okB || cb == 0 || ub == 0 {
			continue
		}
		if !printed {
			fmt.Fprintf(w, "\nratios within this run, %s:\n", callers)
			printed = true
		}
		fmt.Fprintf(tw, "  %s ÷ %s\tcalls/s %.2f×\tCPU µs/call %.2f× (%.1f against %.1f)\n", pair[0], pair[1], ca/cb, ua/ub, ua, ub)
	}
	tw.Flush()
}

// writeSweep prints the sweep as three tables, peers by levels: calls/s,
// p99 and CPU time per call; then the ratios of [ratioPairs] at each level.
func writeSweep(w io.Writer, rs []sweepResult, levels []int) error {
	var names []string
	at := map[string]map[int]sweepResult{}
	for _, r := range rs {
		if at[r.Name] == nil {
			at[r.Name] = map[int]sweepResult{}
			names = append(names, r.Name)
		}
		at[r.Name][r.Callers] = r
	}
	width := len("p99 µs")
	for _, n := range names {
		width = max(width, len(n))
	}
	for i, m := range []struct {
		title, format string
		value         func(sweepResult) float64
	}{
		{"calls/s", "%.0f", func(r sweepResult) float64 { return r.CallsPerS }},
		{"p99 µs", "%.1f", func(r sweepResult) float64 { return r.P99Us }},
		{"CPU µs/call", "%.2f", func(r sweepResult) float64 { return r.CPUUs }},
	} {
		if i > 0 {
			fmt.Fprintln(w)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%-*s\t", width, m.title)
		for _, l := range levels {
			fmt.Fprintf(tw, "%d callers\t", l)
		}
		fmt.Fprintln(tw)
		for _, n := range names {
			fmt.Fprintf(tw, "%-*s\t", width, n)
			for _, l := range levels {
				if r, ok := at[n][l]; ok {
					fmt.Fprintf(tw, m.format+"\t", m.value(r))
				} else {
					fmt.Fprintf(tw, "-\t")
				}
			}
			fmt.Fprintln(tw)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, l := range levels {
		writeRatios(w, fmt.Sprintf("%d callers", l), func(name string) (float64, float64, bool) {
			r, ok := at[name][l]
			return r.CallsPerS, r.CPUUs, ok
		})
	}
	return nil
}
