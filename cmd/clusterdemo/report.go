package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// maxFailures bounds the failure messages a tally keeps; the count goes on.
const maxFailures = 20

// tally counts checks and keeps the first failures' messages.
type tally struct {
	passed, failed int
	failures       []string
}

// check counts one check that held if ok, and returns ok.
func (t *tally) check(ok bool, format string, args ...any) bool {
	if ok {
		t.passed++
		return true
	}
	t.failed++
	if len(t.failures) < maxFailures {
		t.failures = append(t.failures, fmt.Sprintf(format, args...))
	}
	return false
}

// add counts u's checks in t.
func (t *tally) add(u *tally) {
	t.passed += u.passed
	t.failed += u.failed
	for _, f := range u.failures {
		if len(t.failures) < maxFailures {
			t.failures = append(t.failures, f)
		}
	}
}

// progress is what the workers have done so far, for the line a second.
type progress struct {
	calls, expected, failed atomic.Int64
	ops, opsExpected        [numOps]atomic.Int64 // calls and expected errors, by op
}

// atLeast reports whether every op has been called at least n times and,
// when n is positive, has met at least one of its deliberate error paths.
func (p *progress) atLeast(n int) bool {
	for i := range p.ops {
		if p.ops[i].Load() < int64(n) || (n > 0 && p.opsExpected[i].Load() == 0) {
			return false
		}
	}
	return true
}

// print writes a line a second to w until done closes.
func (p *progress) print(w io.Writer, start time.Time, done <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last, lastAt := int64(0), start
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			calls := p.calls.Load()
			rate := float64(calls-last) / now.Sub(lastAt).Seconds()
			last, lastAt = calls, now
			fmt.Fprintf(w, "%4.0fs  %9d calls  %7.0f calls/s  %7d errors as expected  %d failures\n",
				now.Sub(start).Seconds(), calls, rate, p.expected.Load(), p.failed.Load())
		}
	}
}

// Report is what a run did and whether every check held.
type Report struct {
	Transport   string
	NATSURL     string // empty for tcp
	Embedded    bool   // the NATS was started by the run
	Frontends   int
	Clients     int // per frontend
	Backends    int
	Workers     int // per backend
	Duration    time.Duration
	Elapsed     time.Duration
	Seed        uint64
	Interrupted bool

	Ops           [numOps]OpReport
	Kicks         int // kicks the connections received
	ExpectedKicks int // kicks the models predicted
	Reconnects    int // sessions opened after the first ones

	// Conditional writes to the shared sessions: increments acknowledged,
	// conflicts detected and retried, updates that gave up.
	Increments, Conflicts, GaveUp int

	Faults []FaultReport // the frontends killed or restarted

	// Across the cluster: forwards by the room server that took them;
	// Locates that matched the model at once, and after the index caught
	// up; uids kicked on every frontend.
	Forwarded                       map[string]int
	LocatedAtOnce, LocatedAfterSync int
	KickedEverywhere                int

	// Checks counts the checks of the workers during the run and those of
	// the cluster's state afterwards.
	Checks tally
}

// OpReport is what one operation did.
type OpReport struct {
	Name     string
	Calls    int
	Expected int // calls that returned the error the model predicted
	P50, P99 time.Duration
	Max      time.Duration
}

// newReport collects the workers' counts and latencies.
func newReport(cfg Config, c *cluster, workers []*worker, elapsed time.Duration) *Report {
	r := &Report{
		Transport: cfg.Transport,
		NATSURL:   c.natsURL,
		Embedded:  c.nats != nil,
		Frontends: cfg.Frontends,
		Clients:   cfg.Clients,
		Backends:  cfg.Backends,
		Workers:   cfg.Workers,
		Duration:  cfg.Duration,
		Elapsed:   elapsed,
		Seed:      cfg.Seed,
	}
	r.Forwarded = make(map[string]int)
	for _, w := range workers {
		r.Checks.add(&w.tally)
		for id, n := range w.forwardedTo {
			r.Forwarded[id] += n
		}
		r.LocatedAtOnce += w.locatedAtOnce
		r.LocatedAfterSync += w.locatedAfterSync
		r.KickedEverywhere += w.kickedEverywhere
	}
	for o := range numOps {
		var lat []time.Duration
		or := &r.Ops[o]
		or.Name = o.String()
		for _, w := range workers {
			st := &w.stats[o]
			or.Calls += st.calls
			or.Expected += st.expected
			lat = append(lat, st.lat...)
		}
		slices.Sort(lat)
		or.P50, or.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
		if len(lat) > 0 {
			or.Max = lat[len(lat)-1]
		}
	}
	return r
}

// percentile returns the nearest-rank q-quantile of sorted, 0 for none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// OK reports whether at least one check ran and every check held.
func (r *Report) OK() bool { return r.Checks.failed == 0 && r.Checks.passed > 0 }

// Calls returns the number of calls made, of every operation.
func (r *Report) Calls() (n int) {
	for _, o := range r.Ops {
		n += o.Calls
	}
	return n
}

