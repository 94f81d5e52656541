package cluster_test

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/runtime"
)

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// A member joins every view with what it announced, and a member that
// leaves is gone from every view at once, with the reason Goodbye.
func TestJoinAndLeave(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startNATS(t).URL())
	v := e.view()
	ev := watch(t, v)

	before := time.Now()
	room, _ := e.join(cluster.Info{ID: "room-1", Type: "room", Routes: []string{"room.roomRemote.join", "room.roomRemote.join", "a.b.c"},
		Metadata: map[string]string{"region": "eu"}})
	conn, _ := e.join(cluster.Info{ID: "connector-1", Type: "connector", Frontend: true, Addr: "10.0.0.7:3150"})

	j, _, _ := ev.next(t, 0, "join of room-1", is(cluster.Joined, "room-1"))
	m := j.Member
	if !hex32.MatchString(m.Incarnation) || m.Incarnation != room.Member().Incarnation {
		t.Errorf("incarnation %q, registration says %q", m.Incarnation, room.Member().Incarnation)
	}
	if m.StartedAt.Before(before.Add(-time.Second)) || m.StartedAt.After(time.Now()) {
		t.Errorf("started at %v, joined at %v", m.StartedAt, before)
	}
	if m.Type != "room" || m.Frontend || m.Addr != "" || m.State != cluster.Serving || m.Version != 1 || m.LeaveBound != e.bound {
		t.Errorf("room-1 = %+v", m)
	}
	if diff := cmp.Diff([]string{"a.b.c", "room.roomRemote.join"}, m.Routes()); diff != "" {
		t.Errorf("routes, sorted and without duplicates (-want +got):\n%s", diff)
	}
	if !m.HasRoute("room.roomRemote.join") || m.HasRoute("room.roomRemote.leave") {
		t.Error("HasRoute disagrees with Routes")
	}
	if r, ok := m.Meta("region"); !ok || r != "eu" {
		t.Errorf("metadata region = %q, %v", r, ok)
	}
	ev.next(t, 0, "join of connector-1", is(cluster.Joined, "connector-1"))

	if got := ids(v.Members()); !slices.Equal(got, []string{"connector-1", "room-1"}) {
		t.Errorf("members %v", got)
	}
	if got := ids(v.Members(cluster.OfType("room"))); !slices.Equal(got, []string{"room-1"}) {
		t.Errorf("rooms %v", got)
	}
	fronts := v.Members(cluster.Frontends())
	if len(fronts) != 1 || fronts[0].ID != "connector-1" || fronts[0].Addr != "10.0.0.7:3150" {
		t.Errorf("frontends %v", fronts)
	}
	if got, ok := v.Lookup("connector-1", conn.Member().Incarnation); !ok || got.ID != "connector-1" {
		t.Errorf("Lookup of the live incarnation: %v %v", got, ok)
	}
	if _, ok := v.Lookup("connector-1", strings.Repeat("0", 32)); ok {
		t.Error("Lookup found an incarnation that never ran")
	}

	n := ev.len()
	left := time.Now()
	if err := room.Leave(ctxFor(t, wait)); err != nil {
		t.Fatal(err)
	}
	l, _, at := ev.next(t, n, "leave of room-1", is(cluster.Left, "room-1"))
	took := at.Sub(left)
	t.Logf("graceful leave seen %v after Leave", took)
	if l.Reason != cluster.Goodbye {
		t.Errorf("leave reason %v, want goodbye", l.Reason)
	}
	// At once: well before a silent member could have expired.
	if took > e.bound/2 {
		t.Errorf("graceful leave took %v, want well under the leave bound %v", took, e.bound)
	}
	if _, ok := v.Member("room-1"); ok {
		t.Error("room-1 still in the view")
	}
	select {
	case <-room.Done():
	default:
		t.Error("Done not closed after Leave")
	}
	if room.Err() != nil || room.Leave(ctxFor(t, wait)) != nil {
		t.Errorf("after Leave: Err %v", room.Err())
	}
	if err := room.Drain(ctxFor(t, wait)); !errors.Is(err, cluster.ErrLeft) {
		t.Errorf("Drain after Leave: %v, want ErrLeft", err)
	}
}

