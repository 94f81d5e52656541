// Package deeptypes has parameter types that encoding/json carries although
// some of their fields, looked at alone, could not travel: encoding/json's
// own rules leave those out, or the types marshal themselves.
package deeptypes

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
)

// Tree is recursive: checking it must end.
type Tree struct {
	Name string
	Kids []*Tree
	Next map[string]Tree
}

// Event has fields encoding/json leaves out: unexported ones, a "-" tag and
// a channel among them.
type Event struct {
	At      time.Time
	Raw     json.RawMessage
	Any     any
	Set     map[string]struct{}
	Skipped chan int `json:"-"`
	hidden  func()
}

// Left and Right both have a Ch field: embedded side by side, the two
// cancel each other out and encoding/json sends neither.
type Left struct{ Ch chan int }

// Right is Left's twin.
type Right struct{ Ch chan int }

// Both embeds Left and Right, and has one field of its own.
type Both struct {
	Left
	Right
	N int
}

// Wins embeds Left, whose Ch its own tagged field hides.
type Wins struct {
	Left
	Ch string `json:"Ch"`
}

// base is unexported, but its exported fields are promoted.
type base struct{ ID int64 }

// Player embeds base by value, which encoding/json can fill.
type Player struct {
	base
	Name string
}

// Phase is a complex number that marshals itself.
type Phase complex128

// MarshalJSON encodes the real part.
func (p Phase) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, real(p), 'g', -1, 64), nil
}

// UnmarshalJSON decodes the real part.
func (p *Phase) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	*p = Phase(complex(f, 0))
	return err
}

// Coord is a map key through its text methods.
type Coord struct{ x, y int }

// MarshalText encodes c.
func (c Coord) MarshalText() ([]byte, error) {
	return []byte(strconv.Itoa(c.x) + ":" + strconv.Itoa(c.y)), nil
}

// UnmarshalText decodes c.
func (c *Coord) UnmarshalText(b []byte) error {
	_, err := fmtSscan(string(b), &c.x, &c.y)
	return err
}

// Stream marshals itself, so its channel is its own business.
type Stream struct{ ch chan int }

// MarshalJSON encodes s as null.
func (s Stream) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// UnmarshalJSON decodes nothing.
func (s *Stream) UnmarshalJSON([]byte) error { return nil }

// Counter marshals itself through a pointer receiver, which encoding/json
// uses for slice elements.
type Counter struct{ n int }

// MarshalJSON encodes c.
func (c *Counter) MarshalJSON() ([]byte, error) { return []byte(strconv.Itoa(c.n)), nil }

// UnmarshalJSON decodes c.
func (c *Counter) UnmarshalJSON(b []byte) (err error) {
	c.n, err = strconv.Atoi(string(b))
	return err
}

// Empty has no fields at all: {} loses nothing.
type Empty struct{}

// Deep takes all of them.
//
//rpcgen:service t.deep
type Deep interface {
	Tree(ctx context.Context, t *Tree) (Tree, error)
	Event(ctx context.Context, e Event) (Event, error)
	Both(ctx context.Context, b Both, w Wins) (int, error)
	Player(ctx context.Context, p Player) (Player, error)
	Phase(ctx context.Context, p Phase, grid map[Coord]Phase) (map[Coord]Phase, error)
	Stream(ctx context.Context, s Stream, cs []Counter) ([]Counter, error)
	Empty(ctx context.Context, e Empty) (Empty, error)
}
