package gen

import (
	"cmp"
	"fmt"
	"go/token"
	"go/types"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/tools/go/types/typeutil"
)

// checkWire says why values of type t cannot travel as an argument or a
// result, or returns "". With the JSON codec (json true) it follows
// encoding/json's rules all the way down, through the fields of structs
// wherever they are declared, as values travel both ways: the caller encodes
// arguments and decodes the result, the server the other way round. With
// another codec, whose rules rpcgen does not know, it rejects only what no
// codec carries: channels, functions and unsafe pointers in the type as
// written.
func checkWire(t types.Type, qual types.Qualifier, json bool) string {
	var p *problem
	if json {
		c := &jsonCheck{qual: qual}
		p = c.value(t, encodes|decodes, true)
	} else {
		p = anyCodec(t)
	}
	if p == nil {
		return ""
	}
	return p.message(qual)
}

// A problem is why a type cannot travel.
type problem struct {
	path []string   // the fields that lead to at, outermost first: "field Grid.Cells"
	at   types.Type // the type, as written, of the value path leads to
	bad  types.Type // what in at cannot travel: at itself, or a type it is made of
	why  string
	// whole says that why names bad itself ("map key Point is not ..."),
	// so that the message need not.
	whole bool
}

func (p *problem) message(qual types.Qualifier) string {
	var b strings.Builder
	for _, step := range p.path {
		b.WriteString(step + ": ")
	}
	switch {
	case p.bad != p.at:
		fmt.Fprintf(&b, "%s contains %s: %s", types.TypeString(p.at, qual), types.TypeString(p.bad, qual), p.why)
	case p.whole:
		b.WriteString(p.why)
	default:
		fmt.Fprintf(&b, "%s: %s", types.TypeString(p.at, qual), p.why)
	}
	return b.String()
}

// elemProblem returns p, a problem of elem, as a problem of outer, the type
// made of elem (a pointer, slice, array or map type): when p is in elem's
// own type expression rather than behind a field, the message shows outer.
func elemProblem(p *problem, outer, elem types.Type) *problem {
	if p != nil && len(p.path) == 0 && p.at == elem {
		p.at = outer
	}
	return p
}

// anyCodec returns what in t, as written, no codec can carry.
func anyCodec(t types.Type) *problem {
	switch u := types.Unalias(t).(type) {
	case *types.Basic:
		if u.Kind() == types.UnsafePointer {
			return &problem{at: t, bad: t, why: "unsafe pointers cannot be sent"}
		}
	case *types.Chan:
		return &problem{at: t, bad: t, why: "channels cannot be sent"}
	case *types.Signature:
		return &problem{at: t, bad: t, why: "functions cannot be sent"}
	case *types.Pointer:
		return elemProblem(anyCodec(u.Elem()), t, u.Elem())
	case *types.Slice:
		return elemProblem(anyCodec(u.Elem()), t, u.Elem())
	case *types.Array:
		return elemProblem(anyCodec(u.Elem()), t, u.Elem())
	case *types.Map:
		if p := anyCodec(u.Key()); p != nil {
			return elemProblem(p, t, u.Key())
		}
		return elemProblem(anyCodec(u.Elem()), t, u.Elem())
	case *types.Struct:
		for i := range u.NumFields() {
			if p := anyCodec(u.Field(i).Type()); p != nil {
				return elemProblem(p, t, u.Field(i).Type())
			}
		}
	case *types.Named:
		switch under := u.Underlying().(type) {
		case *types.Chan:
			return &problem{at: t, bad: t, why: "it is a channel type; channels cannot be sent"}
		case *types.Signature:
			return &problem{at: t, bad: t, why: "it is a function type; functions cannot be sent"}
		case *types.Basic:
			if under.Kind() == types.UnsafePointer {
				return &problem{at: t, bad: t, why: "it is an unsafe pointer type; unsafe pointers cannot be sent"}
			}
		}
		for i := range u.TypeArgs().Len() {
			if p := anyCodec(u.TypeArgs().At(i)); p != nil {
				return elemProblem(p, t, u.TypeArgs().At(i))
			}
		}
	}
	return nil
}

// A dir is the directions in which a value travels through encoding/json.
type dir uint8

const (
	encodes dir = 1 << iota
	decodes
)

