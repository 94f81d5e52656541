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

// An AppendCodec is a [Codec] that can also encode onto the end of a buffer,
// which lets [Client] reuse its buffers from call to call. [JSON] is one.
type AppendCodec interface {
	Codec
	// MarshalAppend appends the encoding of v to b and returns the result.
	MarshalAppend(b []byte, v any) ([]byte, error)
}

// JSON is the default [Codec]: the JSON of encoding/json. Numbers decode into
// the Go type of the generated argument struct, so int64 and uint64 survive
// exactly. The argument and result structs rpcgen generates encode and
// decode themselves, through package
// github.com/sessionrpc/sessionrpc/runtime/jsonwire, to the same bytes and
// with the same errors as encoding/json, without its reflection; other values
// go through encoding/json.
var JSON AppendCodec = jsonCodec{}

type jsonCodec struct{}

// jsonMarshaler and jsonUnmarshaler are the methods rpcgen generates on wire
// structs (jsonwire.Marshaler and jsonwire.Unmarshaler).
type (
	jsonMarshaler interface {
		AppendJSON(b []byte) ([]byte, error)
	}
	jsonUnmarshaler interface{ DecodeJSON(data []byte) error }
)

func (jsonCodec) Name() string { return "json" }

func (jsonCodec) Marshal(v any) ([]byte, error) {
	if m, ok := v.(jsonMarshaler); ok {
		return m.AppendJSON(make([]byte, 0, 64))
	}
	return json.Marshal(v)
}

func (jsonCodec) MarshalAppend(b []byte, v any) ([]byte, error) {
	if m, ok := v.(jsonMarshaler); ok {
		return m.AppendJSON(b)
	}
	out, err := json.Marshal(v)
	return append(b, out...), err
}

func (jsonCodec) Unmarshal(data []byte, v any) error {
	if u, ok := v.(jsonUnmarshaler); ok {
		return u.DecodeJSON(data)
	}
	return json.Unmarshal(data, v)
}
