package tcp

// WriteStats returns how many writes and frames the transport's live
// connections have made.
func (t *Transport) WriteStats() (writes, frames uint64) {
	t.peers.Range(func(_, v any) bool {
		if cc := v.(*peer).cc.Load(); cc != nil {
			w, f := cc.w.stats()
			writes, frames = writes+w, frames+f
		}
		return true
	})
	return writes, frames
}

// WriteStats returns how many writes and frames the server's live
// connections have made.
func (s *Server) WriteStats() (writes, frames uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sc := range s.conns {
		w, f := sc.w.stats()
		writes, frames = writes+w, frames+f
	}
	return writes, frames
}

// NumConns returns how many connections the server is serving.
func (s *Server) NumConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
