package cluster

// Consistent hashing is rendezvous (highest random weight) hashing: a key
// goes to the member whose id, mixed with the key, scores highest. When a
// member leaves, only its keys move (each to its runner-up); when one
// joins, it takes only the keys it now wins, about 1/N; no virtual nodes
// are needed for an even spread. A pick costs one multiply-and-mix per
// member, about a microsecond for 300. Every process computes the same
// scores (FNV-1a and a fixed mixer, no per-process seed), so a key reaches
// the same member from every caller.

// hashString is 64-bit FNV-1a, finished with mix so that similar strings
// ("room-1", "room-2") land far apart.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix(h)
}

// mix is the 64-bit finalizer of MurmurHash3.
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// ConsistentHash returns the member of members that key maps to, the same
// one from every process while members stays the same; when one member
// leaves, only the keys it held map elsewhere. It returns the zero Member
// when members is empty. Use it in a [RouteFunc] that hashes a key of its
// own choosing, such as an argument of the call.
func ConsistentHash(key string, members []Member) Member {
	i := hashIndex(hashString(key), members)
	if i < 0 {
		return Member{}
	}
	return members[i]
}

// hashIndex returns the index of the member key scores highest with, or -1.
func hashIndex(key uint64, members []Member) int {
	best, bestScore := -1, uint64(0)
	for i := range members {
		h := members[i].hash
		if h == 0 {
			h = hashString(members[i].ID)
		}
		score := mix(key ^ h)
		// Ties (never in practice) go to the smaller id, so that every
		// process agrees whatever the order of members.
		if best < 0 || score > bestScore || (score == bestScore && members[i].ID < members[best].ID) {
			best, bestScore = i, score
		}
	}
	return best
}
