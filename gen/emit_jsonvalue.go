package gen

import (
	"go/types"
	"reflect"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
)

// The generated JSON methods encode and decode without encoding/json not
// only the basic kinds but also the values built of them: structs (the
// exported fields, with their json tags), pointers, slices, maps with string
// keys, and json.RawMessage, as deep as they go. jsonwire holds what is the
// same for every type (a slice's growth, a map's sorted keys, a raw
// message's compaction); the generated code holds the rest, a loop over
// member names for each struct. A type with anything else inside, or with
// JSON or text methods of its own, which encoding/json would call, goes to
// encoding/json whole.

// shapeKind is how the generated code handles a type.
type shapeKind int

const (
	shapeFallback shapeKind = iota // encoding/json, through jsonwire.AppendValue and Decoder.Value
	shapeBasic                     // a bool, string, integer or float
	shapeRaw                       // json.RawMessage
	shapeStruct
	shapePointer
	shapeSlice
	shapeMap
)

// A shape is how the generated code encodes and decodes one type.
type shape struct {
	kind   shapeKind
	typ    types.Type
	basic  types.BasicKind // shapeBasic
	named  bool            // shapeBasic: a named type, converted to basic
	elem   *shape          // shapePointer, shapeSlice, shapeMap (the value)
	fields []shapeField    // shapeStruct
	fails  bool            // encoding it can fail
}

// A shapeField is one field of a struct as encoding/json sees it.
type shapeField struct {
	goName, jsonName string
	omitEmpty        bool
	shape            *shape
}

// shape returns the shape of t in the generated file of e.
func (e *emitter) shape(t types.Type) *shape { return shapeOf(t, e.s.pkg.Types, nil) }

// shapeOf returns the shape of t in code generated into package pkg. outer
// lists the named types t is inside of: a type inside itself (a tree, a
// list) goes to encoding/json.
func shapeOf(t types.Type, pkg *types.Package, outer []*types.Named) *shape {
	fallback := &shape{kind: shapeFallback, typ: t, fails: true}
	if k, named, ok := basicKind(t); ok {
		return &shape{kind: shapeBasic, typ: t, basic: k, named: named, fails: kindMethod[k].fails}
	}
	u := types.Unalias(t)
	if n, ok := u.(*types.Named); ok {
		if obj := n.Obj(); obj.Pkg() != nil && obj.Pkg().Path() == "encoding/json" && obj.Name() == "RawMessage" {
			return &shape{kind: shapeRaw, typ: t, fails: true}
		}
		if hasJSONMethods(n) {
			return fallback
		}
		for _, o := range outer {
			if types.Identical(o, n) {
				return fallback
			}
		}
		outer = append(outer[:len(outer):len(outer)], n)
	}
	switch under := u.Underlying().(type) {
	case *types.Pointer:
		elem := shapeOf(under.Elem(), pkg, outer)
		if elem.kind == shapeFallback || !nameable(under.Elem(), pkg) {
			return fallback
		}
		return &shape{kind: shapePointer, typ: t, elem: elem, fails: elem.fails}
	case *types.Slice:
		if b, ok := types.Unalias(under.Elem()).Underlying().(*types.Basic); ok && b.Kind() == types.Uint8 {
			return fallback // []byte is base64
		}
		elem := shapeOf(under.Elem(), pkg, outer)
		if elem.kind == shapeFallback || !nameable(under.Elem(), pkg) {
			return fallback
		}
		return &shape{kind: shapeSlice, typ: t, elem: elem, fails: true}
	case *types.Map:
		if k, _, ok := basicKind(under.Key()); !ok || k != types.String {
			return fallback
		}
		elem := shapeOf(under.Elem(), pkg, outer)
		if elem.kind == shapeFallback || !nameable(under.Elem(), pkg) {
			return fallback
		}
		return &shape{kind: shapeMap, typ: t, elem: elem, fails: true}
	case *types.Struct:
		s := &shape{kind: shapeStruct, typ: t}
		seen := map[string]bool{}
		for i := range under.NumFields() {
			f := under.Field(i)
			if f.Embedded() {
				return fallback // encoding/json's rules for embedded fields
			}
			if !f.Exported() {
				continue
			}
			tag := reflect.StructTag(under.Tag(i)).Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if opts != "" && opts != "omitempty" || !plainName(name) {
				return fallback
			}
			if name == "" {
				name = f.Name()
			}
			if lower := strings.ToLower(name); seen[lower] || !plainName(name) {
				return fallback // names that only case tells apart: encoding/json prefers the exact match
			} else {
				seen[lower] = true
			}
			fs := shapeOf(f.Type(), pkg, outer)
			if fs.kind == shapeFallback || opts == "omitempty" && fs.kind == shapeBasic && kindMethod[fs.basic].fails {
				return fallback // -0.0 is not empty for encoding/json, but == 0
			}
			s.fields = append(s.fields, shapeField{goName: f.Name(), jsonName: name, omitEmpty: opts == "omitempty", shape: fs})
			s.fails = s.fails || fs.fails
		}
		return s
	}
	return fallback
}

