package cluster

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Subjects, under a prefix (DefaultSubjectPrefix unless WithSubjectPrefix):
//
//	<prefix>.member.<type>.<id>   the member's heartbeats and announcements
//	<prefix>.whois.<id>           request: the record of whoever holds id
//	<prefix>.rollcall             request: every member answers with its record
//
// The doc comment of the package describes what travels on them.
type subjects struct {
	prefix  string
	members string // prefix + ".member."
}

func newSubjects(prefix string) subjects {
	return subjects{prefix: prefix, members: prefix + ".member."}
}

func (s subjects) member(typ, id string) string { return s.members + typ + "." + id }
func (s subjects) ofType(typ string) string     { return s.members + typ + ".*" }
func (s subjects) all() string                  { return s.members + "*.*" }
func (s subjects) whois(id string) string       { return s.prefix + ".whois." + id }
func (s subjects) rollcall() string             { return s.prefix + ".rollcall" }

// parseMember returns the type and id of a member subject.
func (s subjects) parseMember(subject string) (typ, id string, ok bool) {
	rest, ok := strings.CutPrefix(subject, s.members)
	if !ok {
		return "", "", false
	}
	typ, id, ok = strings.Cut(rest, ".")
	return typ, id, ok && validToken(typ) && validToken(id)
}

// checkPrefix returns an error unless prefix is one or more dot-separated
// valid tokens.
func checkPrefix(prefix string) error {
	for tok := range strings.SplitSeq(prefix, ".") {
		if !validToken(tok) {
			return fmt.Errorf("invalid subject prefix %q", prefix)
		}
	}
	return nil
}

// Operations of an announcement.
const (
	opJoin   = "join"
	opUpdate = "update"
	opLeave  = "leave"
	opState  = "" // an answer to whois or a roll call: the record as it is
)

