// Package jsonnested has the nested types whose JSON the generated methods
// handle themselves (structs, pointers, slices, maps, raw messages), and
// those they leave to encoding/json.
package jsonnested

import (
	"context"
	"encoding/json"
	"time"
)

// ID is a named integer without JSON methods.
type ID uint64

// Item is a struct the generated code encodes field by field: tags, omitempty
// of every kind that allows it, names with k and s (which fold with U+212A
// and U+017F), a skipped field and an unexported one.
type Item struct {
	ID      ID                         `json:"id"`
	Kind    string                     `json:"kind,omitempty"`
	Size    int32                      `json:"size,omitempty"`
	On      bool                       `json:"on,omitempty"`
	Raw     json.RawMessage            `json:"raw,omitempty"`
	Tags    []string                   `json:"tags,omitempty"`
	Attrs   map[string]json.RawMessage `json:"attrs,omitempty"`
	Parent  *Ref                       `json:"parent,omitempty"`
	Weight  float64                    `json:"weight"`
	Skipped string                     `json:"-"`
	Dash    string                     `json:"-,"`
	NoTag   string
	hidden  string
}

// Ref is a small struct behind a pointer.
type Ref struct {
	ID   ID     `json:"id"`
	Name string `json:"name"`
}

// Node is a type inside itself: encoding/json handles it.
type Node struct {
	Name string  `json:"name"`
	Kids []*Node `json:"kids"`
}

// Quoted has the string option, which encoding/json handles.
type Quoted struct {
	N int64 `json:"n,string"`
}

// Embeds has an embedded struct, whose promotion rules encoding/json handles.
type Embeds struct {
	Ref
	Extra string `json:"extra"`
}

// Stamp has a time, which has JSON methods.
type Stamp struct {
	At time.Time `json:"at"`
}

// Names holds the same name but for case, which encoding/json tells apart by
// an exact match first.
type Names struct {
	A string `json:"name"`
	B string `json:"Name"`
}

// Store takes and returns nested values.
//
//rpcgen:service test.jsonnested
type Store interface {
	// Put takes every nested kind.
	Put(ctx context.Context, item Item, items []Item, byName map[string]*Item, grid [][]int, ptr **Ref, raw json.RawMessage) (*Item, error)
	// Odd takes the types left to encoding/json.
	Odd(ctx context.Context, n *Node, q Quoted, e Embeds, s Stamp, names Names, blob []byte) ([]Item, error)
}
