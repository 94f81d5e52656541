package main

// The -scale mode measures discovery (package cluster) at 10, 100 and 300
// servers in this process, on one embedded NATS server:
//
//	go run . -scale            # table
//	go run . -scale -json      # JSON array, one object per size (keys below)
//	go run . -scale -sizes 10,50 -idle 10s
//
// Each server is what a real one runs: its own NATS connection, a
// registration (cluster.Join) and a view of every member (cluster.NewView).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
)

// scaleResult is one row of -scale; its JSON keys are the interface.
type scaleResult struct {
	Servers int `json:"servers"`
	// JoinMS: from starting N registrations at once until every one of
	// the N views lists all N.
	JoinMS float64 `json:"join_ms"`
	// LeaveMS: from killing one server (closing its connection, no
	// goodbye) until every other view has dropped it.
	LeaveMS float64 `json:"leave_ms"`
	// IdleMsgsPerS: messages the servers publish, all together, per
	// second while nothing changes (the NATS server's in_msgs).
	IdleMsgsPerS float64 `json:"idle_msgs_per_s"`
	// IdleDeliveriesPerS: messages NATS delivers per second meanwhile
	// (out_msgs): every heartbeat to every view.
	IdleDeliveriesPerS float64 `json:"idle_deliveries_per_s"`
	// IdleCPUPct: CPU time of the whole process meanwhile (the NATS
	// server, N registrations, N views), in percent of one core.
	IdleCPUPct float64 `json:"idle_cpu_pct"`
	// WatcherBytesPerMember: live heap a view holds per member it lists.
	WatcherBytesPerMember float64 `json:"watcher_bytes_per_member"`
	// LoadAvg is the machine's 1-minute load average when the row began:
	// on a shared machine, what else competed for its cores.
	LoadAvg float64 `json:"load_avg_1m"`
	// Failed says which phases did not finish within their bound; their
	// figures are -1.
	Failed string `json:"failed,omitempty"`
}

type scaleConfig struct {
	json     bool
	sizes    []int
	presence []int // frontends of each presence row (presence.go)
	sessions int   // bound sessions per frontend in the presence rows
	idle     time.Duration
	bound    time.Duration
	views    int // extra views the memory measurement starts; 0: enough to outweigh noise
}

// isScale reports whether args ask for the -scale mode.
func isScale(args []string) bool {
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "scale", "scale=true", "scale=1":
			return true
		}
	}
	return false
}

func parseScaleFlags(args []string, stderr io.Writer) (scaleConfig, error) {
	fs := flag.NewFlagSet("bench -scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg scaleConfig
	var sizes, presenceSizes string
	fs.Bool("scale", true, "measure discovery at -sizes servers, and presence at -presence-sizes frontends")
	fs.BoolVar(&cfg.json, "json", false, "print JSON instead of a table")
	fs.StringVar(&sizes, "sizes", "10,100,300", "comma-separated `servers` of each discovery row; empty for none")
	fs.StringVar(&presenceSizes, "presence-sizes", "10,100,300", "comma-separated `frontends` of each presence row; empty for none")
	fs.IntVar(&cfg.sessions, "sessions", 1000, "bound sessions per frontend in the presence rows")
	fs.DurationVar(&cfg.idle, "idle", 5*time.Second, "length of the idle measurement")
	fs.DurationVar(&cfg.bound, "bound", cluster.DefaultLeaveBound, "the members' leave bound")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if cfg.sizes, err = parseSizes("-sizes", sizes, 2); err != nil {
		return cfg, err
	}
	if cfg.presence, err = parseSizes("-presence-sizes", presenceSizes, 1); err != nil {
		return cfg, err
	}
	if cfg.sessions < 1 {
		return cfg, errors.New("-sessions must be at least 1")
	}
	if cfg.idle <= 0 {
		return cfg, errors.New("-idle must be positive")
	}
	return cfg, nil
}

// parseSizes parses a comma-separated list of sizes of at least least; an
// empty list is none.
func parseSizes(flag, list string, least int) ([]int, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var out []int
	for s := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < least {
			return nil, fmt.Errorf("bad %s entry %q: want at least %d", flag, s, least)
		}
		out = append(out, n)
	}
	return out, nil
}

