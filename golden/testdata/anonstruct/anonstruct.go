// Package anonstruct sends anonymous structs, which the generated code must
// repeat field for field, tags and embedded fields included.
package anonstruct

import (
	"context"
	"time"
)

// Base is embedded in an anonymous struct.
type Base struct {
	Version int `json:"version"`
}

// Profiles edits profiles.
//
//rpcgen:service user.profiles
type Profiles interface {
	// Update changes a profile.
	Update(ctx context.Context, p struct {
		Base
		*time.Location `json:"-"`
		Name           string            `json:"name" xml:"n,attr"`
		Tags           []string          `json:"tags,omitempty"`
		Extra          map[string]string `json:"extra" quoted:"a\"b"`
	}) error
	// Summary returns a summary.
	Summary(ctx context.Context, id int) (struct {
		Name  string
		Since time.Time `json:"since"`
		Inner struct {
			N int `json:"n"`
		}
	}, error)
	// Empty takes an empty struct.
	Empty(ctx context.Context, s struct{}) error
}
