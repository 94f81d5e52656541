package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Settings holds a session's settings: key → value, each value a single JSON document.
//
// Values are kept as raw JSON rather than decoded Go values so that they survive every hop
// (store, export, RPC, backend) exactly: pomelo, and any store that decodes into any, turns
// integers into float64 and loses int64/uint64 extremes and 2^53+1. Decode a value with
// [DecodeValue] or [Settings.Get]; encode one with [EncodeValue].
//
// The store keeps every value in the form encoding/json writes a [json.RawMessage]:
// compact, with <, >, &, U+2028 and U+2029 escaped inside strings. A value pushed in
// another form (with spaces, say) reads back in that form, the same JSON document; and
// what a session's settings take on the wire is known without encoding them
// ([Settings.EncodedSize]).
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

// EncodedSize returns the length of s encoded as one JSON object by encoding/json, as a
// snapshot carries it and as [WithSettingsBudget] counts it, computed from the lengths of
// its keys and values without encoding anything. Values are counted as they are: the
// store keeps them in the form encoding/json writes (see [Settings]), so for settings
// from the store the result is exact. A nil value counts as null; an empty s as {}.
func (s Settings) EncodedSize() int {
	n := 0
	for k, v := range s {
		n += entrySize(k, v)
	}
	return objectSize(n)
}

// entrySize is what key and its value add to the JSON object of a session's settings:
// the quoted key, a colon, the value, and the comma or closing brace after it.
func entrySize(key string, value json.RawMessage) int {
	if value == nil {
		return quotedLen(key) + 1 + len("null") + 1
	}
	return quotedLen(key) + 1 + len(value) + 1
}

// objectSize is the length of a JSON object whose entries' sizes (see entrySize) sum to
// entries: its opening brace and its entries, or {} when there are none.
func objectSize(entries int) int {
	if entries == 0 {
		return len("{}")
	}
	return 1 + entries
}

// quotedLen is the length of s as encoding/json writes a string: quoted, with HTML
// escaping, invalid UTF-8 replaced by \ufffd, and U+2028 and U+2029 escaped.
func quotedLen(s string) int {
	n := len(`""`)
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b == '"' || b == '\\' || b == '\b' || b == '\f' || b == '\n' || b == '\r' || b == '\t':
				n += 2
			case b < 0x20 || b == '<' || b == '>' || b == '&':
				n += len(`\u0000`)
			default:
				n++
			}
			i++
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1, c == '\u2028', c == '\u2029':
			n += len(`\ufffd`)
		default:
			n += size
		}
		i += size
	}
	return n
}

// normalValue validates raw as one JSON document and returns a private copy of it in the
// form encoding/json writes a json.RawMessage (see [Settings]), so the store never
// aliases a caller's buffer and knows what each value takes on the wire. An empty raw
// means "delete" and is returned as nil.
func normalValue(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	// Compacting never lengthens, so the buffer is allocated once, and it validates.
	buf := bytes.NewBuffer(make([]byte, 0, len(raw)))
	if err := json.Compact(buf, raw); err != nil {
		return nil, ErrInvalidValue
	}
	out := buf.Bytes()
	if bytes.ContainsAny(out, "<>&\u2028\u2029") {
		var esc bytes.Buffer
		json.HTMLEscape(&esc, out)
		out = esc.Bytes()
	}
	return out[:len(out):len(out)], nil
}
