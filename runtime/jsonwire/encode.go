package jsonwire

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// Marshaler is implemented by generated wire structs. AppendJSON appends the
// JSON encoding of the struct to b and returns the extended buffer; the bytes
// appended are exactly those of json.Marshal applied to the struct's address.
type Marshaler interface {
	AppendJSON(b []byte) ([]byte, error)
}

// Unmarshaler is implemented by generated wire structs. DecodeJSON decodes
// data into the struct exactly as json.Unmarshal(data, s) would, and fails
// exactly when json.Unmarshal would.
type Unmarshaler interface {
	DecodeJSON(data []byte) error
}

const hex = "0123456789abcdef"

// htmlSafe reports, for each ASCII byte, whether encoding/json writes it as
// is when escaping HTML (json.Marshal always does): every byte but the
// control characters, '"', '\\', '<', '>' and '&'.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	t['"'] = false
	t['\\'] = false
	t['<'] = false
	t['>'] = false
	t['&'] = false
	return t
}()

// AppendString appends s as a JSON string, escaped exactly as json.Marshal
// escapes a string: '"' and '\\' with a backslash; \b, \f, \n, \r and \t in
// their short forms; the other control characters and '<', '>' and '&' as
// \u00xx; U+2028 and U+2029 as \u2028 and \u2029; and each byte that is not
// part of valid UTF-8 as \ufffd.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendBool appends true or false.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// AppendInt appends v in decimal, as json.Marshal encodes signed integers.
func AppendInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](b []byte, v T) []byte {
	return strconv.AppendInt(b, int64(v), 10)
}

// AppendUint appends v in decimal, as json.Marshal encodes unsigned integers.
func AppendUint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](b []byte, v T) []byte {
	return strconv.AppendUint(b, uint64(v), 10)
}

// AppendFloat64 appends f as json.Marshal encodes a float64: the shortest
// decimal that reads back as f, in exponent form (with e-7 rather than
// e-07) when |f| < 1e-6 or |f| >= 1e21 and in plain form otherwise. NaN and
// the infinities have no JSON encoding; for them AppendFloat64 returns b
// unchanged and a *json.UnsupportedValueError, as json.Marshal does.
func AppendFloat64(b []byte, f float64) ([]byte, error) {
	return appendFloat(b, f, 64)
}

// AppendFloat32 is [AppendFloat64] for a float32: the shortest decimal that
// reads back as f when parsed as a float32, with the cut-offs compared in
// float32 as json.Marshal does.
func AppendFloat32(b []byte, f float32) ([]byte, error) {
	return appendFloat(b, float64(f), 32)
}

// appendFloat is encoding/json's floatEncoder.
func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		var v reflect.Value
		if bits == 32 {
			v = reflect.ValueOf(float32(f))
		} else {
			v = reflect.ValueOf(f)
		}
		return b, &json.UnsupportedValueError{Value: v, Str: strconv.FormatFloat(f, 'g', -1, bits)}
	}
	abs := math.Abs(f)
	format := byte('f')
	// The float32 cut-offs are compared in float32, as encoding/json does.
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// Clean up e-09 to e-9.
		n := len(b)
		if n-start >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// AppendValue appends the JSON encoding of v, as produced by json.Marshal(v).
// It is the fallback for fields of every type the other Append functions do
// not cover. Generated code passes the field's address, so that a
// MarshalJSON or MarshalText method with a pointer receiver is used, as
// json.Marshal(&s) uses it for a field of s. On error b is returned
// unchanged.
func AppendValue(b []byte, v any) ([]byte, error) {
	enc, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, enc...), nil
}
