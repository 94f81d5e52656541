package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Settings holds a session's settings: key → value, each value a single JSON document.
//
// Values are kept as raw JSON rather than decoded Go values so that they survive every hop
// (store, export, RPC, backend) exactly: pomelo, and any store that decodes into any, turns
// integers into float64 and loses int64/uint64 extremes and 2^53+1. Decode a value with
// [DecodeValue] or [Settings.Get]; encode one with [EncodeValue].
//
// A nil value in a Settings given to [Store.PushAll] deletes that key. That meaning does
// not survive JSON: encoding/json writes a nil value as null, which decodes as the JSON
// value null, so a transport must carry deletions some other way. Settings from the store
// ([Info.Settings]) never hold nil values.
type Settings map[string]json.RawMessage

// Clone returns a deep copy of s: the map and every value's bytes are new, so neither copy
// can see changes made through the other. A nil Settings stays nil.
func (s Settings) Clone() Settings {
	if s == nil {
		return nil
	}
	// One backing array for all values keeps a clone at two allocations however many keys
	// there are; the three-index slices stop an append to one value spilling into the next.
	n := 0
	for _, v := range s {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	out := make(Settings, len(s))
	for k, v := range s {
		if v == nil {
			out[k] = nil
			continue
		}
		start := len(buf)
		buf = append(buf, v...)
		out[k] = json.RawMessage(buf[start:len(buf):len(buf)])
	}
	return out
}

// Get decodes the value stored under key into into, as [DecodeValue] does. It reports
// false, and leaves into untouched, when key is absent.
func (s Settings) Get(key string, into any) (bool, error) {
	raw, ok := s[key]
	if !ok {
		return false, nil
	}
	if err := DecodeValue(raw, into); err != nil {
		return true, fmt.Errorf("session: setting %q: %w", key, err)
	}
	return true, nil
}

// EncodeValue encodes v as a setting value. It fails, wrapping [ErrInvalidValue], for
// values JSON cannot represent (NaN, infinities, channels, functions, cycles).
func EncodeValue(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidValue, err)
	}
	return b, nil
}

// DecodeValue decodes a setting value into into, which must be a non-nil pointer, without
// losing precision: numbers landing in an interface (into is *any, or a map or slice of
// any, or an any field) become [json.Number] holding the exact digits instead of float64.
// Typed destinations (int64, uint64, float64, structs) decode as [json.Unmarshal] would.
func DecodeValue(raw json.RawMessage, into any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data after JSON value", ErrInvalidValue)
	}
	return nil
}

// copyValue validates raw as one JSON document and returns a private copy of it, so the
// store never aliases a caller's buffer. An empty raw means "delete" and is returned as nil.
func copyValue(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if !json.Valid(raw) {
		return nil, ErrInvalidValue
	}
	return bytes.Clone(raw), nil
}
