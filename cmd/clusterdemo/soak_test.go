package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// soakEnv sets how long TestSoak drives each transport: unset, 5s; "long",
// a minute; or any duration, such as "5m".
const soakEnv = "SESSIONRPC_SOAK"

const (
	soakShort = 5 * time.Second
	soakLong  = 60 * time.Second

	soakBackends = 2
	soakWorkers  = 128 // per backend: 256 concurrent callers in all
	soakClients  = 768 // per frontend: six sessions per worker, two uids
	soakMinCalls = 200 // of every op, however long it takes
)

// soakDuration returns how long each transport is driven, as soakEnv says.
func soakDuration(t *testing.T) time.Duration {
	switch v := os.Getenv(soakEnv); v {
	case "":
		return soakShort
	case "long":
		return soakLong
	default:
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("%s=%q: want \"long\" or a positive duration", soakEnv, v)
		}
		return d
	}
}

// TestSoak runs 256 concurrent backend callers (2 backends × 128 workers)
// of every session operation against two frontends, over NATS and over
// TCP, and checks every outcome against the workers' models: each call's
// result as it returns, then every frontend's state once the load stops
// (see verify). Among the checks, by what they rule out:
//
//   - no acknowledged push lost: every session's settings in its store equal
//     its model, which holds every Push and PushAll that returned nil, and
//     every Get returns them too;
//   - no kick delivered twice: every kicked session's connection was told
//     exactly its kick, with its reason, then closed, and kicking it again
//     told it nothing; open sessions' connections were told nothing, and
//     the kicks delivered in all equal the kicks acknowledged;
//   - no ghost session: a kicked session is gone from its store, and lookups
//     of it fail with ErrSessionNotFound; each store holds exactly its
//     clients' open sessions, its uid index lists exactly the models'
//     bindings, and its bind, unbind and close hooks ran exactly as often
//     as the models predict.
//
// Each transport runs 5s by default, and on until every op has been called
// soakMinCalls times and met one of its error paths, however slow the
// machine; SESSIONRPC_SOAK=long makes it a minute. -short skips the test:
// TestRun covers the same paths briefly.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak skipped in -short mode")
	}
	d := soakDuration(t)
	for _, transport := range []string{"nats", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			cfg := Config{
				Transport: transport,
				Backends:  soakBackends,
				Workers:   soakWorkers,
				Clients:   soakClients,
				Duration:  d,
				// Every op many times, whatever the machine's speed: the
				// run goes on past d until they have.
				MinCallsPerOp: soakMinCalls,
				CallTimeout:   time.Minute,
				Logger:        quiet,
			}
			rep := run(t, cfg)
			report := text(rep)
			if callers := rep.Backends * rep.Workers; callers != 256 {
				t.Errorf("%d concurrent callers, want 256", callers)
			}
			if !rep.OK() {
				t.Fatalf("checks failed:\n%s", report)
			}
			for _, o := range rep.Ops {
				if o.Calls < soakMinCalls || o.Expected == 0 {
					t.Errorf("%s: %d calls, %d expected errors; want %d calls and some errors", o.Name, o.Calls, o.Expected, soakMinCalls)
				}
			}
			if rep.Kicks == 0 || rep.Kicks != rep.ExpectedKicks || rep.Reconnects != rep.Kicks {
				t.Errorf("%d kicks delivered, %d expected, %d reconnects; want as many, and some", rep.Kicks, rep.ExpectedKicks, rep.Reconnects)
			}
			t.Logf("%s: %s", transport, soakSummary(rep))
			if t.Failed() || testing.Verbose() {
				t.Log("\n" + report)
			}
		})
	}
}

// soakSummary is one line of what a soak run did: calls, rate, kicks,
// checks, and each operation's p99.
func soakSummary(rep *Report) string {
	var p99 []string
	for _, o := range rep.Ops {
		p99 = append(p99, fmt.Sprintf("%s %v", o.Name, round(o.P99)))
	}
	return fmt.Sprintf("%d callers, %d ops in %.1fs (%.0f ops/s), %d kicks, %d checks held (seed %d); p99: %s",
		rep.Backends*rep.Workers, rep.Calls(), rep.Elapsed.Seconds(), float64(rep.Calls())/rep.Elapsed.Seconds(),
		rep.Kicks, rep.Checks.passed, rep.Seed, strings.Join(p99, ", "))
}
