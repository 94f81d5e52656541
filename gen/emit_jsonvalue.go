package gen

import (
	"go/types"
	"reflect"
	"slices"
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
//
// The statements are written knowing how deep they are indented, so that
// each breaks to fit in maxColumns as the rest of the file does.

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

// shape returns the shape of t in the generated file of e, remembered: the
// same types come back in every pass and wire struct.
func (e *emitter) shape(t types.Type) *shape {
	s, ok := e.shapes[t]
	if !ok {
		s = e.shapeOf(t, nil)
		e.shapes[t] = s
	}
	return s
}

// shapeOf returns the shape of t. outer lists the named types t is inside
// of: a type inside itself (a tree, a list) goes to encoding/json.
func (e *emitter) shapeOf(t types.Type, outer []*types.Named) *shape {
	pkg := e.s.pkg.Types
	fallback := &shape{kind: shapeFallback, typ: t, fails: true}
	if k, named, ok := e.basicKind(t); ok {
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
		elem := e.shapeOf(under.Elem(), outer)
		if elem.kind == shapeFallback || !nameable(under.Elem(), pkg) {
			return fallback
		}
		return &shape{kind: shapePointer, typ: t, elem: elem, fails: elem.fails}
	case *types.Slice:
		if b, ok := types.Unalias(under.Elem()).Underlying().(*types.Basic); ok && b.Kind() == types.Uint8 {
			return fallback // []byte is base64
		}
		elem := e.shapeOf(under.Elem(), outer)
		if elem.kind == shapeFallback || !nameable(under.Elem(), pkg) {
			return fallback
		}
		return &shape{kind: shapeSlice, typ: t, elem: elem, fails: true}
	case *types.Map:
		if k, _, ok := e.basicKind(under.Key()); !ok || k != types.String {
			return fallback
		}
		elem := e.shapeOf(under.Elem(), outer)
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
			fs := e.shapeOf(f.Type(), outer)
			if fs.kind == shapeFallback || opts == "omitempty" && fs.kind == shapeBasic && kindMethod[fs.basic].fails {
				return fallback // -0.0 is not empty for encoding/json, but == 0
			}
			// encoding/json never leaves out a struct.
			omit := opts == "omitempty" && fs.kind != shapeStruct
			s.fields = append(s.fields, shapeField{goName: f.Name(), jsonName: name, omitEmpty: omit, shape: fs})
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

// jsonLocals are the names of the JSON methods' own variables. The methods
// spell out the types of nested values, in element functions and new(T),
// and a type of the package, or a package the file imports, that has one of
// these names would be hidden by it: such a variable takes another name
// (v2, p1_2, ...).
type jsonLocals struct {
	v, b, d, err, data string
	taken              map[string]bool
}

// locals returns the names of the JSON methods' variables in e's file.
func (e *emitter) locals() *jsonLocals {
	if e.jsonLocals != nil {
		return e.jsonLocals
	}
	var typeNames []string
	scope := e.s.pkg.Types.Scope()
	for _, name := range scope.Names() {
		if _, isType := scope.Lookup(name).(*types.TypeName); isType {
			typeNames = append(typeNames, name)
		}
	}
	taken := e.takenNames(typeNames)
	free := func(name string) string {
		name = freeName(name, taken)
		taken[name] = true
		return name
	}
	l := &jsonLocals{v: free("v"), b: free("b"), d: free("d"), err: free("err"), data: free("data"), taken: taken}
	e.jsonLocals = l
	return l
}

// p is the name of the element parameter of the functions that encode and
// decode one element of a slice or map at nesting level level.
func (l *jsonLocals) p(level int) string { return freeName("p"+strconv.Itoa(level), l.taken) }

// builtin refers to the predeclared function name, which the package must
// not hide (see [checkPredeclared]).
func (e *emitter) builtin(name string) *jen.Statement {
	e.builtins[name] = true
	return jen.Id(name)
}

// A place is where a value lives in generated code: val is an addressable
// expression of its type, addr its address, and sel what a field selector
// of a struct value goes after (val itself, or the pointer val is read
// through).
type place struct {
	val, addr, sel func() *jen.Statement
	deref          bool // val is *something
}

// rootPlace is the wire struct the receiver name points to.
func rootPlace(name string) place {
	return place{sel: func() *jen.Statement { return jen.Id(name) }}
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

// A callSpec is a call the generated JSON code makes, fn(args...), with a
// function literal as its last argument when lit is set.
type callSpec struct {
	fn   func() *jen.Statement
	args []jen.Code
	lit  *funcLit
}

// A funcLit is a function literal: func(params) results { body }. body
// writes the statements at an indentation, which depends on how the call
// around the literal breaks.
type funcLit struct {
	params  []jen.Code
	results func() jen.Code // nil: none
	body    func(indent int) []jen.Code
}

// A callLayout is how a call with a function literal breaks: its arguments,
// and the literal's parameters.
type callLayout struct{ args, params layout }

// callLayouts are the ways a call breaks, tried in order: first the
// literal's parameters, so that its body stays where it is, then the call's
// arguments.
var callLayouts = []callLayout{
	{oneLine, oneLine}, {oneLine, continued},
	{continued, oneLine}, {continued, continued},
	{onePerLine, oneLine}, {onePerLine, continued},
}

// callStmt writes the statement stmt makes of the call c, at indent tabs,
// breaking the call to fit as [emitter.fit] does. A function literal's body
// is written for where it lands, and is left out when layouts are measured:
// its own lines were fitted to it.
func (e *emitter) callStmt(indent int, stmt func(call *jen.Statement) *jen.Statement, c callSpec) jen.Code {
	build := func(l callLayout, body []jen.Code) *jen.Statement {
		args := c.args
		if c.lit != nil {
			lit := jen.Func().Add(list(l.params, "(", ")", c.lit.params))
			if c.lit.results != nil {
				lit.Add(c.lit.results())
			}
			args = append(slices.Clip(args), lit.Block(body...))
		}
		return stmt(c.fn().Add(list(l.args, "(", ")", args)))
	}
	// The body of the literal is indented once from the line it starts on.
	bodyIndent := func(l callLayout) int {
		if l.args == oneLine {
			return indent + 1
		}
		return indent + 2
	}
	layouts := callLayouts
	if c.lit == nil {
		layouts = []callLayout{{oneLine, oneLine}, {continued, oneLine}, {onePerLine, oneLine}}
	}
	chosen := layouts[0]
	if e.measure != nil {
		chosen = layouts[len(layouts)-1]
		for _, l := range layouts {
			if e.fits(indent, 0, build(l, []jen.Code{jen.Id("_").Op("=").Lit(0)})) {
				chosen = l
				break
			}
		}
	}
	var body []jen.Code
	if c.lit != nil {
		body = c.lit.body(bodyIndent(chosen))
	}
	return build(chosen, body)
}

// appendText collects the statements, at indent tabs, that append a value
// to b, merging constant text into as few appends as fit.
type appendText struct {
	e      *emitter
	indent int
	lit    []string // constant text not yet appended, in pieces that read well apart
	stmts  []jen.Code
}

func (e *emitter) newAppendText(indent int) *appendText { return &appendText{e: e, indent: indent} }

func (a *appendText) text(s string) { a.lit = append(a.lit, s) }

func (a *appendText) add(c ...jen.Code) {
	a.flush()
	a.stmts = append(a.stmts, c...)
}

// flush appends the pending constant text: b = append(b, `...`...), in as
// few statements as fit in maxColumns.
func (a *appendText) flush() {
	b := a.e.locals().b
	for _, chunk := range chunks(a.lit, a.indent, len(b+" = append("+b+", ``...)")) {
		a.stmts = append(a.stmts, jen.Id(b).Op("=").Append(jen.Id(b), litText(chunk)))
	}
	a.lit = nil
}

// returnText returns the statements and then the one that returns b with
// the pending constant text appended: return append(b, '}'), nil.
func (a *appendText) returnText() []jen.Code {
	b := a.e.locals().b
	ret := func(lit string) jen.Code { return jen.Return(jen.Append(jen.Id(b), litText(lit)), jen.Nil()) }
	if cs := chunks(a.lit, a.indent, len("return append("+b+", ``...), nil")); len(cs) == 1 {
		a.lit = nil
		return append(a.stmts, ret(cs[0]))
	}
	a.flush()
	return append(a.stmts, jen.Return(jen.Id(b), jen.Nil()))
}

// chunks joins pieces of constant text into strings that each fit on a
// line at indent tabs with around more columns of code, splitting a piece
// only when it does not fit on a line of its own (and then filling the line
// before it).
func chunks(pieces []string, indent, around int) []string {
	width := max(maxColumns-indent*tabColumns-around, 16)
	var out []string
	cur := ""
	for _, p := range pieces {
		if cur != "" && len(cur)+len(p) > width && len(p) <= width {
			out = append(out, cur)
			cur = ""
		}
		cur += p
		for len(cur) > width {
			out = append(out, cur[:width])
			cur = cur[width:]
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
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

// appendOrFail writes, at indent tabs,
//
//	if b, err = call; err != nil {
//		return b, err
//	}
func (e *emitter) appendOrFail(indent int, call callSpec) jen.Code {
	l := e.locals()
	return e.callStmt(indent, func(c *jen.Statement) *jen.Statement {
		return jen.If(jen.List(jen.Id(l.b), jen.Id(l.err)).Op("=").Add(c), jen.Id(l.err).Op("!=").Nil()).Block(
			jen.Return(jen.Id(l.b), jen.Id(l.err)),
		)
	}, call)
}

// appendValue adds to a the statements that append the value at p, of
// shape s, to b; level is how deeply element functions nest.
func (e *emitter) appendValue(a *appendText, s *shape, p place, level int) {
	l := e.locals()
	if call, ok := e.appendCall(s, p, level); ok {
		a.add(e.appendOrFail(a.indent, call))
		return
	}
	switch s.kind {
	case shapeBasic:
		val := p.val()
		if s.named && !kindMethod[s.basic].generic {
			val = jen.Id(basicName(s.basic)).Call(val)
		}
		a.add(e.callStmt(a.indent, func(c *jen.Statement) *jen.Statement { return jen.Id(l.b).Op("=").Add(c) },
			callSpec{fn: func() *jen.Statement { return e.jsonwire(kindMethod[s.basic].append) }, args: []jen.Code{jen.Id(l.b), val}}))
	case shapePointer:
		inner := e.newAppendText(a.indent + 1)
		e.appendValue(inner, s.elem, pointeePlace(p), level)
		inner.flush()
		a.add(jen.If(p.val().Op("==").Nil()).Block(
			jen.Id(l.b).Op("=").Append(jen.Id(l.b), rawString("null").Op("...")),
		).Else().Block(inner.stmts...))
	case shapeStruct:
		e.appendStruct(a, s.fields, p, level)
	}
}

// appendElem writes the function that appends one element of shape s:
//
//	func(b []byte, p1 *T) ([]byte, error) { ...; return b, nil }
func (e *emitter) appendElem(s *shape, level int) *funcLit {
	l := e.locals()
	param := l.p(level)
	return &funcLit{
		params:  []jen.Code{jen.Id(l.b).Index().Byte(), jen.Id(param).Op("*").Add(e.typ(s.typ))},
		results: func() jen.Code { return jen.Params(jen.Index().Byte(), jen.Error()) },
		body: func(indent int) []jen.Code {
			if call, ok := e.appendCall(s, paramPlace(param), level); ok {
				return []jen.Code{e.callStmt(indent, func(c *jen.Statement) *jen.Statement { return jen.Return(c) }, call)}
			}
			body := e.newAppendText(indent)
			if s.fails {
				body.add(jen.Var().Id(l.err).Error())
			}
			e.appendValue(body, s, paramPlace(param), level)
			body.flush()
			return append(body.stmts, jen.Return(jen.Id(l.b), jen.Nil()))
		},
	}
}

// appendCall returns the one call that appends the value at p, of shape s,
// and returns b and an error, if it takes one.
func (e *emitter) appendCall(s *shape, p place, level int) (callSpec, bool) {
	l := e.locals()
	fn := func(name string) func() *jen.Statement { return func() *jen.Statement { return e.jsonwire(name) } }
	b := jen.Id(l.b)
	switch s.kind {
	case shapeBasic:
		if kindMethod[s.basic].fails {
			val := p.val()
			if s.named {
				val = jen.Id(basicName(s.basic)).Call(val)
			}
			return callSpec{fn: fn(kindMethod[s.basic].append), args: []jen.Code{b, val}}, true
		}
	case shapeRaw:
		return callSpec{fn: fn("AppendRawMessage"), args: []jen.Code{b, p.val()}}, true
	case shapeSlice, shapeMap:
		name := "AppendSlice"
		if s.kind == shapeMap {
			name = "AppendMap"
		}
		return callSpec{fn: fn(name), args: []jen.Code{b, p.val()}, lit: e.appendElem(s.elem, level+1)}, true
	case shapeFallback:
		return callSpec{fn: fn("AppendValue"), args: []jen.Code{b, p.addr()}}, true
	}
	return callSpec{}, false
}

// appendStruct adds the statements that append the struct at p, whose
// fields are fields, as encoding/json does: members in field order, those
// with omitempty left out when empty.
func (e *emitter) appendStruct(a *appendText, fields []shapeField, p place, level int) {
	l := e.locals()
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
		if f.omitEmpty {
			target = e.newAppendText(a.indent + 1)
		}
		switch written {
		case yes:
			target.text(",")
		case maybe:
			last := jen.Id(l.b).Index(e.builtin("len").Call(jen.Id(l.b)).Op("-").Lit(1))
			target.add(jen.If(last.Op("!=").LitRune('{')).Block(
				jen.Id(l.b).Op("=").Append(jen.Id(l.b), jen.LitRune(',')),
			))
		}
		target.text(`"` + f.jsonName + `":`)
		if f.omitEmpty && f.shape.kind == shapePointer {
			e.appendValue(target, f.shape.elem, pointeePlace(fp), level) // not nil
		} else {
			e.appendValue(target, f.shape, fp, level)
		}
		if !f.omitEmpty {
			written = yes
			continue
		}
		target.flush()
		a.add(jen.If(e.nonEmpty(f.shape, fp)).Block(target.stmts...))
		if written == no {
			written = maybe
		}
	}
	a.text("}")
}

// nonEmpty is the condition under which encoding/json writes a field with
// omitempty: its value is not the zero number, false, "", or an empty
// slice, map or nil pointer. (Structs are never empty and have no
// omitempty here; floats, whose -0 is not empty, are not given this path.)
func (e *emitter) nonEmpty(s *shape, p place) jen.Code {
	switch s.kind {
	case shapeBasic:
		switch {
		case s.basic == types.Bool:
			return p.val()
		case s.basic == types.String:
			return e.builtin("len").Call(p.val()).Op("!=").Lit(0)
		}
		return p.val().Op("!=").Lit(0)
	case shapePointer:
		return p.val().Op("!=").Nil()
	}
	// A raw message, slice or map: shapeOf gives omitempty to no other kind.
	return e.builtin("len").Call(p.val()).Op("!=").Lit(0)
}

// decodeValue returns the statements, at indent tabs, that decode the
// current value of d into the place p, of shape s; level is how deeply
// element functions nest.
func (e *emitter) decodeValue(s *shape, p place, level, indent int) []jen.Code {
	l := e.locals()
	method := func(name string) func() *jen.Statement {
		return func() *jen.Statement { return jen.Id(l.d).Dot(name) }
	}
	plain := func(c *jen.Statement) *jen.Statement { return c }
	switch s.kind {
	case shapeBasic:
		ptr := p.addr()
		if s.named {
			ptr = jen.Parens(jen.Op("*").Id(basicName(s.basic))).Call(ptr)
		}
		return []jen.Code{e.callStmt(indent, plain, callSpec{fn: method(kindMethod[s.basic].decode), args: []jen.Code{ptr}})}
	case shapeRaw:
		return []jen.Code{e.callStmt(indent, plain, callSpec{fn: method("RawMessage"), args: []jen.Code{p.addr()}})}
	case shapePointer:
		alloc := e.callStmt(indent+2, func(c *jen.Statement) *jen.Statement { return p.val().Op("=").Add(c) },
			callSpec{fn: func() *jen.Statement { return e.builtin("new") }, args: []jen.Code{e.typ(s.elem.typ)}})
		inner := append([]jen.Code{jen.If(p.val().Op("==").Nil()).Block(alloc)},
			e.decodeValue(s.elem, pointeePlace(p), level, indent+1)...)
		return []jen.Code{jen.If(jen.Id(l.d).Dot("Null").Call()).Block(p.val().Op("=").Nil()).Else().Block(inner...)}
	case shapeSlice, shapeMap:
		name := "Slice"
		if s.kind == shapeMap {
			name = "Map"
		}
		param := l.p(level + 1)
		dec := jen.Id(l.d) // a *jsonwire.Decoder in the functions for elements
		if level == 0 {
			dec = jen.Op("&").Id(l.d) // the DecodeJSON method's own jsonwire.Decoder
		}
		lit := &funcLit{
			params: []jen.Code{jen.Id(l.d).Op("*").Add(e.jsonwire("Decoder")), jen.Id(param).Op("*").Add(e.typ(s.elem.typ))},
			body: func(indent int) []jen.Code {
				return e.decodeValue(s.elem, paramPlace(param), level+1, indent)
			},
		}
		return []jen.Code{e.callStmt(indent, plain, callSpec{
			fn:   func() *jen.Statement { return e.jsonwire(name) },
			args: []jen.Code{dec, p.addr()},
			lit:  lit,
		})}
	case shapeStruct:
		return []jen.Code{jen.If(jen.Id(l.d).Dot("Object").Call()).Block(e.memberLoop(s.fields, p, level, indent+1))}
	}
	return []jen.Code{e.callStmt(indent, plain, callSpec{fn: method("Value"), args: []jen.Code{p.addr()}})}
}

// memberLoop writes, at indent tabs, the loop that decodes the members of
// an object into the fields of the struct at p:
//
//	for d.Next() {
//		switch string(d.Key()) {
//		case "name":
//			...
//		default:
//			d.Skip()
//		}
//	}
func (e *emitter) memberLoop(fields []shapeField, p place, level, indent int) jen.Code {
	l := e.locals()
	var cases []jen.Code
	for _, f := range fields {
		body := e.decodeValue(f.shape, fieldPlace(p, f.goName), level, indent+2)
		cases = append(cases, jen.Case(jen.Lit(strings.ToLower(f.jsonName))).Block(body...))
	}
	cases = append(cases, jen.Default().Block(jen.Id(l.d).Dot("Skip").Call()))
	return jen.For(jen.Id(l.d).Dot("Next").Call()).Block(
		jen.Switch(jen.String().Call(jen.Id(l.d).Dot("Key").Call())).Block(cases...),
	)
}
