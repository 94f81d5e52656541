package main

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"time"
)

// TestScaleQuick runs -scale on a few servers and checks that every figure
// is there and sane: everyone joined, the killed member left within its
// leave bound (with slack), and the idle traffic is one heartbeat per
// server per period.
func TestScaleQuick(t *testing.T) {
	cfg, err := parseScaleFlags([]string{"-scale", "-sizes", "4", "-idle", "3s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.views = 4
	r, err := scaleOne(4, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	// The memory figure is not checked: with 4 views of 3 members, what
	// they hold is within the noise of the heap.
	if r.Servers != 4 || r.JoinMS <= 0 || r.LeaveMS <= 0 || r.IdleCPUPct < 0 || r.Failed != "" {
		t.Errorf("result %+v", r)
	}
	if limit := float64(3 * cfg.bound / time.Millisecond); r.LeaveMS > limit {
		t.Errorf("leave took %v ms, more than 3× the leave bound", r.LeaveMS)
	}
	// Four servers heartbeat once a second each.
	if r.IdleMsgsPerS < 2 || r.IdleMsgsPerS > 6 {
		t.Errorf("idle messages %v/s, want about 4", r.IdleMsgsPerS)
	}
	// Each heartbeat reaches four views and its member's own subscription.
	if r.IdleDeliveriesPerS < 4*r.IdleMsgsPerS {
		t.Errorf("idle deliveries %v/s for %v messages/s", r.IdleDeliveriesPerS, r.IdleMsgsPerS)
	}
}

func TestScaleFlags(t *testing.T) {
	if !isScale([]string{"-json", "-scale"}) || !isScale([]string{"--scale=true"}) || isScale([]string{"-json", "-sweep"}) {
		t.Error("isScale")
	}
	for _, bad := range [][]string{{"-scale", "-sizes", "1"}, {"-scale", "-sizes", "x"}, {"-scale", "-idle", "0s"}, {"-scale", "extra"}} {
		if _, err := parseScaleFlags(bad, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	var out bytes.Buffer
	if err := writeJSON(&out, []scaleResult{{Servers: 10}}); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"servers", "join_ms", "leave_ms", "idle_msgs_per_s", "idle_deliveries_per_s", "idle_cpu_pct", "watcher_bytes_per_member"} {
		if _, ok := rows[0][key]; !ok {
			t.Errorf("JSON row lacks %q: %s", key, out.String())
		}
	}
}

// TestPresenceQuick runs the presence rows on a few frontends and checks
// that every figure is there: both modes found and kicked every user they
// were asked for.
func TestPresenceQuick(t *testing.T) {
	rows, err := presenceOne(3, 20, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Mode != "index" || rows[1].Mode != "broadcast" {
		t.Fatalf("rows %+v", rows)
	}
	for _, r := range rows {
		t.Logf("%+v", r)
		if r.Failed != "" || r.LocateUS <= 0 || r.KickEverywhereUS <= 0 || r.MsgsPerKick <= 0 || r.Frontends != 3 {
			t.Errorf("row %+v", r)
		}
	}
	if rows[0].IndexFillS <= 0 {
		t.Errorf("index fill %v s", rows[0].IndexFillS)
	}
	for _, bad := range [][]string{{"-scale", "-presence-sizes", "0"}, {"-scale", "-sessions", "0"}} {
		if _, err := parseScaleFlags(bad, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	cfg, err := parseScaleFlags([]string{"-scale", "-sizes", "", "-presence-sizes", "10"}, io.Discard)
	if err != nil || cfg.sizes != nil || len(cfg.presence) != 1 {
		t.Errorf("presence only: %+v, %v", cfg, err)
	}
}