// runScale is -scale: one row per size.
func runScale(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseScaleFlags(args, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "bench -scale: GOMAXPROCS=%d, leave bound %v, idle window %v\n", runtime.GOMAXPROCS(0), cfg.bound, cfg.idle)
	var out []scaleResult
	var failed []string
	for _, n := range cfg.sizes {
		fmt.Fprintf(stderr, "bench -scale: %d servers\n", n)
		r, err := scaleOne(n, cfg, stderr)
		if err != nil {
			return fmt.Errorf("%d servers: %w", n, err)
		}
		if r.Failed != "" {
			failed = append(failed, fmt.Sprintf("%d servers: %s", n, r.Failed))
		}
		out = append(out, r)
	}
	prows, err := runPresence(cfg.presence, cfg.sessions, stderr)
	if err != nil {
		return err
	}
	for _, r := range prows {
		if r.Failed != "" {
			failed = append(failed, fmt.Sprintf("presence, %d frontends, %s: %s", r.Frontends, r.Mode, r.Failed))
		}
	}

	if cfg.json {
		rows := make([]any, 0, len(out)+len(prows))
		for _, r := range out {
			rows = append(rows, r)
		}
		for _, r := range prows {
			rows = append(rows, r)
		}
		err = writeJSON(stdout, rows)
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "servers\tjoin ms\tleave ms\tidle msgs/s\tidle deliveries/s\tidle CPU %%\tview bytes/member\tload avg\t\n")
		for _, r := range out {
			fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.1f\t%.0f\t%.1f\t%.0f\t%.1f\t\n", r.Servers, r.JoinMS, r.LeaveMS, r.IdleMsgsPerS, r.IdleDeliveriesPerS, r.IdleCPUPct, r.WatcherBytesPerMember, r.LoadAvg)
		}
		if len(prows) > 0 {
			fmt.Fprintf(tw, "\t\n")
			fmt.Fprintf(tw, "frontends\tsessions each\tmode\tlocate µs\tlocate p99 µs\tkick everywhere µs\tmsgs/kick\tindex fill s\tload avg\t\n")
			for _, r := range prows {
				fmt.Fprintf(tw, "%d\t%d\t%s\t%.0f\t%.0f\t%.0f\t%.1f\t%.2f\t%.1f\t\n", r.Frontends, r.SessionsPerFrontend, r.Mode,
					r.LocateUS, r.LocateP99US, r.KickEverywhereUS, r.MsgsPerKick, r.IndexFillS, r.LoadAvg)
			}
		}
		err = tw.Flush()
	}
	if err == nil && failed != nil {
		err = fmt.Errorf("phases that did not finish: %s", strings.Join(failed, "; "))
	}
	return err
}

// loadAvg returns the 1-minute load average, or -1.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	x, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return x
}

// connect connects to url with a connect timeout that a loaded machine
// meets.
func connect(url string) (*nats.Conn, error) {
	return natsrpc.Connect(url, nats.Timeout(30*time.Second))
}

// scaleServer is one server of the run.
type scaleServer struct {
	id   string
	nc   *nats.Conn
	view *cluster.View
	reg  *cluster.Registration
	seen *viewCount
}

// viewCount follows one view's events: how many members it lists, when it
// first listed them all, when it dropped the victim.
type viewCount struct {
	mu      sync.Mutex
	members map[string]bool
	full    time.Time // when it first listed want members
	gone    time.Time // when the victim left
	want    int
	victim  string
	done    chan struct{}
}

