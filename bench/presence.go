package main

// The presence rows of -scale measure where users are across the cluster
// (package presence) at 10, 100 and 300 frontends with 1,000 bound
// sessions each, all in this process on one embedded NATS server with
// JetStream: how long Locate and a cluster-wide kick take, and how many
// messages a kick costs, through the uid index and by asking every
// frontend (broadcast).
//
//	go run . -scale -json                         # discovery rows, then presence rows
//	go run . -scale -sizes 0 -presence-sizes 10   # presence only, one size

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sessionrpc/sessionrpc/cluster"
	"github.com/sessionrpc/sessionrpc/presence"
	rt "github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc/natsembed"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// presenceResult is one presence row of -scale; its JSON keys are the
// interface. Each size has two rows: mode "index" and mode "broadcast".
type presenceResult struct {
	Kind                string `json:"kind"` // "presence"
	Frontends           int    `json:"frontends"`
	SessionsPerFrontend int    `json:"sessions_per_frontend"`
	// Mode is "index" (Directory with the uid index) or "broadcast"
	// (presence.WithoutIndex: every frontend is asked).
	Mode string `json:"mode"`
	// LocateUS is the median time to find where a user is: Locate, one
	// read of the index; in broadcast mode GetByUIDEverywhere, the only way
	// left. LocateP99US is its 99th percentile.
	LocateUS    float64 `json:"locate_us"`
	LocateP99US float64 `json:"locate_p99_us"`
	// KickEverywhereUS is the median time of KickByUIDEverywhere of a user
	// bound on one frontend.
	KickEverywhereUS float64 `json:"kick_everywhere_us"`
	// MsgsPerKick is the messages published to NATS per kick, everyone's
	// (the kicker's calls and the frontends' answers, the index update and
	// event that follow a kick), less the idle rate of membership
	// heartbeats over the kicks' time.
	MsgsPerKick float64 `json:"msgs_per_kick"`
	// IndexFillS (index rows): from the first bind of all frontends'
	// sessions, bound at once, until every frontend's index writes were
	// done.
	IndexFillS float64 `json:"index_fill_s,omitempty"`
	LoadAvg    float64 `json:"load_avg_1m"`
	Failed     string  `json:"failed,omitempty"`
}

// Samples per row: enough for a median, few enough that 300 frontends
// finish.
const (
	locateSamples    = 300
	broadcastSamples = 40
	kickSamples      = 60
)

// presenceFrontend is one frontend of the run.
type presenceFrontend struct {
	id    string
	nc    *nats.Conn
	store *session.Store
	fe    *presence.Frontend
	reg   *cluster.Registration
	srv   *natsrpc.Server
}

func runPresence(sizes []int, sessions int, stderr io.Writer) ([]presenceResult, error) {
	var out []presenceResult
	for _, n := range sizes {
		fmt.Fprintf(stderr, "bench -scale: presence, %d frontends × %d sessions\n", n, sessions)
		rows, err := presenceOne(n, sessions, stderr)
		if err != nil {
			return out, fmt.Errorf("presence, %d frontends: %w", n, err)
		}
		out = append(out, rows...)
	}
	return out, nil
}

