package cluster_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/cluster"
)

// proxy forwards TCP connections to a NATS server and can hold back what
// its clients send (their publishes wait, as in a congested network) or cut
// them off.
type proxy struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	held     chan struct{} // closed when traffic may flow; nil when it flows
	conns    []net.Conn
}

func newProxy(t *testing.T, upstream string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, upstream: upstream}
	go p.accept()
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) url() string { return "nats://" + p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", p.upstream)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(c, u); c.Close() }()
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := c.Read(buf)
				p.wait()
				if n > 0 {
					if _, werr := u.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			u.Close()
		}()
	}
}

func (p *proxy) wait() {
	p.mu.Lock()
	h := p.held
	p.mu.Unlock()
	if h != nil {
		<-h
	}
}

// hold holds the clients' traffic back until release.
func (p *proxy) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held == nil {
		p.held = make(chan struct{})
	}
}

func (p *proxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held != nil {
		close(p.held)
		p.held = nil
	}
}

// cut closes everything: the clients behind it are cut off for good.
func (p *proxy) cut() {
	p.ln.Close()
	p.release()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// upstreamOf returns host:port of a nats:// URL.
func upstreamOf(url string) string { return url[len("nats://"):] }

// Half the members fall silent for longer than their leave bound, their
// heartbeats held up on the way (congestion, a NATS node failing over), then
// get through: views forgive a mass silence once, and nobody leaves. One
// member alone silent that long is dropped, and when it is heard again it
// comes back from the record the view kept, without asking for it.
func TestMassSilenceForgivenOnce(t *testing.T) {
	t.Parallel()
	ns := startNATS(t)
	e := newEnv(t, ns.URL())
	forgiven := &forgivenessLog{}
	v := e.view(cluster.WithLogger(slog.New(forgiven)))
	ev := watch(t, v)
	whois := make(chan string, 100)
	spy := connect(t, e.url)
	if _, err := spy.Subscribe(e.prefix+".whois.*", func(m *nats.Msg) { whois <- m.Subject }); err != nil {
		t.Fatal(err)
	}
	if err := spy.Flush(); err != nil {
		t.Fatal(err)
	}

	group := newProxy(t, upstreamOf(ns.URL()))
	alone := newProxy(t, upstreamOf(ns.URL()))
	for _, id := range []string{"a1", "a2", "a3"} {
		e.joinOn(connect(t, group.url(), nats.IgnoreDiscoveredServers()), cluster.Info{ID: id, Type: "room"})
	}
	for _, id := range []string{"b1", "b2", "b3"} {
		e.join(cluster.Info{ID: id, Type: "room"})
	}
	e.joinOn(connect(t, alone.url(), nats.IgnoreDiscoveredServers()), cluster.Info{ID: "lonely", Type: "room"})
	waitFor(t, "seven members", func() bool { return len(v.Members()) == 7 })
	for len(whois) > 0 {
		<-whois
	}

	// A view forgives one mass silence in two bounds. On a starved machine
	// it may have forgiven one already, while the members joined (their
	// heartbeats late): then the silence below would be the second.
	if last := forgiven.last(); !last.IsZero() {
		t.Logf("the view forgave a silence while the members joined; waiting until it may forgive again")
		time.Sleep(time.Until(last.Add(2 * e.bound)))
	}

	// Three of seven silent, then through. A silence is forgiven when it
	// ends within two bounds (less the view's margin, half a second) of the
	// members' last heartbeat, however late the view noticed it, so it is
	// timed from a heartbeat of all three: silent for 1.25 bounds, leaving
	// three quarters of a second or more for the held heartbeats to come
	// through.
	groupBeat(t, e, "a1", "a2", "a3")
	held := time.Now()
	group.hold()
	time.Sleep(e.bound + e.bound/4)
	group.release()
	time.Sleep(e.bound)
	if !forgiven.last().After(held) {
		t.Error("the view did not log the silence it forgave")
	}
	for _, x := range ev.snapshot() {
		if x.Type == cluster.Left {
			t.Errorf("%v: a mass silence shorter than two bounds was not forgiven", x)
		}
	}
	if got := len(v.Members()); got != 7 {
		t.Errorf("%d members after the silence, want 7", got)
	}

	// One alone silent as long: dropped, then back without a fetch.
	n := ev.len()
	alone.hold()
	start := time.Now()
	_, i, at := ev.next(t, n, "the lonely member dropped", is(cluster.Left, "lonely"))
	t.Logf("one silent member dropped after %v (leave bound %v)", at.Sub(start).Round(time.Millisecond), e.bound)
	if at.Sub(start) > 3*e.bound {
		t.Errorf("took %v", at.Sub(start))
	}
	alone.release()
	ev.next(t, i, "the lonely member back", is(cluster.Joined, "lonely"))
	select {
	case s := <-whois:
		t.Errorf("the view fetched a record it kept: %s", s)
	default:
	}

	// Three of seven cut off for good: reported after a second bound.
	n = ev.len()
	cut := time.Now()
	group.cut()
	var last time.Time
	for _, id := range []string{"a1", "a2", "a3"} {
		l, _, at := ev.next(t, n, "leave of "+id, is(cluster.Left, id))
		if l.Reason != cluster.Expired {
			t.Errorf("%v", l)
		}
		if at.After(last) {
			last = at
		}
	}
	took := last.Sub(cut)
	t.Logf("three of seven cut off: dropped %v after the cut (2 × leave bound = %v)", took.Round(time.Millisecond), 2*e.bound)
	if took > 3*2*e.bound {
		t.Errorf("took %v, more than 3 × 2 leave bounds", took)
	}
	if got := ids(v.Members()); !slices.Equal(got, []string{"b1", "b2", "b3", "lonely"}) {
		t.Errorf("members %v", got)
	}
}

// forgivenessLog is a view's log handler that notes when it forgave a mass
// silence.
type forgivenessLog struct {
	mu sync.Mutex
	at time.Time
}

func (l *forgivenessLog) Enabled(context.Context, slog.Level) bool { return true }

func (l *forgivenessLog) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "many members silent at once") {
		l.mu.Lock()
		l.at = r.Time
		l.mu.Unlock()
	}
	return nil
}

func (l *forgivenessLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *forgivenessLog) WithGroup(string) slog.Handler      { return l }

// last returns when the view last forgave a mass silence; zero if never.
func (l *forgivenessLog) last() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.at
}

// groupBeat returns once the members ids, of type room, have heartbeat
// within a quarter of a second (a view's check period) of one another, as
// members with one period do, in step.
func groupBeat(t *testing.T, e *env, ids ...string) {
	t.Helper()
	nc := connect(t, e.url)
	beats := make(chan string, 64)
	sub, err := nc.Subscribe(e.prefix+".member.room.*", func(m *nats.Msg) {
		select {
		case beats <- m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	heard := map[string]time.Time{}
	timeout := time.After(wait)
	for {
		select {
		case id := <-beats:
			heard[id] = time.Now()
		case <-timeout:
			t.Fatalf("no heartbeat of %v together in %v", ids, wait)
		}
		together := true
		for _, id := range ids {
			if at, ok := heard[id]; !ok || time.Since(at) > e.bound/12 {
				together = false
			}
		}
		if together {
			return
		}
	}
}