func follow(ctx context.Context, v *cluster.View, want int) *viewCount {
	c := &viewCount{members: map[string]bool{}, want: want, done: make(chan struct{})}
	ch := v.Watch(ctx)
	go func() {
		defer close(c.done)
		for e := range ch {
			now := time.Now()
			c.mu.Lock()
			switch e.Type {
			case cluster.Joined:
				c.members[e.Member.ID] = true
				if len(c.members) == c.want && c.full.IsZero() {
					c.full = now
				}
			case cluster.Left:
				delete(c.members, e.Member.ID)
				if e.Member.ID == c.victim && c.gone.IsZero() {
					c.gone = now
				}
			}
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *viewCount) times() (full, gone time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.full, c.gone
}

// scaleWait bounds each phase of a size.
const scaleWait = 2 * time.Minute

func scaleOne(n int, cfg scaleConfig, stderr io.Writer) (scaleResult, error) {
	r := scaleResult{Servers: n, LoadAvg: loadAvg()}
	ns, err := natsembed.Start()
	if err != nil {
		return r, err
	}
	defer ns.Shutdown()
	// Every wait of the run, NewView's and Join's included, is bounded by
	// this: on a loaded machine a join storm of 300 takes seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 10*scaleWait)
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)
	opts := []cluster.Option{cluster.WithSubjectPrefix("scale.cluster"), cluster.WithLeaveBound(cfg.bound), cluster.WithLogger(quiet)}
	var viewOpts []cluster.ViewOption
	var joinOpts []cluster.JoinOption
	for _, o := range opts {
		viewOpts, joinOpts = append(viewOpts, o), append(joinOpts, o)
	}

	// N connections and N views, before anyone joins.
	servers := make([]*scaleServer, n)
	var conns []*nats.Conn
	defer func() {
		for _, s := range servers {
			if s != nil && s.view != nil {
				s.view.Close()
			}
		}
		for _, nc := range conns {
			nc.Close()
		}
	}()
	for i := range servers {
		nc, err := connect(ns.URL())
		if err != nil {
			return r, err
		}
		conns = append(conns, nc)
		servers[i] = &scaleServer{id: fmt.Sprintf("server-%d", i), nc: nc}
	}
	if err := parallel(servers, func(s *scaleServer) error {
		v, err := cluster.NewView(ctx, s.nc, viewOpts...)
		s.view = v
		return err
	}); err != nil {
		return r, err
	}
	for _, s := range servers {
		s.seen = follow(ctx, s.view, n)
	}

	// Join: everyone at once, until every view lists everyone.
	start := time.Now()
	var joinErr atomic.Value
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() {
			info := cluster.Info{ID: s.id, Type: []string{"connector", "room", "chat"}[i%3], Frontend: i%3 == 0,
				Addr: fmt.Sprintf("10.0.%d.%d:3150", i/250, i%250), Routes: []string{"room.roomRemote.join", "room.roomRemote.reload"},
				Metadata: map[string]string{"region": "eu-west", "build": "1.4.2"}}
			reg, err := cluster.Join(ctx, s.nc, info, joinOpts...)
			if err != nil {
				joinErr.Store(err)
				return
			}
			s.reg = reg
		})
	}
	wg.Wait()
	if err, _ := joinErr.Load().(error); err != nil {
		return r, fmt.Errorf("join: %w", err)
	}
	last, err := waitAll(servers, func(c *viewCount) time.Time { f, _ := c.times(); return f })
	if err != nil {
		r.JoinMS, r.Failed = -1, "join: "+err.Error()
		fmt.Fprintf(stderr, "bench -scale:   join: %v\n", err)
	} else {
		r.JoinMS = ms(last.Sub(start))
		fmt.Fprintf(stderr, "bench -scale:   joined in %v\n", last.Sub(start).Round(time.Millisecond))
	}

	// Idle: nothing changes for a while; count what it costs.
	time.Sleep(cfg.bound / 3)
	v0, err := ns.NATS().Varz(nil)
	if err != nil {
		return r, err
	}
	c0, t0 := readOSStats(), time.Now()
	time.Sleep(cfg.idle)
	v1, err := ns.NATS().Varz(nil)
	if err != nil {
		return r, err
	}
	c1, t1 := readOSStats(), time.Now()
	secs := t1.Sub(t0).Seconds()
	r.IdleMsgsPerS = round2(float64(v1.InMsgs-v0.InMsgs) / secs)
	r.IdleDeliveriesPerS = math.Round(float64(v1.OutMsgs-v0.OutMsgs) / secs)
	r.IdleCPUPct = round2(100 * (c1.cpu - c0.cpu).Seconds() / secs)
	fmt.Fprintf(stderr, "bench -scale:   idle: %.1f msgs/s, %.0f deliveries/s, %.1f%% CPU\n", r.IdleMsgsPerS, r.IdleDeliveriesPerS, r.IdleCPUPct)

	// Leave: one server killed, until every other view that listed it
	// dropped it.
	victim := servers[n/2]
	var others []*scaleServer
	for _, s := range servers {
		s.seen.mu.Lock()
		s.seen.victim = victim.id
		if s != victim && s.seen.members[victim.id] {
			others = append(others, s)
		}
		s.seen.mu.Unlock()
	}
	killed := time.Now()
	victim.nc.Close()
	last, err = waitAll(others, func(c *viewCount) time.Time { _, g := c.times(); return g })
	if err != nil {
		r.LeaveMS = -1
		r.Failed = strings.TrimPrefix(r.Failed+"; leave: "+err.Error(), "; ")
		fmt.Fprintf(stderr, "bench -scale:   leave: %v\n", err)
	} else {
		r.LeaveMS = ms(last.Sub(killed))
		fmt.Fprintf(stderr, "bench -scale:   killed member gone from %d views in %v\n", len(others), last.Sub(killed).Round(time.Millisecond))
	}
	r.WatcherBytesPerMember, err = watcherBytes(cfg, ns.URL(), servers, viewOpts, n-1)
	return r, err
}

