package reject_misspelled

import "context"

// S spells its directive as a plain comment, which rpcgen would miss.
//
// rpcgen:service t.s
type S interface {
	Ping(ctx context.Context) error
}
