// Package generics sends instantiations of generic types.
package generics

import (
	"context"

	"github.com/sessionrpc/sessionrpc/golden/testdata/generics/internal/page"
)

// Item is listed in pages.
type Item struct {
	ID int64 `json:"id"`
}

// Box is a local generic type.
type Box[T any] struct {
	V T `json:"v"`
}

// Catalog lists items.
//
//rpcgen:service game.catalog
type Catalog interface {
	// List returns the page of items after cursor.
	List(ctx context.Context, cursor string) (page.Page[Item], error)
	// Lookup returns the items of keys.
	Lookup(ctx context.Context, keys []page.Pair[string, int64]) (map[string]Box[*Item], error)
	// Nested sends a page of pages.
	Nested(ctx context.Context, p page.Page[page.Page[Box[string]]]) error
}
