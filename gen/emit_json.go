package gen

import (
	"fmt"
	"go/types"

	"github.com/dave/jennifer/jen"
)

// Names of the structs that carry the arguments and the result of method M
// of service X on the wire.
func (s *service) argsName(m *method) string   { return "_" + s.name + "_" + m.name + "_Args" }
func (s *service) resultName(m *method) string { return "_" + s.name + "_" + m.name + "_Result" }

// wireTypes emits, for every method, the struct that carries its arguments
// and, if it has a result, the struct that carries that, each with its
// JSON methods (unless the service uses another codec):
//
//	// _SessionRemote_Bind_Args holds the arguments of [SessionRemote.Bind] on
//	// the wire.
//	type _SessionRemote_Bind_Args struct {
//		A0 session.ID `json:"a0"`
//		A1 string     `json:"a1"`
//	}
//
//	// _SessionRemote_GetBackendSessionBySid_Result holds the result of
//	// [SessionRemote.GetBackendSessionBySid] on the wire.
//	type _SessionRemote_GetBackendSessionBySid_Result struct {
//		R0 *session.Info `json:"r0"`
//	}
//
// Fields are positional whatever the parameters are called, so that renaming
// a parameter never changes the wire.
func (e *emitter) wireTypes() []decl {
	s := e.s
	var decls []decl
	for _, m := range s.methods {
		qname := s.name + "." + m.name
		args := make([]wireField, len(m.params))
		for i, p := range m.params {
			args[i] = wireField{goName: argField(i), jsonName: argJSON(i), typ: p.Type()}
		}
		decls = append(decls, e.declares(e.wireStruct(s.argsName(m), "the arguments of", m, args), s.argsName(m), "the arguments of "+qname))
		decls = append(decls, e.jsonMethods(s.argsName(m), args)...)
		if m.result != nil {
			res := []wireField{{goName: "R0", jsonName: "r0", typ: m.result}}
			decls = append(decls, e.declares(e.wireStruct(s.resultName(m), "the result of", m, res), s.resultName(m), "the result of "+qname))
			decls = append(decls, e.jsonMethods(s.resultName(m), res)...)
		}
	}
	return decls
}

// wireStruct writes the struct typeName, which holds what of m on the wire.
func (e *emitter) wireStruct(typeName, what string, m *method, fields []wireField) jen.Code {
	return doc(fmt.Sprintf("%s holds %s [%s.%s] on the wire.", typeName, what, e.s.name, m.name)).
		Type().Id(typeName).StructFunc(func(g *jen.Group) {
		for _, f := range fields {
			g.Id(f.goName).Add(e.typ(f.typ)).Add(tagCode(`json:"` + f.jsonName + `"`))
		}
	})
}

// jsonwirePath is the import path of the package the generated JSON methods
// call.
const jsonwirePath = "github.com/sessionrpc/sessionrpc/runtime/jsonwire"

// A wireField is one field of a wire struct: A0 with JSON name a0, or R0 with
// r0. JSON names are lower-case letters and digits without k or s, which
// jsonwire's case-insensitive matching requires.
type wireField struct {
	goName, jsonName string
	typ              types.Type
}

// jsonwire refers to a name in package jsonwire.
func (e *emitter) jsonwire(name string) *jen.Statement {
	return e.im.ref(jsonwirePath, "jsonwire", name)
}

// jsonMethods emits AppendJSON and DecodeJSON on the wire struct typeName:
// the runtime's JSON codec calls them instead of encoding/json, whose bytes
// and errors they reproduce. A service that uses another codec has none.
func (e *emitter) jsonMethods(typeName string, fields []wireField) []decl {
	if !e.s.jsonCodec() {
		return nil
	}
	return []decl{declare(e.appendJSON(typeName, fields)), declare(e.decodeJSON(typeName, fields))}
}

