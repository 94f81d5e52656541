// Package shop holds types of another package, for the end-to-end service to
// use in its signatures.
package shop

import "context"

// Item is a thing for sale.
type Item struct {
	SKU   string            `json:"sku"`
	Price int64             `json:"price"`
	Tags  map[string]string `json:"tags,omitempty"`
}

// Page is one page of a listing: a generic type the service instantiates.
type Page[T any] struct {
	Items []T  `json:"items"`
	Next  *int `json:"next,omitempty"`
}

// Auditor is embedded in the service interface from this other package.
type Auditor interface {
	// Audit returns the entries recorded for who.
	Audit(ctx context.Context, who string) ([]string, error)
}
