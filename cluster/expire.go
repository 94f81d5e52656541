package cluster

import (
	"slices"
	"time"
)

// ghost is the record of an incarnation dropped as silent, kept for a
// while: when it is heard again (it was cut off, or the view was behind)
// it comes back without every view fetching its record at once.
type ghost struct {
	m     *Member
	until time.Time
}

// ghostFor is how many leave bounds a ghost is kept: long enough that a
// member flapping on a congested network is not fetched by every view each
// time it comes back.
const ghostFor = 10

// loop checks for silent members every tick.
func (v *View) loop() {
	defer v.wg.Done()
	t := time.NewTicker(v.tick)
	defer t.Stop()
	for {
		select {
		case <-v.stop:
			return
		case now := <-t.C:
			v.check(now)
		}
	}
}

// check expires the members that have been silent for their leave bound,
// unless the view cannot trust their silence: its connection is or was
// down, or messages that arrived before it proved its link are not handled
// yet. Time the view itself was not running is taken off everyone's
// silence.
func (v *View) check(now time.Time) {
	v.mu.Lock()
	if late := now.Sub(v.lastCheck) - v.tick; late > 2*v.tick {
		// The view was not running for a while (a stalled process, a
		// starved machine): that time is nobody's silence. In one process
		// the members stalled too, and beat again only now.
		v.log.Debug("cluster: view stalled; the stall is forgiven", "for", late)
		for _, s := range v.ids {
			for _, c := range s.cands {
				c.seen = c.seen.Add(late)
			}
		}
	}
	v.lastCheck = now
	if !v.nc.IsConnected() {
		v.linkDown, v.mark = true, 0
		v.mu.Unlock()
		return
	}
	if rc := v.nc.Stats().Reconnects; v.linkDown || rc != v.reconnects {
		// Everyone gets a fresh bound: the grace after a reconnect.
		v.log.Debug("cluster: view was deaf; every member gets a fresh leave bound", "reconnected", rc != v.reconnects)
		for _, s := range v.ids {
			for _, c := range s.cands {
				c.seen = now
			}
		}
		v.linkDown, v.reconnects, v.mark = false, rc, 0
	}
	for k, until := range v.goodbyes {
		if now.After(until) {
			delete(v.goodbyes, k)
		}
	}
	for k, g := range v.ghosts {
		if now.After(g.until) {
			delete(v.ghosts, k)
		}
	}
	for k, after := range v.fetchAfter {
		if now.After(after) {
			delete(v.fetchAfter, k)
		}
	}
	due := false
	for _, s := range v.ids {
		for _, c := range s.cands {
			if v.silent(now, c) {
				due = true
			}
		}
	}
	if !due {
		v.mark = 0
		v.mu.Unlock()
		return
	}
	if v.mark != 0 {
		if v.processed.Load() < v.mark {
			v.mu.Unlock()
			return // still handling what arrived before the link was proved
		}
		v.mark = 0
		v.expire(now)
		v.mu.Unlock()
		return
	}
	v.mu.Unlock()

	// Prove the link with a round trip to NATS before taking silence for
	// death; what arrived before the answer must be handled first. A round
	// trip that does not come back in time proves nothing either way (a
	// busy NATS, a starved process): try again at the next check. A lost
	// connection shows in the next check, and earns the grace.
	if err := v.nc.FlushTimeout(heartbeatEvery(v.bound)); err != nil {
		return
	}
	var mark uint64
	for _, s := range v.subs {
		n, _, _ := s.Pending()
		d, _ := s.Delivered()
		mark += uint64(max(n, 0)) + uint64(max(d, 0))
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed || v.linkDown {
		return
	}
	if v.processed.Load() < mark {
		v.mark = mark
		return
	}
	v.expire(time.Now())
}

// silent reports whether c has been silent long enough to be dropped: its
// leave bound, less two check periods: one may pass before the silence is
// noticed, and one more while the view proves its link. (A member whose
// bound is shorter than the view's is checked as often as the view checks:
// it leaves up to two of the view's periods after its bound.)
func (v *View) silent(now time.Time, c *cand) bool {
	bound := v.bound
	if c.m != nil {
		bound = c.m.LeaveBound
	}
	return now.Sub(c.seen) > bound-min(2*v.tick, bound/6)
}

// expire drops every silent incarnation, unless many shown members fell
// silent at once and this is the first time: more than a quarter of them,
// and at least two. That is what a view sees when NATS itself is the
// trouble (a node failing over, congestion delaying every heartbeat), and
// it then gives those members one more leave bound. A real mass failure is
// reported a bound later; a second such silence in a row is not forgiven.
func (v *View) expire(now time.Time) {
	shown, silent := 0, 0
	var bound time.Duration
	for _, s := range v.ids {
		if s.shown != nil {
			shown++
			if v.silent(now, s.shown) {
				silent++
				bound = max(bound, s.shown.m.LeaveBound)
			}
		}
	}
	if silent >= 2 && silent*4 > shown && now.After(v.forgiven) {
		// The members forgiven fall due again one bound from now: that
		// silence is the same one, and is not forgiven.
		v.forgiven = now.Add(2 * bound)
		v.log.Warn("cluster: many members silent at once; giving them one more leave bound", "silent", silent, "of", shown)
		for _, s := range v.ids {
			for _, c := range s.cands {
				if v.silent(now, c) {
					c.seen = now
				}
			}
		}
		return
	}
	for id, s := range v.ids {
		n := len(s.cands)
		s.cands = slices.DeleteFunc(s.cands, func(c *cand) bool {
			if !v.silent(now, c) {
				return false
			}
			if c.m != nil {
				v.ghosts[goodbyeKey(id, c.inc)] = ghost{m: c.m, until: now.Add(ghostFor * c.m.LeaveBound)}
			}
			return true
		})
		if len(s.cands) != n {
			v.settle(id, s, Expired)
		}
	}
}
