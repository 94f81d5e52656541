package jsonwire

import (
	"encoding/json"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit: at most this many arrays and
// objects may be open at once, the top-level object included.
const maxDepth = 10000

// uintptrBits is the size of a uintptr in bits.
const uintptrBits = 32 << (^uintptr(0) >> 63)

// Decoder decodes one JSON object member by member, for the DecodeJSON
// methods rpcgen generates:
//
//	d := jsonwire.NewDecoder(data)
//	for d.Next() {
//		switch string(d.Key()) {
//		case "a0":
//			d.String(&a.A0)
//		case "a1":
//			d.Value(&a.A1)
//		default:
//			d.Skip()
//		}
//	}
//	return d.Err()
//
// After each successful [Decoder.Next] exactly one of the value methods
// (Skip, Value, String, Bool, Int…, Uint…, Float…) decodes the member's value;
// if none does, the next call to Next skips it. The Decoder checks the syntax
// of everything it reads, skipped values and the bytes after the object
// included, so a loop that runs to its end has checked the whole input, as
// json.Unmarshal does before it decodes anything.
//
// The first error stops decoding: every method after it does nothing, and
// [Decoder.Err] returns it. The fields already stored are then not
// meaningful, which does not matter as the caller rejects the input.
//
// A Decoder is meant to live in a local variable; it does not escape to the
// heap, and decoding the fast types allocates nothing but the strings it
// stores.
type Decoder struct {
	data    []byte
	off     int // read position in data
	err     error
	state   uint8
	pending bool  // the current member's value has not been consumed
	kflags  uint8 // scanString's flags for the current member's name
	ks, ke  int   // the current member's name, without its quotes
	// depth is the number of objects and arrays open at d.off: 1 inside
	// the top-level object. open is set when an object was just entered
	// (see [Decoder.Object]) and no member of it read yet.
	depth  int
	open   bool
	keyBuf [32]byte
}

const (
	stateStart  = iota // nothing read yet
	stateMember        // inside the object; a member has been read
	stateDone          // the input has been read completely
)

// NewDecoder returns a Decoder for data, which must hold one JSON object (or
// null, which has no members) and nothing else but whitespace. The Decoder
// reads data in place; data must not change while it is in use.
func NewDecoder(data []byte) Decoder {
	return Decoder{data: data}
}

// Err returns the first error met, or nil. If the loop over [Decoder.Next]
// stopped before Next returned false, Err first reads, and checks, the rest
// of the input, so that a nil error always means json.Unmarshal would have
// succeeded too.
func (d *Decoder) Err() error {
	for d.err == nil && d.state != stateDone {
		d.Next()
	}
	return d.err
}

// Next advances to the next member of the top-level object and reports
// whether there is one. It returns false at the end of the object, after
// which it has checked that only whitespace follows, and on error. If the
// previous member's value has not been decoded, Next skips it. A top-level
// null has no members and is not an error, as json.Unmarshal leaves a struct
// alone for null; any other top-level value but an object is an error.
func (d *Decoder) Next() bool {
	if d.err != nil {
		return false
	}
	switch d.state {
	case stateStart:
		i := skipSpace(d.data, 0)
		if i >= len(d.data) {
			d.syntaxError(i)
			return false
		}
		switch d.data[i] {
		case '{':
			d.depth = 1
			i = skipSpace(d.data, i+1)
			if i < len(d.data) && d.data[i] == '}' {
				d.finish(i + 1)
				return false
			}
			d.state = stateMember
			return d.member(i)
		case 'n':
			end, ok := literal(d.data, i, "null")
			if !ok {
				d.syntaxError(end)
				return false
			}
			d.finish(end)
			return false
		default:
			// json.Unmarshal reports a syntax error anywhere before
			// a type error.
			end, ok := skipValue(d.data, i, 0)
			if ok {
				end = skipSpace(d.data, end)
				ok = end == len(d.data)
			}
			if !ok {
				d.syntaxError(end)
				return false
			}
			d.err = &wireError{"json: cannot unmarshal " + kindOf(d.data[i]) + " into Go struct value"}
			return false
		}
	case stateMember:
		if d.pending {
			d.Skip()
			if d.err != nil {
				return false
			}
		}
		i := skipSpace(d.data, d.off)
		if i >= len(d.data) {
			d.syntaxError(i)
			return false
		}
		if d.open {
			d.open = false
			if d.data[i] == '}' {
				d.close(i + 1)
				return false
			}
			return d.member(i)
		}
		switch d.data[i] {
		case ',':
			return d.member(skipSpace(d.data, i+1))
		case '}':
			d.close(i + 1)
			return false
		}
		d.syntaxError(i)
		return false
	}
	return false
}

// close ends the object whose closing brace ends at data[i-1]: a nested
// one, whose parent's loop then goes on, or the top-level one.
func (d *Decoder) close(i int) {
	if d.depth > 1 {
		d.depth--
		d.off = i
		d.pending = false
		return
	}
	d.finish(i)
}

// member reads a member's name and the colon after it, from data[i], and
// leaves d.off at the start of its value.
func (d *Decoder) member(i int) bool {
	if i >= len(d.data) || d.data[i] != '"' {
		d.syntaxError(i)
		return false
	}
	end, flags, ok := scanString(d.data, i)
	if !ok {
		d.syntaxError(end)
		return false
	}
	d.ks, d.ke, d.kflags = i+1, end-1, flags
	i = skipSpace(d.data, end)
	if i >= len(d.data) || d.data[i] != ':' {
		d.syntaxError(i)
		return false
	}
	d.off = skipSpace(d.data, i+1)
	d.pending = true
	return true
}

// finish checks that only whitespace follows data[i:].
func (d *Decoder) finish(i int) {
	i = skipSpace(d.data, i)
	if i != len(d.data) {
		d.syntaxError(i)
		return
	}
	d.off = i
	d.state = stateDone
	d.pending = false
}

// Key returns the name of the current member, unescaped and folded, and nil
// after an error or once Next has returned false. Folding turns the ASCII
// letters A to Z into a to z, the KELVIN SIGN U+212A into k and the LONG S
// U+017F into s. The result is valid until the next call to Next and must
// not be modified; it may share memory with the input.
//
// encoding/json matches member names to fields case-insensitively, folding
// with Unicode simple case folding. For a field whose JSON name is made of
// ASCII letters, digits and ASCII punctuation, the names that fold to it
// are exactly those whose Key is the name in lower case: U+212A and U+017F
// are the only runes outside ASCII whose folds reach an ASCII letter. So a
// switch on Key with lower-case ASCII names selects exactly the field
// encoding/json selects, as long as no two of the names are the same in
// lower case (encoding/json prefers an exact match then).
func (d *Decoder) Key() []byte {
	if d.err != nil || d.state != stateMember || !d.pending {
		return nil
	}
	k := d.data[d.ks:d.ke]
	if d.kflags == 0 {
		i := 0
		for i < len(k) && (k[i] < 'A' || k[i] > 'Z') {
			i++
		}
		if i == len(k) {
			return k
		}
		b := append(d.keyBuf[:0], k...)
		lowerASCII(b[i:])
		return b
	}
	return foldKey(appendUnquoted(d.keyBuf[:0], k))
}

func lowerASCII(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
}

// foldKey lowers the ASCII letters of the unquoted name b and turns U+212A
// and U+017F into k and s, in place (both are longer in UTF-8 than their
// folds).
func foldKey(b []byte) []byte {
	w := 0
	for r := 0; r < len(b); {
		c := b[r]
		switch {
		case 'A' <= c && c <= 'Z':
			b[w] = c + ('a' - 'A')
		case c < utf8.RuneSelf:
			b[w] = c
		default:
			rr, size := utf8.DecodeRune(b[r:])
			switch rr {
			case '\u212a':
				b[w] = 'k'
			case '\u017f':
				b[w] = 's'
			default:
				w += copy(b[w:], b[r:r+size])
				r += size
				continue
			}
			r += size
			w++
			continue
		}
		r++
		w++
	}
	return b[:w]
}

// value begins decoding the current member's value, which starts at d.off.
// It reports false after an error, which it records when there is no value
// to decode.
func (d *Decoder) value() bool {
	if d.err != nil {
		return false
	}
	if !d.pending {
		d.err = errNoValue
		return false
	}
	d.pending = false
	if d.off >= len(d.data) {
		d.syntaxError(d.off)
		return false
	}
	return true
}

// Skip skips the current member's value, checking its syntax.
func (d *Decoder) Skip() {
	if !d.value() {
		return
	}
	end, ok := skipValue(d.data, d.off, d.depth)
	if !ok {
		d.syntaxError(end)
		return
	}
	d.off = end
}

// Value decodes the current member's value into p, a pointer to the field,
// with json.Unmarshal. It is the fallback for fields of every type the other
// methods do not cover. For a member that occurs more than once Value is
// called once per occurrence, and json.Unmarshal merges each occurrence into
// what the previous left (maps gain entries, structs keep fields the later
// object does not name), exactly as encoding/json treats duplicate members.
//
// Value passes p's UnmarshalJSON method, if any, the value's bytes even
// though the rest of the input has not been checked yet; json.Unmarshal
// would not have called it if the input has a syntax error further on.
func (d *Decoder) Value(p any) {
	if !d.value() {
		return
	}
	end, ok := skipValue(d.data, d.off, d.depth)
	if !ok {
		d.syntaxError(end)
		return
	}
	if err := json.Unmarshal(d.data[d.off:end], p); err != nil {
		d.fail(err)
		return
	}
	d.off = end
}

// String decodes a JSON string into *p. A null leaves *p unchanged; any
// other value is an error. Escapes are decoded and invalid UTF-8 and lone
// surrogates become U+FFFD, as json.Unmarshal does.
func (d *Decoder) String(p *string) {
	if !d.value() {
		return
	}
	switch d.data[d.off] {
	case '"':
		end, flags, ok := scanString(d.data, d.off)
		if !ok {
			d.syntaxError(end)
			return
		}
		body := d.data[d.off+1 : end-1]
		if flags&strEscape == 0 && (flags&strNonASCII == 0 || utf8.Valid(body)) {
			*p = string(body)
		} else {
			*p = unquoteString(body)
		}
		d.off = end
	case 'n':
		d.null()
	default:
		d.mismatch(reflect.TypeFor[string]())
	}
}

// Bool decodes true or false into *p. A null leaves *p unchanged; any other
// value is an error.
func (d *Decoder) Bool(p *bool) {
	if !d.value() {
		return
	}
	switch d.data[d.off] {
	case 't':
		if d.literal("true") {
			*p = true
		}
	case 'f':
		if d.literal("false") {
			*p = false
		}
	case 'n':
		d.null()
	default:
		d.mismatch(reflect.TypeFor[bool]())
	}
}

// Int decodes an integer into *p. A null leaves *p unchanged. A number with
// a fraction or an exponent (even 1.0 or 1e2), a number out of the range of
// *p and any value but a number or null are errors.
func (d *Decoder) Int(p *int) {
	if n, ok := d.int(strconv.IntSize, reflect.TypeFor[int]); ok {
		*p = int(n)
	}
}

// Int8 is [Decoder.Int] for an int8.
func (d *Decoder) Int8(p *int8) {
	if n, ok := d.int(8, reflect.TypeFor[int8]); ok {
		*p = int8(n)
	}
}

// Int16 is [Decoder.Int] for an int16.
func (d *Decoder) Int16(p *int16) {
	if n, ok := d.int(16, reflect.TypeFor[int16]); ok {
		*p = int16(n)
	}
}

// Int32 is [Decoder.Int] for an int32.
func (d *Decoder) Int32(p *int32) {
	if n, ok := d.int(32, reflect.TypeFor[int32]); ok {
		*p = int32(n)
	}
}

// Int64 is [Decoder.Int] for an int64.
func (d *Decoder) Int64(p *int64) {
	if n, ok := d.int(64, reflect.TypeFor[int64]); ok {
		*p = n
	}
}

// Uint decodes an unsigned integer into *p. A null leaves *p unchanged. A
// minus sign (even in -0), a fraction or an exponent, a number out of the
// range of *p and any value but a number or null are errors.
func (d *Decoder) Uint(p *uint) {
	if n, ok := d.uint(strconv.IntSize, reflect.TypeFor[uint]); ok {
		*p = uint(n)
	}
}

// Uint8 is [Decoder.Uint] for a uint8.
func (d *Decoder) Uint8(p *uint8) {
	if n, ok := d.uint(8, reflect.TypeFor[uint8]); ok {
		*p = uint8(n)
	}
}

// Uint16 is [Decoder.Uint] for a uint16.
func (d *Decoder) Uint16(p *uint16) {
	if n, ok := d.uint(16, reflect.TypeFor[uint16]); ok {
		*p = uint16(n)
	}
}

// Uint32 is [Decoder.Uint] for a uint32.
func (d *Decoder) Uint32(p *uint32) {
	if n, ok := d.uint(32, reflect.TypeFor[uint32]); ok {
		*p = uint32(n)
	}
}

// Uint64 is [Decoder.Uint] for a uint64.
func (d *Decoder) Uint64(p *uint64) {
	if n, ok := d.uint(64, reflect.TypeFor[uint64]); ok {
		*p = n
	}
}

// Uintptr is [Decoder.Uint] for a uintptr.
func (d *Decoder) Uintptr(p *uintptr) {
	if n, ok := d.uint(uintptrBits, reflect.TypeFor[uintptr]); ok {
		*p = uintptr(n)
	}
}

// Float64 decodes a number into *p, rounding it to the nearest float64. A
// null leaves *p unchanged. A number beyond the range of a float64 and any
// value but a number or null are errors; a number too small to represent
// becomes zero.
func (d *Decoder) Float64(p *float64) {
	if f, ok := d.float(64, reflect.TypeFor[float64]); ok {
		*p = f
	}
}

// Float32 is [Decoder.Float64] for a float32: the number is rounded to the
// nearest float32 directly, and is an error beyond the range of a float32.
func (d *Decoder) Float32(p *float32) {
	if f, ok := d.float(32, reflect.TypeFor[float32]); ok {
		*p = float32(f)
	}
}

// int decodes an integer that fits in bits bits. It reports false for null
// and after an error. typ names the field's type for error messages; it is a
// function so that the happy path does not compute it.
func (d *Decoder) int(bits int, typ func() reflect.Type) (int64, bool) {
	if !d.value() {
		return 0, false
	}
	start := d.off
	c := d.data[start]
	if c == 'n' {
		d.null()
		return 0, false
	}
	if c != '-' && (c < '0' || c > '9') {
		d.mismatch(typ())
		return 0, false
	}
	end, isInt, ok := scanNumber(d.data, start)
	if !ok {
		d.syntaxError(end)
		return 0, false
	}
	neg := c == '-'
	digits := d.data[start:end]
	limit := uint64(1)<<(bits-1) - 1
	if neg {
		digits = digits[1:]
		limit++
	}
	var n uint64
	if isInt {
		n, ok = parseDigits(digits)
	}
	if !isInt || !ok || n > limit {
		d.numberError(start, end, typ())
		return 0, false
	}
	d.off = end
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

// uint decodes an unsigned integer that fits in bits bits. It reports false
// for null and after an error.
func (d *Decoder) uint(bits int, typ func() reflect.Type) (uint64, bool) {
	if !d.value() {
		return 0, false
	}
	start := d.off
	c := d.data[start]
	if c == 'n' {
		d.null()
		return 0, false
	}
	if c != '-' && (c < '0' || c > '9') {
		d.mismatch(typ())
		return 0, false
	}
	end, isInt, ok := scanNumber(d.data, start)
	if !ok {
		d.syntaxError(end)
		return 0, false
	}
	var n uint64
	if c != '-' && isInt {
		n, ok = parseDigits(d.data[start:end])
	}
	if c == '-' || !isInt || !ok || bits < 64 && n >= 1<<bits {
		d.numberError(start, end, typ())
		return 0, false
	}
	d.off = end
	return n, true
}

// float decodes a number as strconv.ParseFloat does with bit size bits. It
// reports false for null and after an error.
func (d *Decoder) float(bits int, typ func() reflect.Type) (float64, bool) {
	if !d.value() {
		return 0, false
	}
	start := d.off
	c := d.data[start]
	if c == 'n' {
		d.null()
		return 0, false
	}
	if c != '-' && (c < '0' || c > '9') {
		d.mismatch(typ())
		return 0, false
	}
	end, _, ok := scanNumber(d.data, start)
	if !ok {
		d.syntaxError(end)
		return 0, false
	}
	// The conversion does not allocate for numbers of up to 32 bytes:
	// ParseFloat does not keep its argument.
	f, err := strconv.ParseFloat(string(d.data[start:end]), bits)
	if err != nil {
		d.numberError(start, end, typ())
		return 0, false
	}
	d.off = end
	return f, true
}

// parseDigits parses a run of decimal digits; it reports false when the
// value does not fit in a uint64.
func parseDigits(b []byte) (uint64, bool) {
	var n uint64
	for _, c := range b {
		dig := uint64(c - '0')
		if n > (1<<64-1-dig)/10 {
			return 0, false
		}
		n = n*10 + dig
	}
	return n, true
}

// null consumes a null at d.off, leaving the field unchanged.
func (d *Decoder) null() {
	d.literal("null")
}

// literal consumes lit at d.off and reports whether it was there.
func (d *Decoder) literal(lit string) bool {
	end, ok := literal(d.data, d.off, lit)
	if !ok {
		d.syntaxError(end)
		return false
	}
	d.off = end
	return true
}

// mismatch records that the value at d.off cannot be decoded into a t.
func (d *Decoder) mismatch(t reflect.Type) {
	d.fail(&json.UnmarshalTypeError{Value: kindOf(d.data[d.off]), Type: t, Offset: int64(d.off)})
}

// numberError records that the number data[start:end] does not fit a t.
func (d *Decoder) numberError(start, end int, t reflect.Type) {
	d.fail(&json.UnmarshalTypeError{Value: "number " + string(d.data[start:end]), Type: t, Offset: int64(end)})
}

// fail records err, unless the input has a syntax error, which
// json.Unmarshal reports before any other error.
func (d *Decoder) fail(err error) {
	if !json.Valid(d.data) {
		d.syntaxError(d.off)
		return
	}
	d.err = err
}

// syntaxError records a syntax error found at data[off]. The error is the
// one json.Unmarshal reports for the input, so that its text and offset
// match encoding/json's.
func (d *Decoder) syntaxError(off int) {
	var raw json.RawMessage
	if err := json.Unmarshal(d.data, &raw); err != nil {
		d.err = err
		return
	}
	// Not reached unless this package disagrees with encoding/json.
	d.err = &wireError{"jsonwire: invalid JSON at offset " + strconv.Itoa(off)}
}

// kindOf describes the JSON value that begins with c as encoding/json's
// type errors do.
func kindOf(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// wireError is an error of this package's own.
type wireError struct{ msg string }

func (e *wireError) Error() string { return e.msg }

var errNoValue = &wireError{"jsonwire: no member value to decode (Decoder.Next not called or value already decoded)"}