// Write prints the report: what ran, each operation's counts and
// latencies, the kicks, the checks, and a last line starting "OK:" or
// "FAIL:".
func (r *Report) Write(w io.Writer) error {
	var b strings.Builder
	where := r.Transport
	if r.NATSURL != "" {
		kind := "external"
		if r.Embedded {
			kind = "embedded"
		}
		where = fmt.Sprintf("%s (membership on %s NATS %s)", r.Transport, kind, r.NATSURL)
	}
	fmt.Fprintf(&b, "clusterdemo over %s: %d frontends × %d clients, %d backends × %d workers, %v (seed %d)\n",
		where, r.Frontends, r.Clients, r.Backends, r.Workers, r.Duration, r.Seed)
	if r.Interrupted {
		fmt.Fprintf(&b, "interrupted after %v\n", r.Elapsed.Round(time.Millisecond))
	}
	b.WriteString("\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tcalls\texpected errors\tp50\tp99\tmax\t")
	expected := 0
	for _, o := range r.Ops {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%v\t%v\t%v\t\n", o.Name, o.Calls, o.Expected, round(o.P50), round(o.P99), round(o.Max))
		expected += o.Expected
	}
	fmt.Fprintf(tw, "all\t%d\t%d\t\t\t\t\n", r.Calls(), expected)
	tw.Flush()
	secs := r.Elapsed.Seconds()
	fmt.Fprintf(&b, "\n%d calls in %.1fs: %.0f calls/s\n", r.Calls(), secs, float64(r.Calls())/secs)
	fmt.Fprintf(&b, "kicks delivered: %d of %d expected; clients reconnected: %d\n", r.Kicks, r.ExpectedKicks, r.Reconnects)
	fmt.Fprintf(&b, "conditional writes: %d increments of the shared sessions acknowledged and all counted; %d conflicts detected and retried; %d updates gave up\n",
		r.Increments, r.Conflicts, r.GaveUp)
	var forwards []string
	for _, id := range slices.Sorted(maps.Keys(r.Forwarded)) {
		forwards = append(forwards, fmt.Sprintf("%d to %s", r.Forwarded[id], id))
	}
	fmt.Fprintf(&b, "forwarded client messages: %s, each handled through the session it carried (bind and push checked)\n",
		strings.Join(forwards, ", "))
	fmt.Fprintf(&b, "located users: %d matched the model at once, %d once the uid index had caught up; %d users kicked on every frontend, each frontend's outcome checked\n",
		r.LocatedAtOnce, r.LocatedAfterSync, r.KickedEverywhere)
	for _, f := range r.Faults {
		b.WriteString(f.line())
	}
	if len(r.Faults) > 0 {
		b.WriteString("(a call in flight to a server when it died has an unknown outcome: either answer was accepted, and the session was no longer trusted)\n")
	}
	fmt.Fprintf(&b, "checks: %d passed, %d failed\n", r.Checks.passed, r.Checks.failed)
	for _, f := range r.Checks.failures {
		fmt.Fprintf(&b, "  failed: %s\n", f)
	}
	if n := r.Checks.failed - len(r.Checks.failures); n > 0 {
		fmt.Fprintf(&b, "  ... and %d more\n", n)
	}
	switch {
	case r.OK():
		fmt.Fprintf(&b, "OK: all %d checks held\n", r.Checks.passed)
	case r.Checks.failed == 0:
		b.WriteString("FAIL: no check ran\n")
	default:
		fmt.Fprintf(&b, "FAIL: %d of %d checks failed\n", r.Checks.failed, r.Checks.passed+r.Checks.failed)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// round keeps three significant digits or so: 1.234ms, 56µs.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Microsecond)
	case d >= time.Microsecond:
		return d.Round(100 * time.Nanosecond)
	}
	return d
}

// line is the report's line for one fault.
func (f FaultReport) line() string {
	var b strings.Builder
	what := "killed"
	if f.Restart {
		what = "killed and restarted"
	}
	fmt.Fprintf(&b, "%s %s at %.1fs:", f.ID, what, f.KilledAfter.Seconds())
	ids := slices.Sorted(maps.Keys(f.Left))
	if len(ids) == 0 {
		b.WriteString(" no backend saw it leave membership")
	}
	for i, id := range ids {
		sep := ","
		if i == 0 {
			sep = " left membership after"
		}
		fmt.Fprintf(&b, "%s %.1f s (%s, %s)", sep, f.Left[id].at.Sub(f.killed).Seconds(), id, f.Left[id].reason)
	}
	fmt.Fprintf(&b, "; %d calls after the kill: %d Unavailable, %d ErrSessionNotFound, none succeeded or hung (p99 %v, max %v)",
		f.AfterKill, f.Unavailable, f.NotFound, round(f.P99), round(f.Max))
	if f.InFlightOK > 0 {
		fmt.Fprintf(&b, "; %d in flight at the kill succeeded", f.InFlightOK)
	}
	if f.Restart {
		fmt.Fprintf(&b, "; no old reference reached the new run, whose %d sessions match their models", f.NewRunSessions)
	}
	b.WriteString("\n")
	return b.String()
}
