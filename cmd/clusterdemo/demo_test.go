package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// quiet discards the log; a failing test prints the report instead.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// short is a small cluster for a short run: enough clients that every
// worker owns several, few enough to start fast under -race.
func short(transport string) Config {
	return Config{
		Transport: transport,
		Clients:   60,
		Workers:   3,
		Duration:  1500 * time.Millisecond,
		// Work done, not time spent: a loaded machine makes the run
		// longer, never failing.
		MinCallsPerOp: 20,
		CallTimeout:   time.Minute,
		Seed:          1,
		Logger:        quiet,
	}
}

// run runs cfg and returns the report, failing the test if the cluster
// could not run at all.
func run(t *testing.T, cfg Config) *Report {
	t.Helper()
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

func text(rep *Report) string {
	var b bytes.Buffer
	_ = rep.Write(&b)
	return b.String()
}

// lastLine returns the report's verdict.
func lastLine(report string) string {
	lines := strings.Split(strings.TrimSpace(report), "\n")
	return lines[len(lines)-1]
}

// The whole demo, over each transport: every check holds, every operation
// ran and met at least one of its deliberate error paths, kicks reached
// the connections, and no goroutine is left behind.
func TestRun(t *testing.T) {
	for _, transport := range []string{"nats", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			before := goruntime.NumGoroutine()
			rep := run(t, short(transport))
			report := text(rep)
			if !rep.OK() || !strings.HasPrefix(lastLine(report), "OK: all ") {
				t.Fatalf("checks failed:\n%s", report)
			}
			for _, o := range rep.Ops {
				if o.Calls == 0 || o.Expected == 0 {
					t.Errorf("%s: %d calls, %d expected errors; want some of each", o.Name, o.Calls, o.Expected)
				}
			}
			if rep.Kicks == 0 || rep.Kicks != rep.ExpectedKicks || rep.Reconnects != rep.Kicks {
				t.Errorf("%d kicks delivered, %d expected, %d reconnects; want as many, and some", rep.Kicks, rep.ExpectedKicks, rep.Reconnects)
			}
			if t.Failed() {
				t.Log(report)
			}
			settleGoroutines(t, before)
		})
	}
}

// Frontends killed and restarted mid-run, over each transport: every
// backend sees each killed run leave membership, every call to it after the
// kill ends Unavailable (or, once the restarted run answers, with
// ErrSessionNotFound), never succeeds and never hangs, the new run's
// sessions are untouched by old references, and every check on the other
// frontends holds. The conditional writes to the shared sessions conflict,
// are retried, and lose no acknowledged increment.
func TestKillAndRestart(t *testing.T) {
	for _, transport := range []string{"nats", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			before := goruntime.NumGoroutine()
			cfg := short(transport)
			cfg.Frontends, cfg.Kill, cfg.Restart = 3, 1, 1
			cfg.Duration = 3 * time.Second
			rep := run(t, cfg)
			report := text(rep)
			if !rep.OK() {
				t.Fatalf("checks failed:\n%s", report)
			}
			if len(rep.Faults) != 2 {
				t.Fatalf("%d faults reported, want 2:\n%s", len(rep.Faults), report)
			}
			for _, f := range rep.Faults {
				if len(f.Left) != rep.Backends || f.AfterKill == 0 {
					t.Errorf("%s: seen leaving by %d backends of %d, %d calls after its kill", f.ID, len(f.Left), rep.Backends, f.AfterKill)
				}
				if f.Restart && (f.NotFound == 0 || f.NewRunSessions != cfg.Clients) {
					t.Errorf("%s restarted: %d old references refused as not found, %d new-run sessions checked (want some, and %d)",
						f.ID, f.NotFound, f.NewRunSessions, cfg.Clients)
				}
			}
			if rep.Increments == 0 {
				t.Errorf("no conditional increment was acknowledged")
			}
			if !strings.Contains(report, "left membership after") {
				t.Errorf("the report does not say when the killed servers left:\n%s", report)
			}
			t.Logf("\n%s", report)
			settleGoroutines(t, before)
		})
	}
}

// With -nats the demo uses that NATS and starts none of its own.
func TestExternalNATS(t *testing.T) {
	ns, err := natsembed.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	cfg := short("nats")
	cfg.NATSURL = ns.URL()
	cfg.Duration = 500 * time.Millisecond
	rep := run(t, cfg)
	if report := text(rep); !rep.OK() || rep.Embedded || rep.NATSURL != ns.URL() {
		t.Fatalf("want every check held over %s, no embedded NATS:\n%s", ns.URL(), report)
	}
}