// nameable reports whether code in package pkg can write type t, as the
// generated code does for the elements of slices and maps and what pointers
// point to: every named type in it exported or pkg's own, every field of a
// struct literal too.
func nameable(t types.Type, pkg *types.Package) bool {
	switch t := t.(type) {
	case *types.Alias:
		obj := t.Obj()
		return (obj.Exported() || obj.Pkg() == pkg) && nameableArgs(t.TypeArgs(), pkg)
	case *types.Named:
		obj := t.Obj()
		return (obj.Pkg() == nil || obj.Exported() || obj.Pkg() == pkg) && nameableArgs(t.TypeArgs(), pkg)
	case *types.Basic:
		return t.Kind() != types.UnsafePointer
	case *types.Pointer:
		return nameable(t.Elem(), pkg)
	case *types.Slice:
		return nameable(t.Elem(), pkg)
	case *types.Array:
		return nameable(t.Elem(), pkg)
	case *types.Map:
		return nameable(t.Key(), pkg) && nameable(t.Elem(), pkg)
	case *types.Struct:
		for i := range t.NumFields() {
			f := t.Field(i)
			if !f.Exported() && f.Pkg() != pkg || !nameable(f.Type(), pkg) {
				return false
			}
		}
		return true
	}
	return false
}

func nameableArgs(args *types.TypeList, pkg *types.Package) bool {
	for i := range args.Len() {
		if !nameable(args.At(i), pkg) {
			return false
		}
	}
	return true
}

// hasJSONMethods reports whether n or *n has a method encoding/json calls.
func hasJSONMethods(n *types.Named) bool {
	ms := types.NewMethodSet(types.NewPointer(n))
	for _, m := range []string{"MarshalJSON", "MarshalText", "UnmarshalJSON", "UnmarshalText"} {
		if ms.Lookup(n.Obj().Pkg(), m) != nil || ms.Lookup(nil, m) != nil {
			return true
		}
	}
	return false
}