// A view started after the members learns them from its roll call, not
// from heartbeats (a 30 s leave bound: the first heartbeat is 10 s away).
func TestNewViewLearnsEveryoneByRollCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startNATS(t).URL())
	e.bound = 30 * time.Second
	want := []string{"a", "b", "c", "d", "e"}
	for _, id := range want {
		e.join(cluster.Info{ID: id, Type: "t"})
	}
	start := time.Now()
	v := e.view()
	took := waitFor(t, "all five in the new view", func() bool { return len(v.Members()) == 5 })
	t.Logf("NewView took %v; all five listed %v after it returned", time.Since(start)-took, took)
	if got := ids(v.Members()); !slices.Equal(got, want) {
		t.Errorf("members %v", got)
	}
	if took > 5*time.Second {
		t.Errorf("roll call took %v: the members came by heartbeat instead?", took)
	}
}

// Update and Drain reach every view as updates with new versions;
// IsServing leaves draining members out.
func TestUpdateAndDrain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startNATS(t).URL())
	v := e.view()
	ev := watch(t, v)
	r, _ := e.join(cluster.Info{ID: "room-1", Type: "room"})
	ev.next(t, 0, "join", is(cluster.Joined, "room-1"))

	info := r.Member().Info()
	info.Metadata = map[string]string{"load": "7"}
	info.Addr = "127.0.0.1:4000"
	if err := r.Update(ctxFor(t, wait), info); err != nil {
		t.Fatal(err)
	}
	u, i, _ := ev.next(t, 0, "update", is(cluster.Updated, "room-1"))
	if load, _ := u.Member.Meta("load"); load != "7" || u.Member.Version != 2 || u.Member.Addr != "127.0.0.1:4000" {
		t.Errorf("after update: %+v", u.Member)
	}
	if err := r.Drain(ctxFor(t, wait)); err != nil {
		t.Fatal(err)
	}
	d, _, _ := ev.next(t, i+1, "drain", is(cluster.Updated, "room-1"))
	if d.Member.State != cluster.Draining || d.Member.Version != 3 {
		t.Errorf("after drain: %+v", d.Member)
	}
	if err := r.Drain(ctxFor(t, wait)); err != nil {
		t.Errorf("second Drain: %v", err)
	}
	if got := v.Members(cluster.IsServing()); len(got) != 0 {
		t.Errorf("serving members %v, want none", got)
	}
	if m, ok := v.Member("room-1"); !ok || m.State != cluster.Draining {
		t.Errorf("draining member not listed: %v %v", m, ok)
	}

	bad := info
	bad.Type = "lobby"
	if err := r.Update(ctxFor(t, wait), bad); runtime.CodeOf(err) != runtime.InvalidArgument {
		t.Errorf("Update changing the type: %v, want InvalidArgument", err)
	}
}

// A member whose process dies (its connection cut, no goodbye) leaves every
// view within its leave bound, with the reason Expired.
func TestKilledMemberLeavesWithinBound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startNATS(t).URL())
	v1, v2 := e.view(), e.view()
	ev1, ev2 := watch(t, v1), watch(t, v2)
	r, nc := e.join(cluster.Info{ID: "room-1", Type: "room"})
	e.join(cluster.Info{ID: "room-2", Type: "room"})
	ev1.next(t, 0, "join", is(cluster.Joined, "room-1"))
	ev2.next(t, 0, "join", is(cluster.Joined, "room-1"))

	killed := time.Now()
	nc.Close()
	for i, ev := range []*events{ev1, ev2} {
		l, _, at := ev.next(t, 0, "leave of the killed member", is(cluster.Left, "room-1"))
		took := at.Sub(killed)
		t.Logf("view %d: killed member gone %v after the kill (leave bound %v)", i+1, took, e.bound)
		if l.Reason != cluster.Expired {
			t.Errorf("reason %v, want expired", l.Reason)
		}
		if took > 3*e.bound {
			t.Errorf("took %v, more than 3× the leave bound %v", took, e.bound)
		}
	}
	select {
	case <-r.Done():
	case <-time.After(wait):
		t.Fatal("registration of a closed connection never ended")
	}
	if !errors.Is(r.Err(), cluster.ErrConnClosed) {
		t.Errorf("Err = %v, want ErrConnClosed", r.Err())
	}
	if slices.ContainsFunc(ev1.snapshot(), is(cluster.Left, "room-2")) {
		t.Error("room-2, alive, left")
	}
}