// settleGoroutines waits for the goroutines of a stopped cluster to end;
// nats.go ends some of a closed connection's goroutines after Close returns.
func settleGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for goruntime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before the run, %d after:\n%s", before, goruntime.NumGoroutine(), buf[:goruntime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Each fault makes one frontend break its promises in a way its caller
// cannot see; the checks must notice, and the run must fail.
func TestFaultsAreDetected(t *testing.T) {
	faults := []struct {
		name string
		wrap func(frontendID string, store *session.Store, impl sessionremote.SessionRemote) sessionremote.SessionRemote
		want []string // one of them in the failure messages
	}{
		{
			name: "kick acknowledged but not done",
			wrap: func(id string, store *session.Store, impl sessionremote.SessionRemote) sessionremote.SessionRemote {
				if id != "connector-1" {
					return impl
				}
				return &droppedKick{SessionRemote: impl, store: store}
			},
			// Noticed at the end, or when the worker looks at or kicks
			// the session it believes gone.
			want: []string{"was kicked, but the store still holds", "its connection was told", "kicked sid"},
		},
		{
			name: "kick with the wrong reason",
			wrap: func(id string, _ *session.Store, impl sessionremote.SessionRemote) sessionremote.SessionRemote {
				if id != "connector-2" {
					return impl
				}
				return wrongReason{impl}
			},
			want: []string{"its connection was told"},
		},
		{
			name: "pushes acknowledged but lost",
			wrap: func(id string, store *session.Store, impl sessionremote.SessionRemote) sessionremote.SessionRemote {
				if id != "connector-1" {
					return impl
				}
				return lostPush{impl, store}
			},
			want: []string{"snapshot of sid", "the store holds"},
		},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			cfg := short("tcp")
			cfg.Duration = time.Second
			cfg.wrapFrontend = f.wrap
			rep := run(t, cfg)
			report := text(rep)
			if rep.OK() || !strings.HasPrefix(lastLine(report), "FAIL: ") {
				t.Fatalf("the fault went unnoticed:\n%s", report)
			}
			if !slices.ContainsFunc(f.want, func(w string) bool { return strings.Contains(report, w) }) {
				t.Errorf("no failure mentions any of %q:\n%s", f.want, report)
			}
		})
	}
}

// droppedKick answers the first kick of an open session OK and does nothing.
type droppedKick struct {
	sessionremote.SessionRemote
	store *session.Store
	once  sync.Once
}

func (d *droppedKick) KickBySid(ctx context.Context, sid session.ID, reason string) error {
	dropped := false
	if d.store.Get(sid) != nil {
		d.once.Do(func() { dropped = true })
	}
	if dropped {
		return nil
	}
	return d.SessionRemote.KickBySid(ctx, sid, reason)
}

// wrongReason kicks with a reason of its own.
type wrongReason struct{ sessionremote.SessionRemote }

func (w wrongReason) KickBySid(ctx context.Context, sid session.ID, reason string) error {
	return w.SessionRemote.KickBySid(ctx, sid, reason+"?")
}

// lostPush answers every push to an open session OK and stores nothing.
type lostPush struct {
	sessionremote.SessionRemote
	store *session.Store
}

func (l lostPush) Push(ctx context.Context, sid session.ID, key string, value sessionremote.Setting) error {
	if l.store.Get(sid) != nil {
		return nil
	}
	return l.SessionRemote.Push(ctx, sid, key, value)
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, c := range []struct {
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{ms(7), 0.5, 7 * time.Millisecond},
		{ms(7), 0.99, 7 * time.Millisecond},
		{ms(1, 2), 0.5, time.Millisecond},
		{ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{ms(hundred...), 0.5, 50 * time.Millisecond},
		{ms(hundred...), 0.99, 99 * time.Millisecond},
		{ms(hundred...), 1, 100 * time.Millisecond},
	} {
		if got := percentile(c.sorted, c.q); got != c.want {
			t.Errorf("percentile(%d values, %v) = %v, want %v", len(c.sorted), c.q, got, c.want)
		}
	}
}

// The command line: bad usage exits 2, and a short run over TCP exits 0
// with the verdict on the last line.
func TestCLI(t *testing.T) {
	for _, args := range [][]string{
		{"-transport", "carrier-pigeon"},
		{"-duration", "0s"},
		{"-nosuchflag"},
		{"extra"},
	} {
		var stdout, stderr bytes.Buffer
		code := cli(args, &stdout, &stderr)
		if code == 0 || stdout.Len() > 0 {
			t.Errorf("cli(%q) = %d, stdout %q; want a failure and no report", args, code, stdout.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := cli([]string{"-transport", "tcp", "-duration", "500ms", "-clients", "30", "-workers", "2", "-seed", "7"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if line := lastLine(stdout.String()); !strings.HasPrefix(line, "OK: all ") {
		t.Errorf("last line %q, want the OK verdict", line)
	}
}
