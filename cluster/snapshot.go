package cluster

import (
	"slices"
	"strings"
)

// snapshot is the view's members at one moment, immutable, for lookups
// and routing without the view's mutex.
type snapshot struct {
	members []Member            // sorted by ID
	byID    map[string]int      // index in members
	serving map[string][]Member // serving members by type, sorted by ID
}

func (v *View) current() *snapshot {
	if s := v.snap.Load(); s != nil {
		return s
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s := v.snap.Load(); s != nil {
		return s
	}
	s := &snapshot{byID: make(map[string]int, len(v.ids)), serving: map[string][]Member{}}
	for _, sl := range v.ids {
		if sl.shown != nil {
			s.members = append(s.members, *sl.shown.m)
		}
	}
	slices.SortFunc(s.members, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	for i, m := range s.members {
		s.byID[m.ID] = i
		if m.State == Serving {
			s.serving[m.Type] = append(s.serving[m.Type], m)
		}
	}
	v.snap.Store(s)
	return s
}

// Members returns the members that pass every filter, sorted by id.
func (v *View) Members(filters ...Filter) []Member {
	s := v.current()
	out := make([]Member, 0, len(s.members))
	for _, m := range s.members {
		if matches(m, filters) {
			out = append(out, m)
		}
	}
	return out
}

// Member returns the live member with this id.
func (v *View) Member(id string) (Member, bool) {
	s := v.current()
	if i, ok := s.byID[id]; ok {
		return s.members[i], true
	}
	return Member{}, false
}

// Lookup returns the member with this id if it is the live incarnation
// inc: whether that run of the server is still up (a session or a
// connection made with it is still good).
func (v *View) Lookup(id, inc string) (Member, bool) {
	m, ok := v.Member(id)
	if !ok || m.Incarnation != inc {
		return Member{}, false
	}
	return m, true
}