// A server killed and started again under its id comes back at once with a
// new incarnation; views report the old one as replaced.
func TestRestartWithNewIncarnation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startNATS(t).URL())
	v := e.view()
	ev := watch(t, v)
	old, nc := e.join(cluster.Info{ID: "frontend-2", Type: "connector", Frontend: true, Addr: "127.0.0.1:1"})
	ev.next(t, 0, "join", is(cluster.Joined, "frontend-2"))
	oldInc := old.Member().Incarnation

	nc.Close() // killed
	restarted := time.Now()
	nu, _ := e.join(cluster.Info{ID: "frontend-2", Type: "connector", Frontend: true, Addr: "127.0.0.1:2"})
	newInc := nu.Member().Incarnation
	if newInc == oldInc {
		t.Fatal("same incarnation after a restart")
	}
	l, i, _ := ev.next(t, 0, "leave of the old incarnation", is(cluster.Left, "frontend-2"))
	j, _, at := ev.next(t, i, "join of the new incarnation", is(cluster.Joined, "frontend-2"))
	took := at.Sub(restarted)
	t.Logf("restarted member listed %v after it joined again (leave bound %v)", took, e.bound)
	if l.Member.Incarnation != oldInc || l.Reason != cluster.Replaced {
		t.Errorf("leave %v, want the old incarnation, replaced", l)
	}
	if j.Member.Incarnation != newInc || j.Member.Addr != "127.0.0.1:2" {
		t.Errorf("join %v, want the new incarnation", j)
	}
	if took > e.bound {
		t.Errorf("took %v: the restart waited for the old incarnation to expire", took)
	}
	if _, ok := v.Lookup("frontend-2", oldInc); ok {
		t.Error("the old incarnation still looks alive")
	}
	if _, ok := v.Lookup("frontend-2", newInc); !ok {
		t.Error("the new incarnation does not look alive")
	}
	// The old incarnation, silent, expires later without another event.
	time.Sleep(e.bound + e.bound/2)
	if got := ev.snapshot(); len(got) != 3 {
		t.Errorf("events %v, want join, leave, join", got)
	}
}

// An id held by a live member cannot be joined again; once it leaves, it
// can.
func TestDuplicateID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startNATS(t).URL())
	holder, _ := e.join(cluster.Info{ID: "room-1", Type: "room", Addr: "127.0.0.1:7"})
	nc := connect(t, e.url)
	_, err := cluster.Join(ctxFor(t, wait), nc, cluster.Info{ID: "room-1", Type: "lobby"}, e.joinOpts()...)
	if !errors.Is(err, cluster.ErrDuplicateID) || runtime.CodeOf(err) != runtime.AlreadyExists {
		t.Fatalf("second join: %v, want ErrDuplicateID (AlreadyExists)", err)
	}
	if !strings.Contains(err.Error(), holder.Member().Incarnation) || !strings.Contains(err.Error(), "127.0.0.1:7") {
		t.Errorf("the error does not name the holder: %v", err)
	}
	t.Logf("duplicate join: %v", err)

	// A draining holder holds the id too.
	if err := holder.Drain(ctxFor(t, wait)); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Join(ctxFor(t, wait), nc, cluster.Info{ID: "room-1", Type: "room"}, e.joinOpts()...); !errors.Is(err, cluster.ErrDuplicateID) {
		t.Fatalf("join while the holder drains: %v", err)
	}
	if err := holder.Leave(ctxFor(t, wait)); err != nil {
		t.Fatal(err)
	}
	r := e.joinOn(nc, cluster.Info{ID: "room-1", Type: "room"})
	if r.Member().Incarnation == holder.Member().Incarnation {
		t.Fatal("same incarnation")
	}
}

