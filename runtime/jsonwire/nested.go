package jsonwire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
)

// Nested values: the structs, pointers, slices, maps and json.RawMessage
// values that fields hold, decoded and encoded the way encoding/json does,
// for the generated methods of wire structs whose field types are made of
// them and of the basic kinds.

// Null reports whether the current member's value (or element's, inside
// [Slice] and [Map]) is null, and consumes it if so. Generated code uses it
// for pointers, which null sets to nil.
func (d *Decoder) Null() bool {
	if d.err != nil || !d.pending || d.off >= len(d.data) || d.data[d.off] != 'n' {
		return false
	}
	d.value()
	d.null()
	return d.err == nil
}

// Object begins decoding the current value as an object, for a struct
// field: it reports true when the value is an object, which the caller then
// reads member by member with [Decoder.Next] (which returns false at its
// end) and [Decoder.Key], as the top-level one. A null is consumed and leaves
// the struct unchanged, as encoding/json does; any other value is an error.
func (d *Decoder) Object() bool {
	if !d.value() {
		return false
	}
	switch d.data[d.off] {
	case '{':
		if !d.enter() {
			return false
		}
		d.off++
		d.open = true
		return true
	case 'n':
		d.null()
	default:
		d.kindMismatch("struct")
	}
	return false
}

// enter counts one more open container at d.off, which encoding/json
// allows up to maxDepth.
func (d *Decoder) enter() bool {
	if d.depth+1 > maxDepth {
		d.syntaxError(d.off)
		return false
	}
	d.depth++
	return true
}

// kindMismatch records that the value at d.off cannot be decoded into a Go
// value of kind what: encoding/json reports an *json.UnmarshalTypeError
// naming the field's type; this one names the kind only.
func (d *Decoder) kindMismatch(what string) {
	d.fail(&wireError{"json: cannot unmarshal " + kindOf(d.data[d.off]) + " into Go value of kind " + what})
}

// RawMessage decodes the current value into *p as encoding/json decodes a
// json.RawMessage: the value's bytes as they are, null included, copied
// into *p's array when it has room.
func (d *Decoder) RawMessage(p *json.RawMessage) {
	if !d.value() {
		return
	}
	end, ok := skipValue(d.data, d.off, d.depth)
	if !ok {
		d.syntaxError(end)
		return
	}
	*p = append((*p)[:0], d.data[d.off:end]...)
	d.off = end
}

// Slice decodes the current value into *p as encoding/json decodes a slice:
// null sets it to nil; an array's elements are decoded in turn by elem into
// the slice's elements (into those already there, as encoding/json does,
// and into new zero ones past its capacity); an empty array leaves an empty,
// non-nil slice. elem decodes one value with d, as a field's value is
// decoded.
func Slice[S ~[]T, T any](d *Decoder, p *S, elem func(d *Decoder, p *T)) {
	if !d.value() {
		return
	}
	switch d.data[d.off] {
	case '[':
	case 'n':
		if d.literal("null") {
			*p = nil
		}
		return
	default:
		d.kindMismatch("slice")
		return
	}
	if !d.enter() {
		return
	}
	s := *p
	i := 0
	j := skipSpace(d.data, d.off+1)
	if j < len(d.data) && d.data[j] == ']' {
		j++
	} else {
		for {
			// As reflect.Value.Grow(1) and SetLen(i+1): the elements
			// between the length and the capacity are reused as they are.
			switch {
			case i >= cap(s):
				var zero T
				s = append(s, zero)
			case i >= len(s):
				s = s[:i+1]
			}
			d.off, d.pending = j, true
			elem(d, &s[i])
			if d.pending {
				d.Skip()
			}
			if d.err != nil {
				return
			}
			i++
			j = skipSpace(d.data, d.off)
			if j >= len(d.data) {
				d.syntaxError(j)
				return
			}
			if d.data[j] == ']' {
				j++
				break
			}
			if d.data[j] != ',' {
				d.syntaxError(j)
				return
			}
			j = skipSpace(d.data, j+1)
		}
	}
	d.depth--
	d.off = j
	if i < len(s) {
		s = s[:i]
	}
	if i == 0 {
		s = make(S, 0)
	}
	*p = s
}

