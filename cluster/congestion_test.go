package cluster_test

import (
	"io"
	"net"
	"slices"
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
	v := e.view()
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

	// Three of seven silent for 1.5 bounds, then through.
	group.hold()
	time.Sleep(e.bound + e.bound/2)
	group.release()
	time.Sleep(e.bound)
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
