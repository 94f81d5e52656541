package runtime

import "encoding/json"

// Codec turns call arguments and results into bytes and back. Both sides of a
// call must use the same codec; [JSON] is the default.
type Codec interface {
	// Name identifies the codec, e.g. "json".
	Name() string
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v, a pointer.
	Unmarshal(data []byte, v any) error
}

// JSON is the default [Codec]: encoding/json. Numbers decode into the Go type
// of the generated argument struct, so int64 and uint64 survive exactly.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Name() string                       { return "json" }
func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
