package natsrpc

import (
	"hash/maphash"
	"sync"
)

// registryShards splits a server's calls so that a probe scanning
// thousands of reply subjects never holds a lock for more than one lookup,
// and handlers finishing on many cores rarely meet on one lock.
const registryShards = 32

// registry is a server's calls in flight, by reply subject.
type registry struct {
	seed   maphash.Seed
	shards [registryShards]struct {
		mu sync.Mutex
		m  map[string]*serverCall
		_  [40]byte // keep shards on separate cache lines
	}
}

func (r *registry) init() {
	r.seed = maphash.MakeSeed()
	for i := range r.shards {
		r.shards[i].m = make(map[string]*serverCall)
	}
}

func (r *registry) shard(reply string) int {
	return int(maphash.String(r.seed, reply) % registryShards)
}

func (r *registry) get(reply string) *serverCall {
	sh := &r.shards[r.shard(reply)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.m[reply]
}

// has reports whether a call answers to reply; reply is not kept.
func (r *registry) has(reply []byte) bool {
	sh := &r.shards[maphash.Bytes(r.seed, reply)%registryShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.m[string(reply)] != nil
}

func (r *registry) put(c *serverCall) {
	sh := &r.shards[r.shard(c.reply)]
	sh.mu.Lock()
	sh.m[c.reply] = c
	sh.mu.Unlock()
}

// delete forgets c, unless another call took its reply subject since.
func (r *registry) delete(c *serverCall) {
	sh := &r.shards[r.shard(c.reply)]
	sh.mu.Lock()
	if sh.m[c.reply] == c {
		delete(sh.m, c.reply)
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