// Invalid input fails with InvalidArgument before anything is announced.
func TestInvalidInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startNATS(t).URL())
	nc := connect(t, e.url)
	for name, c := range map[string]struct {
		info cluster.Info
		opts []cluster.JoinOption
	}{
		"empty id":        {info: cluster.Info{Type: "room"}},
		"dotted id":       {info: cluster.Info{ID: "room.1", Type: "room"}},
		"wildcard id":     {info: cluster.Info{ID: "room*", Type: "room"}},
		"space in type":   {info: cluster.Info{ID: "room-1", Type: "ro om"}},
		"empty type":      {info: cluster.Info{ID: "room-1"}},
		"address no port": {info: cluster.Info{ID: "room-1", Type: "room", Addr: "10.0.0.1"}},
		"empty route":     {info: cluster.Info{ID: "room-1", Type: "room", Routes: []string{""}}},
		"empty meta key":  {info: cluster.Info{ID: "room-1", Type: "room", Metadata: map[string]string{"": "x"}}},
		"huge metadata":   {info: cluster.Info{ID: "room-1", Type: "room", Metadata: map[string]string{"k": strings.Repeat("x", 100<<10)}}},
		"bad prefix":      {info: cluster.Info{ID: "room-1", Type: "room"}, opts: []cluster.JoinOption{cluster.WithSubjectPrefix("a..b")}},
		"short bound":     {info: cluster.Info{ID: "room-1", Type: "room"}, opts: []cluster.JoinOption{cluster.WithLeaveBound(time.Millisecond)}},
	} {
		_, err := cluster.Join(ctxFor(t, wait), nc, c.info, append(e.joinOpts(), c.opts...)...)
		if runtime.CodeOf(err) != runtime.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	for name, opts := range map[string][]cluster.ViewOption{
		"bad type":   {cluster.WithTypes("a.b")},
		"bad prefix": {cluster.WithSubjectPrefix(">")},
		"long bound": {cluster.WithLeaveBound(time.Hour)},
	} {
		if _, err := cluster.NewView(ctxFor(t, wait), nc, opts...); runtime.CodeOf(err) != runtime.InvalidArgument {
			t.Errorf("view, %s: %v, want InvalidArgument", name, err)
		}
	}
}

// Garbage on the membership subjects is ignored: views keep working and
// list nobody who did not join.
func TestMalformedMessagesIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startNATS(t).URL())
	v := e.view()
	ev := watch(t, v)
	nc := connect(t, e.url)
	inc := strings.Repeat("ab", 16)
	for subject, data := range map[string]string{
		e.prefix + ".member.room.x":     "hb",
		e.prefix + ".member.room.y":     "hb " + inc + " 0 1",
		e.prefix + ".member.room.z":     "hb nothex 1 1",
		e.prefix + ".member.room.w":     `{"op":"join","id":"w","type":"room","incarnation":"` + inc + `","state":"serving","version":1,"leave_bound_ms":3000}` + "garbage",
		e.prefix + ".member.room.other": `{"op":"join","id":"w","type":"room","incarnation":"` + inc + `","state":"serving","version":1,"leave_bound_ms":3000}`,
		e.prefix + ".member.room.v":     `{"op":"join","id":"v","type":"room","incarnation":"` + inc + `","state":"asleep","version":1,"leave_bound_ms":3000}`,
		e.prefix + ".member.room.u":     `{"op":"join","id":"u","type":"room","incarnation":"` + inc + `","state":"serving","version":1,"leave_bound_ms":1}`,
		e.prefix + ".member.room":       "hb " + inc + " 1 1",
		e.prefix + ".member.room.a.b":   "hb " + inc + " 1 1",
		e.prefix + ".member.room.t":     "\x00\xff",
	} {
		if err := nc.Publish(subject, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	e.join(cluster.Info{ID: "real", Type: "room"})
	ev.next(t, 0, "join of a real member", is(cluster.Joined, "real"))
	if got := ids(v.Members()); !slices.Equal(got, []string{"real"}) {
		t.Errorf("members %v, want only real", got)
	}
}

// Members handed out are copies: changing their routes or metadata changes
// nothing in the view.
func TestMembersAreCopies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startNATS(t).URL())
	v := e.view()
	e.join(cluster.Info{ID: "a", Type: "t", Routes: []string{"r"}, Metadata: map[string]string{"k": "v"}})
	waitFor(t, "a listed", func() bool { return len(v.Members()) == 1 })
	m := v.Members()[0]
	m.Routes()[0] = "changed"
	m.Metadata()["k"] = "changed"
	m.Addr = "changed"
	again, _ := v.Member("a")
	if again.Routes()[0] != "r" || again.Metadata()["k"] != "v" || again.Addr != "" {
		t.Errorf("the view changed: %+v %v %v", again, again.Routes(), again.Metadata())
	}
}

