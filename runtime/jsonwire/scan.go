package jsonwire

import (
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The functions here check JSON syntax as encoding/json's scanner does. Each
// takes the input and an offset and returns the offset just past what it
// read, or false and the offset of the first byte that is wrong (len(data)
// if the input ends too early).

// skipSpace returns the offset of the first byte at or after i that is not
// JSON whitespace: space, tab, line feed or carriage return.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// literal reads lit (true, false or null) at data[i].
func literal(data []byte, i int, lit string) (int, bool) {
	for j := 0; j < len(lit); j++ {
		if i+j >= len(data) || data[i+j] != lit[j] {
			return i + j, false
		}
	}
	return i + len(lit), true
}

// scanNumber reads a number at data[i] and reports whether it is an
// integer, without fraction or exponent. JSON numbers are
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; what follows is checked by
// the caller, so 01 reads as 0 followed by an unexpected 1.
func scanNumber(data []byte, i int) (end int, isInt, ok bool) {
	n := len(data)
	if i < n && data[i] == '-' {
		i++
	}
	if i >= n {
		return i, false, false
	}
	switch c := data[i]; {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		i++
		for i < n && isDigit(data[i]) {
			i++
		}
	default:
		return i, false, false
	}
	isInt = true
	if i < n && data[i] == '.' {
		isInt = false
		i++
		if i >= n || !isDigit(data[i]) {
			return i, false, false
		}
		for i < n && isDigit(data[i]) {
			i++
		}
	}
	if i < n && (data[i] == 'e' || data[i] == 'E') {
		isInt = false
		i++
		if i < n && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= n || !isDigit(data[i]) {
			return i, false, false
		}
		for i < n && isDigit(data[i]) {
			i++
		}
	}
	return i, isInt, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Flags scanString reports about a string.
const (
	strEscape   = 1 << iota // has a backslash escape
	strNonASCII             // has a byte >= 0x80, which may be invalid UTF-8
)

// strPlain holds the bytes that stand for themselves in a JSON string and
// need no further look: printable ASCII but '"' and '\\'.
var strPlain = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	t['"'] = false
	t['\\'] = false
	return t
}()

// scanString reads a string whose opening quote is at data[i]. It rejects
// control characters and escapes other than \" \\ \/ \b \f \n \r \t and
// \uXXXX, and, as encoding/json, accepts any byte >= 0x80.
func scanString(data []byte, i int) (end int, flags uint8, ok bool) {
	n := len(data)
	i++
	for i < n {
		c := data[i]
		if strPlain[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			return i + 1, flags, true
		case c == '\\':
			flags |= strEscape
			i++
			if i >= n {
				return i, flags, false
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				i++
				for j := 0; j < 4; j++ {
					if i >= n || !isHex(data[i]) {
						return i, flags, false
					}
					i++
				}
			default:
				return i, flags, false
			}
		case c < ' ':
			return i, flags, false
		default:
			flags |= strNonASCII
			i++
		}
	}
	return i, flags, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// skipValue reads the value at data[i], which lies inside depth open arrays
// and objects.
func skipValue(data []byte, i, depth int) (int, bool) {
	if i >= len(data) {
		return i, false
	}
	switch data[i] {
	case '"':
		end, _, ok := scanString(data, i)
		return end, ok
	case '{', '[':
		return skipContainer(data, i, depth)
	case 't':
		return literal(data, i, "true")
	case 'f':
		return literal(data, i, "false")
	case 'n':
		return literal(data, i, "null")
	}
	end, _, ok := scanNumber(data, i)
	return end, ok
}

// skipContainer reads the array or object at data[i], which lies inside
// depth open arrays and objects. No more than maxDepth may be open at once.
// It does not recurse and does not allocate: one bit per open container
// records whether it is an object.
func skipContainer(data []byte, i, depth int) (int, bool) {
	var stack [maxDepth/64 + 1]uint64
	base := depth
	n := len(data)
	ok := false
	value := true // data[i] should begin a value
	for {
		if value {
			if i >= n {
				return i, false
			}
			switch c := data[i]; c {
			case '{', '[':
				depth++
				if depth > maxDepth {
					return i, false
				}
				lvl := depth - base - 1
				bit := uint64(1) << (lvl & 63)
				i = skipSpace(data, i+1)
				if c == '{' {
					stack[lvl>>6] |= bit
					if i < n && data[i] == '}' {
						i++
						depth--
						value = false
						break
					}
					if i, ok = objectKey(data, i); !ok {
						return i, false
					}
				} else {
					stack[lvl>>6] &^= bit
					if i < n && data[i] == ']' {
						i++
						depth--
						value = false
						break
					}
				}
				continue
			default:
				if i, ok = skipValue(data, i, depth); !ok {
					return i, false
				}
				value = false
			}
		}
		// A value ends at data[i].
		if depth == base {
			return i, true
		}
		i = skipSpace(data, i)
		if i >= n {
			return i, false
		}
		lvl := depth - base - 1
		isObject := stack[lvl>>6]&(1<<(lvl&63)) != 0
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
			if isObject {
				if i, ok = objectKey(data, i); !ok {
					return i, false
				}
			}
			value = true
		case '}':
			if !isObject {
				return i, false
			}
			i++
			depth--
		case ']':
			if isObject {
				return i, false
			}
			i++
			depth--
		default:
			return i, false
		}
	}
}

// objectKey reads a member name at data[i], the colon after it and the
// whitespace around the colon.
func objectKey(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '"' {
		return i, false
	}
	i, _, ok := scanString(data, i)
	if !ok {
		return i, false
	}
	i = skipSpace(data, i)
	if i >= len(data) || data[i] != ':' {
		return i, false
	}
	return skipSpace(data, i+1), true
}

// unquoteString returns the string that the body s of a JSON string (checked
// by scanString, quotes removed) stands for.
func unquoteString(s []byte) string {
	var buf [64]byte
	return string(appendUnquoted(buf[:0], s))
}

// appendUnquoted appends the string the body s of a JSON string stands for,
// decoding it exactly as encoding/json does: a \u escape of a surrogate that
// does not begin a valid pair with a \u escape right after it becomes
// U+FFFD (and the escape after it is read on its own), and each byte that is
// not part of valid UTF-8 becomes U+FFFD. s must have passed scanString.
func appendUnquoted(dst, s []byte) []byte {
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch s[r+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				rr := getu4(s[r:])
				r += 6
				if utf16.IsSurrogate(rr) {
					rr1 := getu4(s[r:])
					if dec := utf16.DecodeRune(rr, rr1); dec != unicode.ReplacementChar {
						r += 6
						dst = utf8.AppendRune(dst, dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				dst = utf8.AppendRune(dst, rr)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, s[r+1])
			}
			r += 2
		case c < utf8.RuneSelf:
			start := r
			for r < len(s) && s[r] < utf8.RuneSelf && s[r] != '\\' {
				r++
			}
			dst = append(dst, s[start:r]...)
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			dst = utf8.AppendRune(dst, rr)
		}
	}
	return dst
}

// getu4 decodes the \uXXXX escape at the start of s, or returns -1 if s does
// not start with one.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
