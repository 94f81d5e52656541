// Package override renames routes with //rpcgen:method and shows how
// lowerCamel spells the others.
package override

import "context"

// Legacy keeps the route names of an older server.
//
//rpcgen:service legacy.api
type Legacy interface {
	// GetUser returns a user.
	//
	//rpcgen:method fetchUser
	GetUser(ctx context.Context, id int) (string, error)
	//rpcgen:method get_user_v1
	GetUserV1(ctx context.Context, id int) (string, error)
	// HTTPGet fetches a URL.
	HTTPGet(ctx context.Context, url string) ([]byte, error)
	// ID returns the server's id.
	ID(ctx context.Context) (string, error)
	// ListIDs returns every id.
	ListIDs(ctx context.Context) ([]string, error)
	// URLsFor returns the URLs of a key.
	URLsFor(ctx context.Context, key string) ([]string, error)
}
