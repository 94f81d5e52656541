package session

import (
	"hash/maphash"
	"slices"
	"sync"
)

// uidIndex maps a uid to its sessions. It is sharded by a hash of the uid so that binds of
// different uids do not contend, while every operation on one uid meets under one lock.
type uidIndex struct {
	seed   maphash.Seed
	shards [shardCount]uidShard
}

type uidShard struct {
	mu sync.RWMutex
	// m holds each bound uid's sessions sorted by id. A uid with no sessions has no
	// entry at all, so bind/unbind cycles leave nothing behind.
	m map[string][]*Session
}

func (x *uidIndex) init() {
	x.seed = maphash.MakeSeed()
	for i := range x.shards {
		x.shards[i].m = make(map[string][]*Session)
	}
}

func (x *uidIndex) shard(uid string) *uidShard {
	return &x.shards[maphash.String(x.seed, uid)%shardCount]
}

// add indexes s under uid. When single is set and uid already has a session it adds
// nothing and reports false; the check and the insert share one critical section.
func (x *uidIndex) add(uid string, s *Session, single bool) bool {
	sh := x.shard(uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	list := sh.m[uid]
	if single && len(list) > 0 {
		return false
	}
	i, _ := slices.BinarySearchFunc(list, s.id, cmpID)
	sh.m[uid] = slices.Insert(list, i, s)
	return true
}

// remove drops s from uid's sessions, and uid's entry when it was the last.
func (x *uidIndex) remove(uid string, s *Session) {
	sh := x.shard(uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	list := sh.m[uid]
	i, found := slices.BinarySearchFunc(list, s.id, cmpID)
	if !found {
		return
	}
	if len(list) == 1 {
		delete(sh.m, uid)
		return
	}
	// slices.Delete zeroes the vacated tail slot, so the slice does not pin s.
	sh.m[uid] = slices.Delete(list, i, i+1)
}

// get returns a copy of uid's sessions in id order, or nil.
func (x *uidIndex) get(uid string) []*Session {
	sh := x.shard(uid)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return slices.Clone(sh.m[uid])
}

// appendShard appends every session indexed in shard i to dst.
func (x *uidIndex) appendShard(dst []*Session, i int) []*Session {
	sh := &x.shards[i]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	for _, list := range sh.m {
		dst = append(dst, list...)
	}
	return dst
}

func cmpID(s *Session, id ID) int {
	switch {
	case s.id < id:
		return -1
	case s.id > id:
		return 1
	}
	return 0
}
