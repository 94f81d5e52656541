// Package unnamed has methods with unnamed and blank parameters.
package unnamed

import "context"

// Store is a key-value store.
//
//rpcgen:service data.store
type Store interface {
	// Set stores a value under a key.
	Set(context.Context, string, []byte) error
	// Get returns the value of a key.
	Get(context.Context, string) ([]byte, error)
	// Touch ignores its second parameter.
	Touch(ctx context.Context, key string, _ int) error
}
