package session

// UIDIndexSize reports how many uids have an entry in st's uid index and how many
// session entries those hold, so tests can prove no stale entries are left behind.
func UIDIndexSize(st *Store) (uids, entries int) {
	for i := range st.uids.shards {
		sh := &st.uids.shards[i]
		sh.mu.RLock()
		uids += len(sh.m)
		for _, list := range sh.m {
			for b := list.head; b != nil; b = b.next {
				entries++
			}
		}
		sh.mu.RUnlock()
	}
	return uids, entries
}