// kindMethod names, for each basic kind jsonwire handles without
// encoding/json, the Decoder method that decodes it and the function that
// appends it. A function that can fail (floats: NaN and infinities) returns
// an error too; a generic one (the integers) takes named types as they are,
// the others need a conversion.
var kindMethod = map[types.BasicKind]struct {
	decode, append string
	fails, generic bool
}{
	types.String:  {"String", "AppendString", false, false},
	types.Bool:    {"Bool", "AppendBool", false, false},
	types.Int:     {"Int", "AppendInt", false, true},
	types.Int8:    {"Int8", "AppendInt", false, true},
	types.Int16:   {"Int16", "AppendInt", false, true},
	types.Int32:   {"Int32", "AppendInt", false, true},
	types.Int64:   {"Int64", "AppendInt", false, true},
	types.Uint:    {"Uint", "AppendUint", false, true},
	types.Uint8:   {"Uint8", "AppendUint", false, true},
	types.Uint16:  {"Uint16", "AppendUint", false, true},
	types.Uint32:  {"Uint32", "AppendUint", false, true},
	types.Uint64:  {"Uint64", "AppendUint", false, true},
	types.Uintptr: {"Uintptr", "AppendUint", false, true},
	types.Float32: {"Float32", "AppendFloat32", true, false},
	types.Float64: {"Float64", "AppendFloat64", true, false},
}

// basicKind returns the kind of t when jsonwire encodes and decodes t
// itself: a basic type, or a named type of basic underlying type (as
// session.ID is) without methods of its own for JSON or text, which
// encoding/json would call, and other than json.Number, which it treats as a
// number. named reports the latter, whose values the generated code converts
// to and from the basic type.
func basicKind(t types.Type) (kind types.BasicKind, named, ok bool) {
	t = types.Unalias(t)
	if n, isNamed := t.(*types.Named); isNamed {
		if obj := n.Obj(); obj.Pkg() != nil && obj.Pkg().Path() == "encoding/json" && obj.Name() == "Number" {
			return 0, false, false // a string that encoding/json writes as a number
		}
		ms := types.NewMethodSet(types.NewPointer(n))
		for _, m := range []string{"MarshalJSON", "MarshalText", "UnmarshalJSON", "UnmarshalText"} {
			if ms.Lookup(n.Obj().Pkg(), m) != nil || ms.Lookup(nil, m) != nil {
				return 0, false, false
			}
		}
		named = true
	}
	b, isBasic := t.Underlying().(*types.Basic)
	if !isBasic {
		return 0, false, false
	}
	_, handled := kindMethod[b.Kind()]
	return b.Kind(), named, handled
}

// e.basicKind is [basicKind], remembered: method sets cost, and the same
// types come back in every pass and wire struct.
func (e *emitter) basicKind(t types.Type) (kind types.BasicKind, named, ok bool) {
	k, found := e.kinds[t]
	if !found {
		k.kind, k.named, k.ok = basicKind(t)
		e.kinds[t] = k
	}
	return k.kind, k.named, k.ok
}

// A basicKindOf is what [basicKind] says of a type.
type basicKindOf struct {
	kind      types.BasicKind
	named, ok bool
}

// basicName is the name of the predeclared type of kind k.
func basicName(k types.BasicKind) string { return types.Typ[k].Name() }