// plainName reports whether a JSON name needs no escaping in the generated
// code and in JSON: ASCII letters, digits, '_', '-' and '.'; or is empty.
func plainName(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// A place is where a value lives in generated code: val is an addressable
// expression of its type, addr its address, and sel what a field selector
// of a struct value goes after (val itself, or the pointer val is read
// through).
type place struct {
	val, addr, sel func() *jen.Statement
	deref          bool // val is *something
}

// fieldPlace is field goName of the struct at p.
func fieldPlace(p place, goName string) place {
	val := func() *jen.Statement { return p.sel().Dot(goName) }
	return place{val: val, addr: func() *jen.Statement { return jen.Op("&").Add(val()) }, sel: val}
}

// pointeePlace is what the pointer at p points to.
func pointeePlace(p place) place {
	val := func() *jen.Statement { return jen.Op("*").Add(p.val()) }
	sel := p.val // a selector reads through one pointer by itself
	if p.deref {
		sel = func() *jen.Statement { return jen.Parens(p.val()) }
	}
	return place{val: val, addr: p.val, sel: sel, deref: true}
}

// paramPlace is what the pointer parameter name points to.
func paramPlace(name string) place {
	return place{
		val:   func() *jen.Statement { return jen.Op("*").Id(name) },
		addr:  func() *jen.Statement { return jen.Id(name) },
		sel:   func() *jen.Statement { return jen.Id(name) },
		deref: true,
	}
}

// elemParam is the name of the element parameter of the functions that
// encode and decode one element of a slice or map at nesting level depth.
func elemParam(depth int) string { return "p" + strconv.Itoa(depth) }

// appendText collects the statements that append a value to b, merging
// constant text into one append.
type appendText struct {
	lit   string
	stmts []jen.Code
}

func (a *appendText) text(s string) { a.lit += s }

func (a *appendText) add(c ...jen.Code) {
	a.flush()
	a.stmts = append(a.stmts, c...)
}

func (a *appendText) flush() {
	if a.lit == "" {
		return
	}
	a.stmts = append(a.stmts, jen.Id("b").Op("=").Append(jen.Id("b"), litText(a.lit)))
	a.lit = ""
}

// litText is the arguments that append the constant text s to a []byte: a
// rune, or a string and "...".
func litText(s string) *jen.Statement {
	if len(s) == 1 {
		return jen.LitRune(rune(s[0]))
	}
	if strings.ContainsAny(s, "`") {
		return jen.Lit(s).Op("...")
	}
	return rawString(s).Op("...")
}

// appendValue adds to a the statements that append the value at p, of
// shape s, to b, at nesting level depth.
func (e *emitter) appendValue(a *appendText, s *shape, p place, depth int) {
	if call := e.appendCall(s, p, depth); call != nil {
		a.add(appendOrFail(call))
		return
	}
	switch s.kind {
	case shapeBasic:
		val := p.val()
		if s.named && !kindMethod[s.basic].generic {
			val = jen.Id(basicName(s.basic)).Call(val)
		}
		a.add(jen.Id("b").Op("=").Add(e.jsonwire(kindMethod[s.basic].append).Call(jen.Id("b"), val)))
	case shapePointer:
		var inner appendText
		e.appendValue(&inner, s.elem, pointeePlace(p), depth)
		inner.flush()
		a.add(jen.If(p.val().Op("==").Nil()).Block(
			jen.Id("b").Op("=").Append(jen.Id("b"), rawString("null").Op("...")),
		).Else().Block(inner.stmts...))
	case shapeStruct:
		e.appendStruct(a, s.fields, p, depth)
	}
}

// appendElem writes the function that appends one element of shape s:
//
//	func(b []byte, p1 *T) ([]byte, error) { ...; return b, nil }
func (e *emitter) appendElem(s *shape, depth int) jen.Code {
	param := elemParam(depth)
	sig := jen.Func().Params(jen.Id("b").Index().Byte(), jen.Id(param).Op("*").Add(e.typ(s.typ))).
		Params(jen.Index().Byte(), jen.Error())
	if call := e.appendCall(s, paramPlace(param), depth); call != nil {
		return sig.Block(jen.Return(call))
	}
	var body appendText
	if s.fails {
		body.add(jen.Var().Err().Error())
	}
	e.appendValue(&body, s, paramPlace(param), depth)
	body.flush()
	body.stmts = append(body.stmts, jen.Return(jen.Id("b"), jen.Nil()))
	return sig.Block(body.stmts...)
}

// appendCall returns the one call that appends the value at p, of shape s,
// and returns b and an error, if it takes one; else nil.
func (e *emitter) appendCall(s *shape, p place, depth int) jen.Code {
	switch s.kind {
	case shapeBasic:
		if kindMethod[s.basic].fails {
			val := p.val()
			if s.named {
				val = jen.Id(basicName(s.basic)).Call(val)
			}
			return e.jsonwire(kindMethod[s.basic].append).Call(jen.Id("b"), val)
		}
	case shapeRaw:
		return e.jsonwire("AppendRawMessage").Call(jen.Id("b"), p.val())
	case shapeSlice, shapeMap:
		fn := "AppendSlice"
		if s.kind == shapeMap {
			fn = "AppendMap"
		}
		return e.jsonwire(fn).Call(jen.Id("b"), p.val(), e.appendElem(s.elem, depth+1))
	case shapeFallback:
		return e.jsonwire("AppendValue").Call(jen.Id("b"), p.addr())
	}
	return nil
}

// appendStruct adds the statements that append the struct at p, whose
// fields are fields, as encoding/json does: members in field order, those
// with omitempty left out when empty.
func (e *emitter) appendStruct(a *appendText, fields []shapeField, p place, depth int) {
	// written: whether a member was written before the next field's: no,
	// maybe (only omitempty ones so far, so the comma depends on the
	// value) or yes.
	const (
		no = iota
		maybe
		yes
	)
	written := no
	a.text("{")
	for _, f := range fields {
		fp := fieldPlace(p, f.goName)
		target := a
		var inner appendText
		if f.omitEmpty {
			target = &inner
		}
		switch written {
		case yes:
			target.text(",")
		case maybe:
			target.add(jen.If(jen.Id("b").Index(jen.Len(jen.Id("b")).Op("-").Lit(1)).Op("!=").LitRune('{')).Block(
				jen.Id("b").Op("=").Append(jen.Id("b"), jen.LitRune(',')),
			))
		}
		target.text(`"` + f.jsonName + `":`)
		if f.omitEmpty && f.shape.kind == shapePointer {
			e.appendValue(target, f.shape.elem, pointeePlace(fp), depth) // not nil
		} else {
			e.appendValue(target, f.shape, fp, depth)
		}
		if !f.omitEmpty {
			written = yes
			continue
		}
		inner.flush()
		a.add(jen.If(nonEmpty(f.shape, fp)).Block(inner.stmts...))
		if written == no {
			written = maybe
		}
	}
	a.text("}")
}

// nonEmpty is the condition under which encoding/json writes a field with
// omitempty: its value is not the zero number, false, "", or an empty
// slice, map or nil pointer. (Structs are never empty; floats, whose -0 is
// not empty, are not given this path.)
func nonEmpty(s *shape, p place) jen.Code {
	switch s.kind {
	case shapeBasic:
		switch {
		case s.basic == types.Bool:
			return p.val()
		case s.basic == types.String:
			return jen.Len(p.val()).Op("!=").Lit(0)
		}
		return p.val().Op("!=").Lit(0)
	case shapeRaw, shapeSlice, shapeMap:
		return jen.Len(p.val()).Op("!=").Lit(0)
	case shapePointer:
		return p.val().Op("!=").Nil()
	}
	return jen.True()
}

// decodeValue returns the statements that decode the current value of d
// into the place p, of shape s, at nesting level depth.
func (e *emitter) decodeValue(s *shape, p place, depth int) []jen.Code {
	d := jen.Id("d")
	switch s.kind {
	case shapeBasic:
		ptr := p.addr()
		if s.named {
			ptr = jen.Parens(jen.Op("*").Id(basicName(s.basic))).Call(ptr)
		}
		return []jen.Code{d.Dot(kindMethod[s.basic].decode).Call(ptr)}
	case shapeRaw:
		return []jen.Code{d.Dot("RawMessage").Call(p.addr())}
	case shapePointer:
		inner := append([]jen.Code{
			jen.If(p.val().Op("==").Nil()).Block(p.val().Op("=").New(e.typ(s.elem.typ))),
		}, e.decodeValue(s.elem, pointeePlace(p), depth)...)
		return []jen.Code{jen.If(jen.Id("d").Dot("Null").Call()).Block(p.val().Op("=").Nil()).Else().Block(inner...)}
	case shapeSlice, shapeMap:
		fn := "Slice"
		if s.kind == shapeMap {
			fn = "Map"
		}
		param := elemParam(depth + 1)
		dec := jen.Id("d") // a *jsonwire.Decoder in the functions for elements
		if depth == 0 {
			dec = jen.Op("&").Id("d") // the DecodeJSON method's own jsonwire.Decoder
		}
		return []jen.Code{e.jsonwire(fn).Call(dec, p.addr(),
			jen.Func().Params(jen.Id("d").Op("*").Add(e.jsonwire("Decoder")), jen.Id(param).Op("*").Add(e.typ(s.elem.typ))).
				Block(e.decodeValue(s.elem, paramPlace(param), depth+1)...))}
	case shapeStruct:
		return []jen.Code{jen.If(jen.Id("d").Dot("Object").Call()).Block(e.memberLoop(s.fields, p, depth))}
	}
	return []jen.Code{d.Dot("Value").Call(p.addr())}
}

// memberLoop writes the loop that decodes the members of an object into
// the fields of the struct at p:
//
//	for d.Next() {
//		switch string(d.Key()) {
//		case "name":
//			...
//		default:
//			d.Skip()
//		}
//	}
func (e *emitter) memberLoop(fields []shapeField, p place, depth int) jen.Code {
	var cases []jen.Code
	for _, f := range fields {
		cases = append(cases, jen.Case(jen.Lit(strings.ToLower(f.jsonName))).Block(e.decodeValue(f.shape, fieldPlace(p, f.goName), depth)...))
	}
	cases = append(cases, jen.Default().Block(jen.Id("d").Dot("Skip").Call()))
	return jen.For(jen.Id("d").Dot("Next").Call()).Block(
		jen.Switch(jen.String().Call(jen.Id("d").Dot("Key").Call())).Block(cases...),
	)
}
