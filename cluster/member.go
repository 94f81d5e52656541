package cluster

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"time"
)

// Info is what a server announces about itself: [Join] takes it, and
// [Registration.Update] changes it.
type Info struct {
	// ID names the server in the cluster: calls address it, and one live
	// server holds it at a time. One NATS subject token: no spaces, '.',
	// '*' or '>' (the id natsrpc serves under is the same).
	ID string
	// Type is the server's kind, such as "connector" or "room": calls by
	// type ([Router]) pick among the servers of one type. One subject
	// token too.
	Type string
	// Frontend is true for servers that hold client connections and
	// sessions (pomelo's frontend servers).
	Frontend bool
	// Addr is the host:port other servers dial for its TCP transport, as
	// they can reach it: behind a container or NAT it differs from the
	// address the server listens on. Empty when it serves no TCP.
	Addr string
	// Routes are the routes or services it serves, e.g. from
	// [runtime.Server.Routes]; announced as given, sorted and without
	// duplicates.
	Routes []string
	// Metadata is free-form: region, version, capacity.
	Metadata map[string]string
}

// State says whether a member takes new work.
type State int

const (
	// Serving members take calls by type.
	Serving State = iota
	// Draining members are about to leave (a rolling deploy): routers
	// skip them, but calls by id and broadcasts still reach them.
	Draining
)

// String returns "serving" or "draining".
func (s State) String() string {
	switch s {
	case Serving:
		return "serving"
	case Draining:
		return "draining"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Member is one live server as a [View] sees it: what it announced, and
// what identifies this run of it. A Member is a value: its routes and
// metadata are read through methods that return copies, so that no caller
// can change the view through it.
type Member struct {
	ID       string
	Type     string
	Frontend bool
	Addr     string // TCP host:port to dial; empty when it serves no TCP
	// Incarnation is unique to this process start of the server: 32
	// lowercase hex digits (128 random bits). A server restarted under the
	// same id has a new one, so (ID, Incarnation) names one run.
	Incarnation string
	StartedAt   time.Time // when this incarnation joined, by its own clock
	State       State
	// Version counts the member's announcements: 1 when it joins, one
	// more for each update or drain.
	Version uint64
	// LeaveBound is how long after its last heartbeat the member counts as
	// gone; it chose it when it joined ([WithLeaveBound]).
	LeaveBound time.Duration

	routes   []string
	metadata map[string]string
	hash     uint64 // of ID, for ConsistentHash; 0 until computed
}

// Routes returns a copy of the routes the member serves, sorted.
func (m Member) Routes() []string { return slices.Clone(m.routes) }

// HasRoute reports whether the member announced route.
func (m Member) HasRoute(route string) bool {
	_, ok := slices.BinarySearch(m.routes, route)
	return ok
}

// Metadata returns a copy of the member's metadata.
func (m Member) Metadata() map[string]string { return maps.Clone(m.metadata) }

// Meta returns one metadata value.
func (m Member) Meta(key string) (string, bool) {
	v, ok := m.metadata[key]
	return v, ok
}

// Info returns what the member announced, as a copy: a starting point for
// [Registration.Update].
func (m Member) Info() Info {
	return Info{ID: m.ID, Type: m.Type, Frontend: m.Frontend, Addr: m.Addr, Routes: m.Routes(), Metadata: m.Metadata()}
}

// String returns a short description, e.g.
// "room-1 (room, 1a2b3c4d, serving, 10.0.0.7:3150)".
func (m Member) String() string {
	inc := m.Incarnation
	if len(inc) > 8 {
		inc = inc[:8]
	}
	s := fmt.Sprintf("%s (%s, %s, %s", m.ID, m.Type, inc, m.State)
	if m.Frontend {
		s += ", frontend"
	}
	if m.Addr != "" {
		s += ", " + m.Addr
	}
	return s + ")"
}

// Limits on what a member may announce, so that a record stays far below
// any NATS max_payload and a view's memory stays bounded.
const (
	maxTokenLen   = 256
	maxRoutes     = 4096
	maxMetadata   = 256
	maxRecordSize = 64 << 10
)

// validToken reports whether s can be one token of a NATS subject: not
// empty, no whitespace or control characters, no '.', and no wildcard.
func validToken(s string) bool {
	if s == "" || len(s) > maxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ', c == 0x7f, c == '.', c == '*', c == '>':
			return false
		}
	}
	return true
}

// check returns what is wrong with info, or nil.
func (info *Info) check() error {
	if !validToken(info.ID) {
		return fmt.Errorf("invalid server id %q: want one NATS subject token, without spaces, '.', '*' or '>'", info.ID)
	}
	if !validToken(info.Type) {
		return fmt.Errorf("server %q: invalid type %q: want one NATS subject token, without spaces, '.', '*' or '>'", info.ID, info.Type)
	}
	if info.Addr != "" {
		if host, port, err := net.SplitHostPort(info.Addr); err != nil || host == "" || port == "" {
			return fmt.Errorf("server %q: invalid address %q: want host:port", info.ID, info.Addr)
		}
	}
	if len(info.Routes) > maxRoutes {
		return fmt.Errorf("server %q: %d routes, more than %d", info.ID, len(info.Routes), maxRoutes)
	}
	for _, r := range info.Routes {
		if r == "" {
			return fmt.Errorf("server %q: an empty route", info.ID)
		}
	}
	if len(info.Metadata) > maxMetadata {
		return fmt.Errorf("server %q: %d metadata keys, more than %d", info.ID, len(info.Metadata), maxMetadata)
	}
	for k := range info.Metadata {
		if k == "" {
			return fmt.Errorf("server %q: an empty metadata key", info.ID)
		}
	}
	return nil
}

// sortedRoutes returns routes sorted and without duplicates, in a new slice.
func sortedRoutes(routes []string) []string {
	if len(routes) == 0 {
		return nil
	}
	r := slices.Clone(routes)
	slices.Sort(r)
	return slices.Compact(r)
}
