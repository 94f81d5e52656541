// Package e2e is an end-to-end test of the generator and the runtime: a
// service with every parameter shape rpcgen accepts, generated, served and
// called through the in-process transport.
package e2e

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sessionrpc/sessionrpc/internal/e2e/shop"
)

// Money is an alias: rpcgen keeps it as written.
type Money = int64

// Grid is an array type.
type Grid [2][3]int8

// Inventory is a game shop's stock service.
//
//rpcgen:service game.inventory
//rpcgen:proxy PlayerInventory player
type Inventory interface {
	shop.Auditor

	// Stock returns how many of each sku the player holds.
	Stock(ctx context.Context, player string, skus ...string) (map[string]int, error)

	// Buy buys an item; cost is an alias type.
	Buy(ctx context.Context, player string, item shop.Item, cost Money) (*shop.Item, error)

	// List returns a generic page.
	List(ctx context.Context, player string, page shop.Page[shop.Item]) (shop.Page[shop.Item], error)

	// Shapes echoes parameters of every other shape; its parameter names
	// shadow imports on purpose.
	Shapes(ctx context.Context, context string, time time.Duration, grid Grid, raw json.RawMessage, anyv any, opt *float64,
		anon struct {
			X int    `json:"x"`
			Y string `json:"y,omitempty"`
		}) (Echo, error)

	// Unnamed takes parameters without names.
	Unnamed(context.Context, uint64, []byte) (uint64, error)

	// Reset is error-only; its route is renamed.
	//
	//rpcgen:method clear
	Reset(ctx context.Context, player string) error

	// Fail returns the error described.
	Fail(ctx context.Context, code uint32, msg string) error

	// Wait blocks until ctx ends and reports what it saw to the test.
	Wait(ctx context.Context) error

	// Explode panics.
	Explode(ctx context.Context) error
}

// Echo carries back what Shapes received.
type Echo struct {
	Context string
	Time    time.Duration
	Grid    Grid
	Raw     json.RawMessage
	Any     any
	Opt     *float64
	X       int
	Y       string
}
