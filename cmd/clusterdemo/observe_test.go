package main

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// With -trace the demo prints one backend → frontend call as a tree: the
// client span on a backend, the server span on a frontend under it.
func TestTrace(t *testing.T) {
	cfg := short("nats")
	var out bytes.Buffer
	cfg.Trace = &out
	cfg.traceRatio = 1
	if rep := run(t, cfg); !rep.OK() {
		t.Fatalf("checks failed:\n%s", text(rep))
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "trace ") {
		t.Fatalf("want a header, a trace line and two spans, got:\n%s", out.String())
	}
	client := regexp.MustCompile(`^(sys\.sessionRemote\.\w+) +client on backend-\d → (connector-\d) +\+0s +\S+ +OK$`)
	m := client.FindStringSubmatch(lines[2])
	if m == nil {
		t.Fatalf("first span is not a backend's client span of a successful call: %q", lines[2])
	}
	server := regexp.MustCompile(`^└─ ` + regexp.QuoteMeta(m[1]) + ` +server on ` + m[2] + ` +\+\S+ +\S+ +OK$`)
	if !server.MatchString(lines[3]) {
		t.Errorf("second span is not the server span of %s on %s under it: %q", m[1], m[2], lines[3])
	}
}

// With -metrics the demo serves the servers' call metrics and the
// frontends' session metrics to Prometheus while it runs; kick reasons are
// bucketed (the demo's reasons are free text, or empty).
func TestMetrics(t *testing.T) {
	cfg := short("tcp")
	cfg.MetricsAddr = "127.0.0.1:0"
	var mu sync.Mutex
	var scraped string
	done := make(chan struct{})
	var wg sync.WaitGroup
	cfg.onMetrics = func(url string) {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
				}
				resp, err := http.Get(url)
				if err != nil {
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if strings.Contains(string(body), "sessionrpc_session_kicks_total{") {
					mu.Lock()
					scraped = string(body)
					mu.Unlock()
				}
			}
		})
	}
	rep := run(t, cfg)
	close(done)
	wg.Wait()
	if !rep.OK() {
		t.Fatalf("checks failed:\n%s", text(rep))
	}
	if scraped == "" {
		t.Fatal("the metrics never showed a kick while the demo ran")
	}
	for _, name := range []string{
		"rpc_client_call_duration_seconds_count", "rpc_server_call_duration_seconds_count",
		"sessionrpc_client_active_calls", "sessionrpc_server_active_calls", "sessionrpc_server_request_bytes_total",
		"sessionrpc_session_active", "sessionrpc_session_bound", "sessionrpc_session_binds_total", "sessionrpc_session_pushes_total",
	} {
		if !regexp.MustCompile(`(?m)^` + name + `\{.*rpc_method="sys\.sessionRemote\.|(?m)^` + name + `\{.*sessionrpc_frontend_id="connector-1"`).MatchString(scraped) {
			t.Errorf("no %s of a sys.sessionRemote route or of connector-1 in the metrics", name)
		}
	}
	var reasons []string
	for _, m := range regexp.MustCompile(`sessionrpc_kick_reason="([^"]*)"`).FindAllStringSubmatch(scraped, -1) {
		if !slices.Contains(reasons, m[1]) {
			reasons = append(reasons, m[1])
		}
	}
	slices.Sort(reasons)
	if len(reasons) == 0 || len(slices.DeleteFunc(slices.Clone(reasons), func(r string) bool { return r == "kick" || r == "other" })) != 0 {
		t.Errorf("kick reasons in the metrics: %q, want only kick and other", reasons)
	}
}