// record is a member's announcement on the wire, JSON. It is what a
// [Member] holds, plus the operation.
type record struct {
	Op           string            `json:"op,omitempty"`
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	Frontend     bool              `json:"frontend,omitempty"`
	Addr         string            `json:"addr,omitempty"`
	Incarnation  string            `json:"incarnation"`
	StartedAt    int64             `json:"started_unix_ns"`
	State        string            `json:"state"`
	Version      uint64            `json:"version"`
	LeaveBoundMS int64             `json:"leave_bound_ms"`
	Routes       []string          `json:"routes,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

// maxLeaveBound bounds the leave bound a record may claim, so that a bad
// record cannot keep a dead member in every view for long.
const maxLeaveBound = 10 * time.Minute

var errBadRecord = errors.New("cluster: bad record")

// check returns what is wrong with r as it arrived, or nil.
func (r *record) check() error {
	info := Info{ID: r.ID, Type: r.Type, Addr: r.Addr, Routes: r.Routes, Metadata: r.Metadata}
	if err := info.check(); err != nil {
		return fmt.Errorf("%w: %v", errBadRecord, err)
	}
	switch {
	case r.Op != opJoin && r.Op != opUpdate && r.Op != opLeave && r.Op != opState:
		return fmt.Errorf("%w: %s: unknown op %q", errBadRecord, r.ID, r.Op)
	case !validIncarnation(r.Incarnation):
		return fmt.Errorf("%w: %s: invalid incarnation %q", errBadRecord, r.ID, r.Incarnation)
	case r.State != Serving.String() && r.State != Draining.String():
		return fmt.Errorf("%w: %s: unknown state %q", errBadRecord, r.ID, r.State)
	case r.Version == 0:
		return fmt.Errorf("%w: %s: version 0", errBadRecord, r.ID)
	case r.LeaveBoundMS < MinLeaveBound.Milliseconds() || r.LeaveBoundMS > maxLeaveBound.Milliseconds():
		return fmt.Errorf("%w: %s: leave bound %d ms out of range", errBadRecord, r.ID, r.LeaveBoundMS)
	}
	return nil
}

// member returns the Member r describes; r must have passed check.
func (r *record) member() Member {
	st := Serving
	if r.State == Draining.String() {
		st = Draining
	}
	return Member{
		ID: r.ID, Type: r.Type, Frontend: r.Frontend, Addr: r.Addr,
		Incarnation: r.Incarnation,
		StartedAt:   time.Unix(0, r.StartedAt),
		State:       st,
		Version:     r.Version,
		LeaveBound:  time.Duration(r.LeaveBoundMS) * time.Millisecond,
		routes:      sortedRoutes(r.Routes),
		metadata:    maps.Clone(r.Metadata),
		hash:        hashString(r.ID),
	}
}

// encode returns r as JSON with op set.
func (r record) encode(op string) []byte {
	r.Op = op
	b, err := json.Marshal(&r)
	if err != nil {
		panic("cluster: encoding a record: " + err.Error()) // strings, numbers, a map of strings
	}
	return b
}

// heartbeat is the small message a member publishes every leave bound / 3:
//
//	hb <incarnation> <version> <started_unix_ns>
type heartbeat struct {
	inc     string
	version uint64
	started int64
}

func appendHeartbeat(b []byte, inc string, version uint64, started int64) []byte {
	b = append(b, "hb "...)
	b = append(b, inc...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, version, 10)
	b = append(b, ' ')
	return strconv.AppendInt(b, started, 10)
}

// message is what arrived on a member subject: a heartbeat, or a record.
type message struct {
	hb   bool
	beat heartbeat
	rec  record
}

// rawHeartbeat is a heartbeat as it arrived, its incarnation still the
// message's bytes: a view handles hundreds a second and allocates nothing
// for those of members it knows.
type rawHeartbeat struct {
	inc     []byte
	version uint64
	started int64
}

// parseHeartbeat parses "hb <incarnation> <version> <started_unix_ns>".
func parseHeartbeat(data []byte) (rawHeartbeat, bool) {
	rest, ok := bytes.CutPrefix(data, []byte("hb "))
	if !ok {
		return rawHeartbeat{}, false
	}
	inc, rest, ok1 := bytes.Cut(rest, []byte(" "))
	ver, started, ok2 := bytes.Cut(rest, []byte(" "))
	var h rawHeartbeat
	var ok3, ok4 bool
	h.inc = inc
	h.version, ok3 = parseUint(ver)
	neg := len(started) > 0 && started[0] == '-'
	if neg {
		started = started[1:]
	}
	u, ok4 := parseUint(started)
	if !ok1 || !ok2 || !ok3 || !ok4 || h.version == 0 || u > 1<<63-1 || !validIncarnationBytes(inc) {
		return rawHeartbeat{}, false
	}
	h.started = int64(u)
	if neg {
		h.started = -h.started
	}
	return h, true
}

// parseUint parses a decimal without allocating: digits only, at most
// 20 of them, no overflow.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseMessage parses data, which arrived on the member subject of typ and
// id (both empty for an answer to a request, which only a record can be).
func parseMessage(typ, id string, data []byte) (message, error) {
	if bytes.HasPrefix(data, []byte("hb ")) {
		if id == "" {
			return message{}, fmt.Errorf("%w: a heartbeat where a record was due", errBadRecord)
		}
		h, ok := parseHeartbeat(data)
		if !ok {
			return message{}, fmt.Errorf("%w: %s: malformed heartbeat", errBadRecord, id)
		}
		return message{hb: true, beat: heartbeat{inc: string(h.inc), version: h.version, started: h.started}}, nil
	}
	if len(data) > maxRecordSize {
		return message{}, fmt.Errorf("%w: %d bytes", errBadRecord, len(data))
	}
	var m message
	if err := json.Unmarshal(data, &m.rec); err != nil {
		return message{}, fmt.Errorf("%w: %v", errBadRecord, err)
	}
	if err := m.rec.check(); err != nil {
		return message{}, err
	}
	if len(m.rec.Routes) == 0 {
		m.rec.Routes = nil
	}
	if len(m.rec.Metadata) == 0 {
		m.rec.Metadata = nil
	}
	if id != "" && (m.rec.ID != id || m.rec.Type != typ) {
		return message{}, fmt.Errorf("%w: record of %s/%s on the subject of %s/%s", errBadRecord, m.rec.Type, m.rec.ID, typ, id)
	}
	return m, nil
}

// NewIncarnation returns a new incarnation: 128 random bits in lowercase
// hex (32 digits), printable, subject-safe, and unique for all practical
// purposes. [Join] makes one; make it yourself only to know it before
// joining ([WithIncarnation]).
func NewIncarnation() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

func validIncarnation(s string) bool { return validIncarnationBytes([]byte(s)) }

func validIncarnationBytes(s []byte) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// precedes reports whether incarnation a (started at aStart) takes the id
// from incarnation b when both are alive: the later start wins, so that a
// restarted server takes its id back at once; equal starts are decided by
// the greater incarnation. Every view and both members decide alike.
func precedes(aStart int64, aInc string, bStart int64, bInc string) bool {
	if aStart != bStart {
		return aStart > bStart
	}
	return aInc > bInc
}

// typeList encodes the types a roll call asks about; empty for all.
func typeList(types []string) []byte { return []byte(strings.Join(types, ",")) }

// wantsType reports whether a roll call with body list asks for typ.
func wantsType(list []byte, typ string) bool {
	if len(list) == 0 {
		return true
	}
	return slices.Contains(strings.Split(string(list), ","), typ)
}
