package cluster

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
)

// fetchReq is a record a view asks a member for.
type fetchReq struct{ id, inc string }

// maxFetchers bounds the goroutines a view fetches records with; they run
// only while there is something to fetch.
const maxFetchers = 4

// maxFetchQueue bounds the records a view waits to fetch; beyond, a
// heartbeat's fetch is dropped and the next heartbeat asks again.
const maxFetchQueue = 4096

// queueFetch asks for the record of id's incarnation inc, once.
func (v *View) queueFetch(id, inc string) {
	key := goodbyeKey(id, inc)
	if v.fetching[key] || len(v.fetchQ) >= maxFetchQueue {
		return
	}
	if after, ok := v.fetchAfter[key]; ok && time.Now().Before(after) {
		// Its last fetch failed: a member too busy to answer is not asked
		// again at every heartbeat.
		return
	}
	v.fetching[key] = true
	v.fetchQ = append(v.fetchQ, fetchReq{id, inc})
	if v.fetchers < maxFetchers {
		v.fetchers++
		v.wg.Add(1)
		go v.fetchLoop()
	}
}

// fetchLoop fetches queued records until none is left.
func (v *View) fetchLoop() {
	defer v.wg.Done()
	for {
		v.mu.Lock()
		if len(v.fetchQ) == 0 || v.closed {
			v.fetchers--
			v.mu.Unlock()
			return
		}
		r := v.fetchQ[0]
		v.fetchQ = v.fetchQ[1:]
		v.mu.Unlock()
		v.fetch(r)
	}
}

// fetch asks the member for its record, by request on its whois subject
// naming the incarnation.
func (v *View) fetch(r fetchReq) {
	ctx, cancel := context.WithTimeout(v.ctx, heartbeatEvery(v.bound))
	msg, err := v.nc.RequestWithContext(ctx, v.subj.whois(r.id), []byte(r.inc))
	cancel()
	v.mu.Lock()
	defer v.mu.Unlock()
	key := goodbyeKey(r.id, r.inc)
	delete(v.fetching, key)
	if v.closed {
		return
	}
	if err != nil {
		v.fetchAfter[key] = time.Now().Add(2 * heartbeatEvery(v.bound))
		if errors.Is(err, nats.ErrNoResponders) {
			// Gone already. An incarnation known only by heartbeat is
			// dropped; one with a record expires as usual.
			if s := v.ids[r.id]; s != nil {
				s.cands = slices.DeleteFunc(s.cands, func(c *cand) bool { return c.inc == r.inc && c.m == nil })
				if len(s.cands) == 0 && s.shown == nil {
					delete(v.ids, r.id)
				}
			}
		}
		v.log.Debug("cluster: record not fetched", "id", r.id, "incarnation", r.inc, "err", err)
		return
	}
	delete(v.fetchAfter, key)
	m, err := parseMessage("", "", msg.Data)
	if err != nil || m.rec.ID != r.id || m.rec.Op == opLeave {
		v.log.Debug("cluster: ignoring a malformed record", "id", r.id, "err", err)
		return
	}
	v.onRecord(time.Now(), &m.rec)
}