func presenceOne(n, sessions int, stderr io.Writer) ([]presenceResult, error) {
	index := presenceResult{Kind: "presence", Frontends: n, SessionsPerFrontend: sessions, Mode: "index", LoadAvg: loadAvg()}
	broadcast := index
	broadcast.Mode = "broadcast"
	ns, err := natsembed.Start(natsembed.WithJetStream())
	if err != nil {
		return nil, err
	}
	defer ns.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 10*scaleWait)
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)
	copts := []cluster.Option{cluster.WithSubjectPrefix("presence.cluster"), cluster.WithLogger(quiet)}
	popts := []presence.Option{presence.WithLogger(quiet)}

	// The frontends: store, presence, sys.sessionRemote and sys.presence on
	// NATS, membership.
	fronts := make([]*presenceFrontend, n)
	defer func() {
		for _, f := range fronts {
			if f == nil {
				continue
			}
			if f.reg != nil {
				f.reg.Close()
			}
			if f.srv != nil {
				f.srv.Close()
			}
			if f.fe != nil {
				f.fe.Close()
			}
			f.nc.Close()
		}
	}()
	start := time.Now()
	if err := parallelDo(n, func(i int) error {
		nc, err := connect(ns.URL())
		if err != nil {
			return err
		}
		f := &presenceFrontend{id: fmt.Sprintf("connector-%d", i), nc: nc}
		fronts[i] = f
		inc := cluster.NewIncarnation()
		f.store = session.NewStore(f.id, session.WithIncarnation(inc))
		var fopts []presence.FrontendOption
		for _, o := range popts {
			fopts = append(fopts, o)
		}
		fopts = append(fopts, presence.WithIndexStorage(jetstream.MemoryStorage))
		if f.fe, err = presence.NewFrontend(ctx, nc, f.store, fopts...); err != nil {
			return err
		}
		srv := rt.NewServer(rt.WithLogger(quiet))
		sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(f.store))
		presence.RegisterPresenceRemoteServer(srv, f.fe)
		if f.srv, err = natsrpc.Serve(nc, f.id, srv); err != nil {
			return err
		}
		var jopts []cluster.JoinOption
		for _, o := range copts {
			jopts = append(jopts, o)
		}
		f.reg, err = cluster.Join(ctx, nc, cluster.Info{ID: f.id, Type: "connector", Frontend: true},
			append(jopts, cluster.WithIncarnation(inc))...)
		return err
	}); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "bench -scale:   %d frontends up in %v\n", n, time.Since(start).Round(time.Millisecond))

	// The backend: a view, and a directory with the index and one without.
	bnc, err := connect(ns.URL())
	if err != nil {
		return nil, err
	}
	defer bnc.Close()
	var vopts []cluster.ViewOption
	for _, o := range copts {
		vopts = append(vopts, o)
	}
	view, err := cluster.NewView(ctx, bnc, vopts...)
	if err != nil {
		return nil, err
	}
	defer view.Close()
	deadline := time.Now().Add(scaleWait)
	for len(view.Members(cluster.Frontends())) < n {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the view lists %d of %d frontends", len(view.Members(cluster.Frontends())), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	client := rt.NewClient(natsrpc.NewTransport(bnc), rt.WithDefaultTimeout(30*time.Second))
	var dopts []presence.DirectoryOption
	for _, o := range popts {
		dopts = append(dopts, o)
	}
	withIndex, err := presence.NewDirectory(ctx, bnc, view, client, dopts...)
	if err != nil {
		return nil, err
	}
	defer withIndex.Close()
	without, err := presence.NewDirectory(ctx, bnc, view, client, append(dopts, presence.WithoutIndex())...)
	if err != nil {
		return nil, err
	}
	defer without.Close()

	// Every frontend binds its sessions at once; the index follows.
	start = time.Now()
	if err := parallelDo(n, func(i int) error {
		f := fronts[i]
		for j := range sessions {
			if err := f.store.Create(nil).Bind(presenceUID(i, j)); err != nil {
				return err
			}
		}
		return f.fe.Sync(ctx)
	}); err != nil {
		index.Failed = "fill: " + err.Error()
		return []presenceResult{index, broadcast}, nil
	}
	index.IndexFillS = roundSig3(time.Since(start).Seconds())
	fmt.Fprintf(stderr, "bench -scale:   %d sessions bound and indexed in %.3g s\n", n*sessions, index.IndexFillS)

	rng := rand.New(rand.NewPCG(uint64(n), uint64(sessions)))
	pick := func() string { return presenceUID(rng.IntN(n), rng.IntN(sessions)) }

	// Locate: one read of the index; without it, ask everyone.
	var lat []time.Duration
	for range locateSamples {
		uid := pick()
		t0 := time.Now()
		locs, err := withIndex.Locate(ctx, uid)
		lat = append(lat, time.Since(t0))
		if err != nil || len(locs) != 1 {
			index.Failed = fmt.Sprintf("locate %s: %v %v", uid, locs, err)
			break
		}
	}
	index.LocateUS, index.LocateP99US = percentileUS(lat, 50), percentileUS(lat, 99)
	lat = lat[:0]
	for range broadcastSamples {
		uid := pick()
		t0 := time.Now()
		res := without.GetByUIDEverywhere(ctx, uid)
		lat = append(lat, time.Since(t0))
		if res.Err() != nil || len(res.Sessions()) != 1 {
			broadcast.Failed = fmt.Sprintf("get %s: %d sessions, %v", uid, len(res.Sessions()), res.Err())
			break
		}
	}
	broadcast.LocateUS, broadcast.LocateP99US = percentileUS(lat, 50), percentileUS(lat, 99)
	fmt.Fprintf(stderr, "bench -scale:   locate %.0f µs (index), %.0f µs (broadcast)\n", index.LocateUS, broadcast.LocateUS)

	// Kick everywhere: distinct users, each bound once. Messages are
	// counted at the NATS server, less membership's idle rate.
	idle, err := idleRate(ns, time.Second)
	if err != nil {
		return nil, err
	}
	kicked := map[string]bool{}
	kick := func(dir *presence.Directory, k int, r *presenceResult) error {
		var lat []time.Duration
		v0, err := ns.NATS().Varz(nil)
		if err != nil {
			return err
		}
		t0 := time.Now()
		for range k {
			uid := pick()
			for kicked[uid] {
				uid = pick()
			}
			kicked[uid] = true
			t := time.Now()
			res := dir.KickByUIDEverywhere(ctx, uid, "bench")
			lat = append(lat, time.Since(t))
			if res.Err() != nil || res.Kicked() != 1 {
				r.Failed = fmt.Sprintf("kick %s: kicked %d, %v", uid, res.Kicked(), res.Err())
				break
			}
		}
		took := time.Since(t0)
		v1, err := ns.NATS().Varz(nil)
		if err != nil {
			return err
		}
		msgs := float64(v1.InMsgs-v0.InMsgs) - idle*took.Seconds()
		r.KickEverywhereUS = percentileUS(lat, 50)
		r.MsgsPerKick = round2(max(msgs, 0) / float64(len(lat)))
		return nil
	}
	// Each user is kicked once: at most a third of them in each mode.
	k := min(kickSamples, n*sessions/3)
	if err := kick(withIndex, k, &index); err != nil {
		return nil, err
	}
	if err := kick(without, max(k/2, 1), &broadcast); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "bench -scale:   kick %.0f µs, %.1f msgs (index); %.0f µs, %.1f msgs (broadcast)\n",
		index.KickEverywhereUS, index.MsgsPerKick, broadcast.KickEverywhereUS, broadcast.MsgsPerKick)
	return []presenceResult{index, broadcast}, nil
}

func presenceUID(frontend, i int) string { return fmt.Sprintf("user-%d-%d", frontend, i) }

// idleRate returns the messages published to ns per second while nothing
// but membership runs.
func idleRate(ns *natsembed.Server, d time.Duration) (float64, error) {
	v0, err := ns.NATS().Varz(nil)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	time.Sleep(d)
	v1, err := ns.NATS().Varz(nil)
	if err != nil {
		return 0, err
	}
	return float64(v1.InMsgs-v0.InMsgs) / time.Since(t0).Seconds(), nil
}

// percentileUS returns the p-th percentile of lat in microseconds, or -1
// for none.
func percentileUS(lat []time.Duration, p int) float64 {
	if len(lat) == 0 {
		return -1
	}
	s := slices.Clone(lat)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := min(len(s)-1, len(s)*p/100)
	return round2(float64(s[i]) / float64(time.Microsecond))
}

// parallelDo runs f(0..n-1), 32 at a time, and returns the first error.
func parallelDo(n int, f func(i int) error) error {
	sem := make(chan struct{}, 32)
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}