// The interfaces through which encoding/json lets a type marshal itself.
var (
	jsonMarshaler   = methodIface("MarshalJSON", nil, []types.Type{byteSlice, errorType})
	textMarshaler   = methodIface("MarshalText", nil, []types.Type{byteSlice, errorType})
	jsonUnmarshaler = methodIface("UnmarshalJSON", []types.Type{byteSlice}, []types.Type{errorType})
	textUnmarshaler = methodIface("UnmarshalText", []types.Type{byteSlice}, []types.Type{errorType})
)

var (
	byteSlice = types.NewSlice(types.Typ[types.Byte])
	errorType = types.Universe.Lookup("error").Type()
)

// methodIface returns interface{ name(params) results }.
func methodIface(name string, params, results []types.Type) *types.Interface {
	tuple := func(ts []types.Type) *types.Tuple {
		vars := make([]*types.Var, len(ts))
		for i, t := range ts {
			vars[i] = types.NewParam(token.NoPos, nil, "", t)
		}
		return types.NewTuple(vars...)
	}
	sig := types.NewSignatureType(nil, nil, nil, tuple(params), tuple(results), false)
	return types.NewInterfaceType([]*types.Func{types.NewFunc(token.NoPos, nil, name, sig)}, nil).Complete()
}

// A jsonCheck checks types against encoding/json's rules. It remembers the
// named types it has looked into, which ends the walk of a recursive type.
type jsonCheck struct {
	qual types.Qualifier
	seen typeutil.Map // *types.Named → seenBits of the ways it was checked
}

// seenBits are the ways a type is checked: the directions, and whether an
// encoded value is addressable, which decides whether encoding/json calls a
// MarshalJSON method with a pointer receiver.
func seenBits(d dir, addr bool) uint8 {
	var bits uint8
	if d&encodes != 0 {
		bits |= 1
		if !addr {
			bits = 2
		}
	}
	if d&decodes != 0 {
		bits |= 4
	}
	return bits
}

// value returns why a value of type t cannot travel in directions d, or nil.
// addr says whether the value is addressable while it is encoded: fields of
// the wire structs, which the codec encodes through a pointer, are; map
// values are not.
func (c *jsonCheck) value(t types.Type, d dir, addr bool) *problem {
	u := types.Unalias(t)
	if n, ok := u.(*types.Named); ok {
		left := c.untrusted(n, d, addr)
		if left == 0 {
			return nil
		}
		// Whether the value is addressable matters only to a type
		// whose marshal method has a pointer receiver.
		bits := seenBits(left, addr || !c.pointerMarshaler(n))
		prev, _ := c.seen.At(n).(uint8)
		if prev&bits == bits {
			// Checked already, or being checked further up: a
			// recursive type is fine if the rest of it is.
			return nil
		}
		c.seen.Set(n, prev|bits)
		p := c.structure(t, u, left, addr)
		if p != nil && left != d {
			p.why += c.halfTrusted(n, left, addr)
		}
		return p
	}
	return c.structure(t, u, d, addr)
}

// pointerMarshaler reports whether n marshals itself only through a
// pointer receiver.
func (c *jsonCheck) pointerMarshaler(n *types.Named) bool {
	ptr := types.NewPointer(n)
	return !types.Implements(n, jsonMarshaler) && !types.Implements(n, textMarshaler) &&
		(types.Implements(ptr, jsonMarshaler) || types.Implements(ptr, textMarshaler))
}

// halfTrusted explains why encoding/json looks into the structure of n,
// which marshals or unmarshals itself, in directions left.
func (c *jsonCheck) halfTrusted(n *types.Named, left dir, addr bool) string {
	name := types.TypeString(n, c.qual)
	switch {
	case left&decodes != 0:
		return fmt.Sprintf(" (%s marshals itself, but has no UnmarshalJSON or UnmarshalText to decode with)", name)
	case !addr && c.pointerMarshaler(n):
		return fmt.Sprintf(" (the MarshalJSON or MarshalText of %s has a pointer receiver, which encoding/json does not call on a value it cannot address, such as a map value)", name)
	}
	return fmt.Sprintf(" (%s unmarshals itself, but has no MarshalJSON or MarshalText to encode with)", name)
}