// watcherBytes measures the memory a view holds per member, with the
// servers' own views closed so that the process is quiet: only the members
// heartbeat.
func watcherBytes(cfg scaleConfig, url string, servers []*scaleServer, viewOpts []cluster.ViewOption, n int) (float64, error) {
	for _, s := range servers {
		s.view.Close()
	}
	time.Sleep(cfg.bound / 3)
	// Memory: extra views, on the cluster and on an empty prefix; the
	// difference per member is what a view holds per member. Enough views
	// that their members outweigh the noise of a heap measurement.
	extra := cfg.views
	if extra == 0 {
		extra = max(10, 1000/n)
	}
	full, err := heapOf(extra, url, viewOpts, n)
	if err != nil {
		return 0, err
	}
	empty, err := heapOf(extra, url, append(slices.Clone(viewOpts), cluster.WithSubjectPrefix("scale.empty")), 0)
	if err != nil {
		return 0, err
	}
	return math.Round((full - empty) / float64(extra*n)), nil
}

// parallel runs f for every server, 32 at a time.
func parallel(servers []*scaleServer, f func(*scaleServer) error) error {
	sem := make(chan struct{}, 32)
	errs := make(chan error, len(servers))
	var wg sync.WaitGroup
	for _, s := range servers {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(s); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// waitAll waits until at(view) is set for every server's view and returns
// the latest.
func waitAll(servers []*scaleServer, at func(*viewCount) time.Time) (time.Time, error) {
	deadline := time.Now().Add(scaleWait)
	for {
		var last time.Time
		missing := 0
		for _, s := range servers {
			t := at(s.seen)
			if t.IsZero() {
				missing++
			} else if t.After(last) {
				last = t
			}
		}
		if missing == 0 {
			return last, nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%d of %d views not there after %v", missing, len(servers), scaleWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// heapOf starts k views, each on a connection of its own, waits until each
// lists want members, and returns the live heap they hold: the heap with
// them less the heap right after they closed, measured back to back so
// that the rest of the process changes little in between.
func heapOf(k int, url string, opts []cluster.ViewOption, want int) (float64, error) {
	var views []*cluster.View
	var conns []*nats.Conn
	closeAll := func() {
		for _, v := range views {
			if v != nil {
				v.Close()
			}
		}
		for _, nc := range conns {
			nc.Close()
		}
		views, conns = nil, nil
	}
	defer closeAll()
	for range k {
		nc, err := connect(url)
		if err != nil {
			return 0, err
		}
		conns = append(conns, nc)
	}
	views = make([]*cluster.View, k)
	servers := make([]*scaleServer, k)
	for i, nc := range conns {
		servers[i] = &scaleServer{nc: nc}
	}
	if err := parallel(servers, func(s *scaleServer) error {
		v, err := cluster.NewView(context.Background(), s.nc, opts...)
		s.view = v
		return err
	}); err != nil {
		return 0, err
	}
	for i, s := range servers {
		views[i] = s.view
	}
	deadline := time.Now().Add(scaleWait)
	for _, v := range views {
		for len(v.Members()) < want {
			if time.Now().After(deadline) {
				return 0, fmt.Errorf("a view lists %d of %d members after %v", len(v.Members()), want, scaleWait)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	with := liveHeap()
	closeAll()
	time.Sleep(200 * time.Millisecond) // the connections' goroutines end
	without := liveHeap()
	return float64(with) - float64(without), nil
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func ms(d time.Duration) float64 { return round2(float64(d) / float64(time.Millisecond)) }
