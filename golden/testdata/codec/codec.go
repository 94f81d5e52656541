// Package codec has a service meant for another codec than JSON: it carries
// types encoding/json cannot, so it opts out of the JSON checks.
package codec

import "context"

// Point is no JSON map key, but gob takes it.
type Point struct{ X, Y int }

// Signal is processed with a binary codec.
//
//rpcgen:service dsp.signal
//rpcgen:codec gob
type Signal interface {
	// Scale multiplies every sample by z.
	Scale(ctx context.Context, z complex128, samples map[Point]complex64) (map[Point]complex64, error)
}