// structure returns why a value of type t, which is u unaliased, cannot
// travel in directions d for what it is made of.
func (c *jsonCheck) structure(t, u types.Type, d dir, addr bool) *problem {
	_, named := u.(*types.Named)
	kind := func(what, why string) *problem {
		if named {
			why = "it is " + what + " type; " + why
		}
		return &problem{at: t, bad: t, why: why}
	}
	switch under := u.Underlying().(type) {
	case *types.Basic:
		switch {
		case under.Kind() == types.UnsafePointer:
			return kind("an unsafe pointer", "unsafe pointers cannot be sent")
		case under.Info()&types.IsComplex != 0:
			return kind("a complex number", "the JSON codec cannot encode complex numbers")
		}
	case *types.Chan:
		return kind("a channel", "channels cannot be sent")
	case *types.Signature:
		return kind("a function", "functions cannot be sent")
	case *types.Interface:
		// encoding/json encodes what an interface holds, but cannot
		// decode into an interface with methods.
		switch {
		case under.Empty() || d&decodes == 0:
		case named:
			return &problem{at: t, bad: t, why: "it is a non-empty interface type; the receiver cannot decode into an interface, use a concrete type"}
		default:
			return &problem{at: t, bad: t, why: "the receiver cannot decode into a non-empty anonymous interface; use a concrete type"}
		}
	case *types.Pointer:
		return elemProblem(c.value(under.Elem(), d, true), t, under.Elem())
	case *types.Slice:
		return elemProblem(c.value(under.Elem(), d, true), t, under.Elem())
	case *types.Array:
		return elemProblem(c.value(under.Elem(), d, addr), t, under.Elem())
	case *types.Map:
		if why := c.mapKey(under.Key(), d); why != "" {
			return &problem{at: t, bad: t, why: why, whole: true}
		}
		return elemProblem(c.value(under.Elem(), d, false), t, under.Elem())
	case *types.Struct:
		return c.structValue(t, under, d, addr)
	}
	return nil
}

// untrusted returns the directions of d in which encoding/json does not
// leave the value to n's own methods: MarshalJSON or MarshalText to encode
// (with a pointer receiver only if the value is addressable), UnmarshalJSON
// or UnmarshalText to decode (always through a pointer).
func (c *jsonCheck) untrusted(n *types.Named, d dir, addr bool) dir {
	ptr := types.NewPointer(n)
	if types.Implements(n, jsonMarshaler) || types.Implements(n, textMarshaler) ||
		addr && (types.Implements(ptr, jsonMarshaler) || types.Implements(ptr, textMarshaler)) {
		d &^= encodes
	}
	if types.Implements(ptr, jsonUnmarshaler) || types.Implements(ptr, textUnmarshaler) {
		d &^= decodes
	}
	return d
}

// mapKey says why encoding/json cannot use k as a map key in directions d,
// or returns "": a key is a string, an integer, or a TextMarshaler that
// decodes through its pointer's UnmarshalText.
func (c *jsonCheck) mapKey(k types.Type, d dir) string {
	if b, ok := k.Underlying().(*types.Basic); ok && b.Info()&(types.IsString|types.IsInteger) != 0 {
		return ""
	}
	enc := d&encodes == 0 || types.Implements(k, textMarshaler)
	dec := d&decodes == 0 || types.Implements(types.NewPointer(k), textUnmarshaler)
	key := types.TypeString(k, c.qual)
	switch {
	case enc && dec:
		return ""
	case types.Implements(k, textMarshaler):
		return fmt.Sprintf("map key %s has MarshalText, but *%s has no UnmarshalText to decode it", key, key)
	case types.Implements(types.NewPointer(k), textUnmarshaler):
		return fmt.Sprintf("map key %s has no MarshalText (on the value, not the pointer) to encode it", key)
	}
	return fmt.Sprintf("map key %s is not a string, integer or TextMarshaler", key)
}

// structValue checks the fields encoding/json sends of a struct t, whose
// type is st.
func (c *jsonCheck) structValue(t types.Type, st *types.Struct, d dir, addr bool) *problem {
	fields := jsonFields(t, st)
	if len(fields) == 0 && st.NumFields() > 0 {
		return &problem{at: t, bad: t, whole: true,
			why: fmt.Sprintf("%s has no exported field that encoding/json sends: it would travel as {}", types.TypeString(t, c.qual))}
	}
	prefix := "field "
	if _, named := types.Unalias(t).(*types.Named); named {
		prefix += types.TypeString(t, c.qual) + "."
	}
	for _, f := range fields {
		step := prefix + strings.Join(f.selector, ".")
		if f.viaPointer != nil && d&decodes != 0 {
			return &problem{path: []string{step}, at: f.typ, bad: f.typ, whole: true,
				why: fmt.Sprintf("promoted through *%s, an embedded pointer to an unexported struct type, which encoding/json cannot set when decoding",
					types.TypeString(f.viaPointer, c.qual))}
		}
		if p := c.value(f.typ, d, addr); p != nil {
			p.path = append([]string{step}, p.path...)
			return p
		}
	}
	return nil
}