// appendJSON emits
//
//	func (v *T) AppendJSON(b []byte) ([]byte, error) {
//		b = append(b, `{"a0":`...)
//		b = jsonwire.AppendString(b, v.A0)
//		...
//		return append(b, '}'), nil
//	}
//
// with jsonwire.AppendValue, through encoding/json, for the types jsonwire
// does not handle itself. It is given a pointer to the field, so that a
// MarshalJSON method with a pointer receiver runs, as it does when
// encoding/json encodes the whole struct through a pointer.
func (e *emitter) appendJSON(typeName string, fields []wireField) jen.Code {
	var body []jen.Code
	fails := false
	for _, f := range fields {
		if k, _, ok := e.basicKind(f.typ); !ok || kindMethod[k].fails {
			fails = true
		}
	}
	if fails {
		body = append(body, jen.Var().Err().Error())
	}
	for i, f := range fields {
		sep := ","
		if i == 0 {
			sep = "{"
		}
		body = append(body, jen.Id("b").Op("=").Append(jen.Id("b"), rawString(sep+`"`+f.jsonName+`":`).Op("...")))
		field := jen.Id("v").Dot(f.goName)
		k, named, ok := e.basicKind(f.typ)
		if ok && named && !kindMethod[k].generic {
			field = jen.Id(basicName(k)).Call(field)
		}
		switch {
		case !ok:
			body = append(body, appendOrFail(e.jsonwire("AppendValue").Call(jen.Id("b"), jen.Op("&").Add(field))))
		case kindMethod[k].fails:
			body = append(body, appendOrFail(e.jsonwire(kindMethod[k].append).Call(jen.Id("b"), field)))
		default:
			body = append(body, jen.Id("b").Op("=").Add(e.jsonwire(kindMethod[k].append)).Call(jen.Id("b"), field))
		}
	}
	if len(fields) == 0 {
		body = append(body, jen.Return(jen.Append(jen.Id("b"), rawString("{}").Op("...")), jen.Nil()))
	} else {
		body = append(body, jen.Return(jen.Append(jen.Id("b"), jen.LitRune('}')), jen.Nil()))
	}
	return doc("AppendJSON appends the JSON encoding of v to b: the bytes encoding/json writes, without its reflection.").
		Add(e.signature(jen.Id("v").Op("*").Id(typeName), "AppendJSON",
			[]jen.Code{jen.Id("b").Index().Byte()}, jen.Params(jen.Index().Byte(), jen.Error()))).
		Block(body...)
}

// appendOrFail writes
//
//	if b, err = call; err != nil {
//		return b, err
//	}
func appendOrFail(call jen.Code) jen.Code {
	return jen.If(jen.List(jen.Id("b"), jen.Err()).Op("=").Add(call), jen.Err().Op("!=").Nil()).Block(
		jen.Return(jen.Id("b"), jen.Err()),
	)
}

// decodeJSON emits
//
//	func (v *T) DecodeJSON(data []byte) error {
//		d := jsonwire.NewDecoder(data)
//		for d.Next() {
//			switch string(d.Key()) {
//			case "a0":
//				d.String(&v.A0)
//			...
//			default:
//				d.Skip()
//			}
//		}
//		return d.Err()
//	}
//
// with d.Value, through encoding/json, for the types jsonwire does not
// handle itself.
func (e *emitter) decodeJSON(typeName string, fields []wireField) jen.Code {
	var cases []jen.Code
	for _, f := range fields {
		method, ptr := "Value", jen.Op("&").Id("v").Dot(f.goName)
		if k, named, ok := e.basicKind(f.typ); ok {
			method = kindMethod[k].decode
			if named {
				ptr = jen.Parens(jen.Op("*").Id(basicName(k))).Call(ptr)
			}
		}
		cases = append(cases, jen.Case(jen.Lit(f.jsonName)).Block(jen.Id("d").Dot(method).Call(ptr)))
	}
	cases = append(cases, jen.Default().Block(jen.Id("d").Dot("Skip").Call()))
	return doc("DecodeJSON decodes data into v as encoding/json does, with the same errors, without its reflection.").
		Add(e.signature(jen.Id("v").Op("*").Id(typeName), "DecodeJSON",
			[]jen.Code{jen.Id("data").Index().Byte()}, jen.Error())).Block(
		jen.Id("d").Op(":=").Add(e.jsonwire("NewDecoder")).Call(jen.Id("data")),
		jen.For(jen.Id("d").Dot("Next").Call()).Block(
			jen.Switch(jen.String().Call(jen.Id("d").Dot("Key").Call())).Block(cases...),
		),
		jen.Return(jen.Id("d").Dot("Err").Call()),
	)
}

// rawString writes s as a raw string literal; s has no backquote.
func rawString(s string) *jen.Statement { return jen.Id("`" + s + "`") }
