package otelrpc_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sessionrpc/sessionrpc/otelrpc"
	"github.com/sessionrpc/sessionrpc/session"
)

// After a known workload on two stores, the session metrics count it
// exactly, per frontend; free-text kick reasons are counted as "other".
func TestSessionMetricsAfterKnownWorkload(t *testing.T) {
	m := newMetrics(t)
	obs := otelrpc.NewSessionObserver(otelrpc.WithMeterProvider(m.mp))
	st1 := session.NewStore("connector-1", session.WithObserver(obs))
	st2 := session.NewStore("connector-2", otelrpc.StoreOption(otelrpc.WithMeterProvider(m.mp), otelrpc.WithKickReasons("maintenance")))

	var s []*session.Session
	for range 6 {
		s = append(s, st1.Create(nil))
	}
	st2.Create(nil)
	for i, uid := range []string{"u0", "u1", "u2", "u3"} {
		if err := st1.Bind(s[i].ID(), uid); err != nil {
			t.Fatal(err)
		}
	}
	_ = st1.Bind(s[0].ID(), "u0") // again: not a new binding
	if err := st1.Unbind(s[3].ID(), "u3"); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if err := st1.Push(s[1].ID(), "room", json.RawMessage(`7`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st1.PushAll(s[1].ID(), session.Settings{"a": json.RawMessage(`1`), "b": json.RawMessage(`2`)}); err != nil {
		t.Fatal(err)
	}
	_ = st1.Push(s[1].ID(), "bad", json.RawMessage(`{`)) // fails: not a push
	st1.KickBySID(s[0].ID(), "maintenance")              // bound
	st1.KickBySID(s[4].ID(), "")                         // "kick"
	for i := range 3 {
		// Free text, as callers write it: one series for all.
		st1.KickBySID(s[5].ID(), fmt.Sprintf("player %d cheated", i))
		s[5] = st1.Create(nil)
	}
	s[1].Close("client went away") // bound; not a kick
	st2.KickByUID("nobody", "x")

	got := m.collect(t)
	fe1, fe2 := "sessionrpc.frontend.id=connector-1", "sessionrpc.frontend.id=connector-2"
	kick := func(fe, reason string) string { return fe + ",sessionrpc.kick.reason=" + reason }
	// connector-1: 6 + 3 created, 2 + 3 kicked, 1 closed.
	wantCounts(t, got, "sessionrpc.session.active", map[string]int64{fe1: 3, fe2: 1})
	// u0..u3 bound, u3 unbound, u0 kicked, u1 closed: u2 is left.
	wantCounts(t, got, "sessionrpc.session.bound", map[string]int64{fe1: 1})
	wantCounts(t, got, "sessionrpc.session.binds", map[string]int64{fe1: 4})
	wantCounts(t, got, "sessionrpc.session.unbinds", map[string]int64{fe1: 1})
	wantCounts(t, got, "sessionrpc.session.pushes", map[string]int64{fe1: 5})
	wantCounts(t, got, "sessionrpc.session.kicks", map[string]int64{
		kick(fe1, "maintenance"): 1, kick(fe1, "kick"): 1, kick(fe1, "other"): 3,
	})
}