// A jsonField is a field encoding/json encodes and decodes.
type jsonField struct {
	name     string     // its JSON name
	tagged   bool       // whether the name comes from a json tag
	index    []int      // the field indexes from the struct down to it
	selector []string   // the Go field names from the struct down to it
	typ      types.Type // its type
	// viaPointer is the type of an embedded pointer to an unexported
	// struct type that the field is promoted through, if any.
	viaPointer types.Type
}

// jsonFields returns the fields encoding/json encodes and decodes of a
// struct type t, whose underlying type is st, in the order of their
// indexes. It is encoding/json's
// typeFields over go/types: exported fields, fields promoted from embedded
// structs breadth first, json tags that rename ("name") or skip ("-"), and
// Go's rules for names at the same depth, under which tagged names win and
// names that still clash are dropped.
func jsonFields(t types.Type, st *types.Struct) []jsonField {
	type entry struct {
		st         *types.Struct
		key        types.Type // the struct's type, for counting and visiting
		index      []int
		selector   []string
		viaPointer types.Type
	}
	var current []entry
	next := []entry{{st: st, key: types.Unalias(t)}}
	var count, nextCount typeutil.Map // type → int
	var visited typeutil.Map          // type → bool
	var fields []jsonField
	for len(next) > 0 {
		current, next = next, nil
		count, nextCount = nextCount, typeutil.Map{}
		for _, f := range current {
			if visited.At(f.key) != nil {
				continue
			}
			visited.Set(f.key, true)
			for i := range f.st.NumFields() {
				sf := f.st.Field(i)
				if sf.Embedded() {
					t := types.Unalias(sf.Type())
					if p, ok := t.(*types.Pointer); ok {
						t = p.Elem()
					}
					if _, isStruct := t.Underlying().(*types.Struct); !sf.Exported() && !isStruct {
						continue // an unexported embedded type that is no struct
					}
				} else if !sf.Exported() {
					continue
				}
				tag := reflect.StructTag(f.st.Tag(i)).Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				if !isValidTag(name) {
					name = ""
				}
				index := append(slices.Clone(f.index), i)
				selector := append(slices.Clone(f.selector), sf.Name())
				ft := types.Unalias(sf.Type())
				pointer := false
				if p, ok := ft.(*types.Pointer); ok {
					ft, pointer = types.Unalias(p.Elem()), true
				}
				fst, isStruct := ft.Underlying().(*types.Struct)
				if name != "" || !sf.Embedded() || !isStruct {
					field := jsonField{name: name, tagged: name != "", index: index, selector: selector, typ: sf.Type(), viaPointer: f.viaPointer}
					if name == "" {
						field.name = sf.Name()
					}
					fields = append(fields, field)
					if n, _ := count.At(f.key).(int); n > 1 {
						// Two of the struct at this depth: a
						// duplicate makes the name clash below.
						fields = append(fields, field)
					}
					continue
				}
				// An embedded struct: its fields are promoted, one
				// level down.
				n, _ := nextCount.At(ft).(int)
				nextCount.Set(ft, n+1)
				if n == 0 {
					via := f.viaPointer
					if pointer && !sf.Exported() && via == nil {
						via = ft
					}
					next = append(next, entry{st: fst, key: ft, index: index, selector: selector, viaPointer: via})
				}
			}
		}
	}
	slices.SortStableFunc(fields, func(a, b jsonField) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	// Of the fields of one name, the shallowest wins, a tagged one among
	// those; two that are equal in both cancel each other out.
	var out []jsonField
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		if j-i == 1 || len(fields[i].index) != len(fields[i+1].index) || fields[i].tagged != fields[i+1].tagged {
			out = append(out, fields[i])
		}
		i = j
	}
	slices.SortFunc(out, func(a, b jsonField) int { return slices.Compare(a.index, b.index) })
	return out
}

// isValidTag reports whether encoding/json takes s as a field's name.
func isValidTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
			// Backslash and quote chars are reserved, but otherwise
			// any punctuation chars are allowed in a tag name.
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
