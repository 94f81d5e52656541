package natsrpc

import (
	"hash/maphash"
	"sync"
)

// registryShards splits a server's calls so that a probe scanning
// thousands of reply subjects never holds a lock for more than one lookup,
// and handlers finishing on many cores rarely meet on one lock.
const registryShards = 32

// registry is a server's calls in flight, by name (see [callKey]).
type registry struct {
	seed   maphash.Seed
	shards [registryShards]struct {
		mu sync.Mutex
		m  map[callKey]*serverCall
		_  [40]byte // keep shards on separate cache lines
	}
}

func (r *registry) init() {
	r.seed = maphash.MakeSeed()
	for i := range r.shards {
		r.shards[i].m = make(map[callKey]*serverCall)
	}
}

func (r *registry) shard(k callKey) int {
	return int((maphash.String(r.seed, k.inbox) + k.id) % registryShards)
}

func (r *registry) get(k callKey) *serverCall {
	sh := &r.shards[r.shard(k)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.m[k]
}

// cancel cancels the context of the call named k, if it runs. The context
// is read under the lock, since the call is let go once it is answered.
func (r *registry) cancel(k callKey) {
	sh := &r.shards[r.shard(k)]
	sh.mu.Lock()
	var ctx interface{ Cancel() }
	if c := sh.m[k]; c != nil {
		ctx = c.ctx.(interface{ Cancel() })
	}
	sh.mu.Unlock()
	if ctx != nil {
		ctx.Cancel()
	}
}

// has reports whether the call named name runs.
func (r *registry) has(name string) bool { return r.get(keyOf(name)) != nil }

// putNew adds c unless a call of the same name runs; it reports whether it
// did.
func (r *registry) putNew(c *serverCall) bool {
	sh := &r.shards[r.shard(c.key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m[c.key] != nil {
		return false
	}
	sh.m[c.key] = c
	return true
}

// delete forgets c, unless another call took its name since.
func (r *registry) delete(c *serverCall) {
	sh := &r.shards[r.shard(c.key)]
	sh.mu.Lock()
	if sh.m[c.key] == c {
		delete(sh.m, c.key)
	}
	sh.mu.Unlock()
}

// takeAll empties the registry and returns what it held.
func (r *registry) takeAll() []*serverCall {
	var all []*serverCall
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for k, c := range sh.m {
			all = append(all, c)
			delete(sh.m, k)
		}
		sh.mu.Unlock()
	}
	return all
}