// Map decodes the current value into *p as encoding/json decodes a map with
// string keys: null sets it to nil; an object adds its members to the map,
// made if nil, each value decoded by elem into a new zero V (not merged with
// the value already under its key).
func Map[M ~map[K]V, K ~string, V any](d *Decoder, p *M, elem func(d *Decoder, p *V)) {
	if !d.value() {
		return
	}
	switch d.data[d.off] {
	case '{':
	case 'n':
		if d.literal("null") {
			*p = nil
		}
		return
	default:
		d.kindMismatch("map")
		return
	}
	if !d.enter() {
		return
	}
	d.off++
	d.open = true
	m := *p
	if m == nil {
		m = make(M)
		*p = m
	}
	v := new(V) // one for all the values: elem's argument escapes
	var zero V
	for d.Next() {
		k := K(d.keyString())
		*v = zero
		elem(d, v)
		if d.pending {
			d.Skip()
		}
		if d.err != nil {
			return
		}
		m[k] = *v
	}
}

// keyString returns the current member's name, unescaped as encoding/json
// unescapes a map key.
func (d *Decoder) keyString() string {
	k := d.data[d.ks:d.ke]
	if d.kflags == 0 {
		return string(k)
	}
	return unquoteString(k)
}

// AppendRawMessage appends raw as json.Marshal encodes a json.RawMessage:
// null when raw is nil; otherwise raw must hold one JSON value, and it is
// appended compacted (without whitespace between tokens), with '<', '>' and
// '&' escaped as \u003c, \u003e and \u0026 and U+2028 and U+2029 as \u2028
// and \u2029, other bytes as they are. When raw is not one JSON value (empty
// included) it returns b unchanged and a *json.MarshalerError, as
// json.Marshal does.
func AppendRawMessage(b []byte, raw json.RawMessage) ([]byte, error) {
	if raw == nil {
		return append(b, "null"...), nil
	}
	end, ok := skipValue(raw, skipSpace(raw, 0), 0)
	if !ok || skipSpace(raw, end) != len(raw) {
		return b, rawMessageError(raw)
	}
	return appendCompact(b, raw), nil
}

// rawMessageError is the error json.Marshal reports for raw, which is not
// one JSON value.
func rawMessageError(raw []byte) error {
	var buf bytes.Buffer
	err := json.Compact(&buf, raw)
	if err == nil {
		// Not reached unless this package disagrees with encoding/json.
		err = &wireError{"jsonwire: invalid JSON"}
	}
	return &json.MarshalerError{Type: reflect.TypeFor[json.RawMessage](), Err: err}
}

// appendCompact appends the valid JSON value src as encoding/json's compact
// with HTML escaping writes it.
func appendCompact(dst, src []byte) []byte {
	start := 0
	inString := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inString {
			switch c {
			case '\\':
				i++ // the escaped byte is never one to change
			case '"':
				inString = false
			case '<', '>', '&':
				dst = append(dst, src[start:i]...)
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
				start = i + 1
			case 0xE2:
				if i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8 {
					dst = append(dst, src[start:i]...)
					dst = append(dst, '\\', 'u', '2', '0', '2', hex[src[i+2]&0xF])
					i += 2
					start = i + 1
				}
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case ' ', '\t', '\n', '\r':
			dst = append(dst, src[start:i]...)
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}

// AppendSlice appends s as json.Marshal encodes a slice: null when s is nil,
// else its elements, each appended by elem, in an array. On error it
// returns the error of the first element that failed.
func AppendSlice[T any](b []byte, s []T, elem func(b []byte, p *T) ([]byte, error)) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i := range s {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = elem(b, &s[i]); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// AppendMap appends m as json.Marshal encodes a map with string keys: null
// when m is nil, else an object of its entries sorted by key, each key
// escaped as [AppendString] escapes it and each value appended by elem.
func AppendMap[K ~string, V any](b []byte, m map[K]V, elem func(b []byte, p *V) ([]byte, error)) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	var arr [16]K
	keys := arr[:0]
	if len(m) > len(arr) {
		keys = make([]K, 0, len(m))
	}
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // byte-wise, as encoding/json sorts string keys
	b = append(b, '{')
	v := new(V) // one for all the values: elem's argument escapes
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, string(k))
		b = append(b, ':')
		*v = m[k]
		var err error
		if b, err = elem(b, v); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}