// A filtered watch and a view of some types see only those types; a
// watch's channel closes when its context ends.
func TestTypesAndFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startNATS(t).URL())
	all := e.view()
	rooms := e.view(cluster.WithTypes("room"))
	ev := watch(t, all, cluster.OfType("room"))
	e.join(cluster.Info{ID: "c1", Type: "connector"})
	e.join(cluster.Info{ID: "r1", Type: "room"})
	waitFor(t, "both listed", func() bool { return len(all.Members()) == 2 })
	ev.next(t, 0, "join of r1", is(cluster.Joined, "r1"))
	waitFor(t, "r1 in the room view", func() bool { return len(rooms.Members()) == 1 })
	// Heartbeats go by: the connector must stay out of the room view.
	time.Sleep(e.bound / 2)
	if got := ids(rooms.Members()); !slices.Equal(got, []string{"r1"}) {
		t.Errorf("room view %v", got)
	}
	for _, x := range ev.snapshot() {
		if x.Member.Type != "room" {
			t.Errorf("filtered watch got %v", x)
		}
	}

	ctx, cancel := ctxWithCancel()
	ch := all.Watch(ctx)
	<-ch
	<-ch
	cancel()
	for range ch { // drains, then closes
	}
}

// A member's leave bound travels in its record: a view with a longer bound
// of its own keeps it while it heartbeats, and drops it by its own bound
// (plus the view's check periods) once it dies.
func TestMemberBoundShorterThanView(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startNATS(t).URL())
	v := e.view() // 3 s: checks every 250 ms
	ev := watch(t, v)
	const bound = 1500 * time.Millisecond
	_, nc := e.join(cluster.Info{ID: "quick", Type: "t"}, cluster.WithLeaveBound(bound))
	j, _, _ := ev.next(t, 0, "join", is(cluster.Joined, "quick"))
	if j.Member.LeaveBound != bound {
		t.Errorf("leave bound %v in the record, want %v", j.Member.LeaveBound, bound)
	}
	time.Sleep(2 * e.bound)
	if x := ev.snapshot(); len(x) != 1 {
		t.Fatalf("events %v while it heartbeats", x)
	}
	killed := time.Now()
	nc.Close()
	_, _, at := ev.next(t, 0, "leave", is(cluster.Left, "quick"))
	took := at.Sub(killed)
	t.Logf("dropped %v after the kill (its bound %v, the view's %v)", took, bound, e.bound)
	if limit := 3 * (bound + e.bound/6); took > limit {
		t.Errorf("took %v, more than %v", took, limit)
	}
}

// A server may make its incarnation before it joins, to give it to its
// TCP server first.
func TestWithIncarnation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, startNATS(t).URL())
	inc := cluster.NewIncarnation()
	if !hex32.MatchString(inc) || inc == cluster.NewIncarnation() {
		t.Fatalf("NewIncarnation() = %q", inc)
	}
	r, nc := e.join(cluster.Info{ID: "a", Type: "t"}, cluster.WithIncarnation(inc))
	if got := r.Member().Incarnation; got != inc {
		t.Errorf("incarnation %q, want %q", got, inc)
	}
	for _, bad := range []string{"x", strings.ToUpper(inc), inc + "0"} {
		_, err := cluster.Join(ctxFor(t, wait), nc, cluster.Info{ID: "b", Type: "t"}, e.joinOpts(cluster.WithIncarnation(bad))...)
		if runtime.CodeOf(err) != runtime.InvalidArgument {
			t.Errorf("incarnation %q: %v, want InvalidArgument", bad, err)
		}
	}
}
