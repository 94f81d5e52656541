package gen

import (
	"fmt"
	"go/types"
	"slices"

	"github.com/dave/jennifer/jen"
)

// Names of the structs that carry the arguments and the result of method M
// of service X on the wire, and of the one that holds both for a call.
func (s *service) argsName(m *method) string   { return "_" + s.name + "_" + m.name + "_Args" }
func (s *service) resultName(m *method) string { return "_" + s.name + "_" + m.name + "_Result" }
func (s *service) callName(m *method) string   { return "_" + s.name + "_" + m.name + "_Call" }

// wireTypes emits, for every method, the struct that carries its arguments
// and, if it has a result, the struct that carries that, each with its
// JSON methods (unless the service uses another codec), and the struct that
// holds both, so that the client and the server each make them in one
// allocation:
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
//	// _SessionRemote_GetBackendSessionBySid_Call holds the arguments and the
//	// result of one call of [SessionRemote.GetBackendSessionBySid], so that a
//	// call makes them in one allocation.
//	type _SessionRemote_GetBackendSessionBySid_Call struct {
//		args   _SessionRemote_GetBackendSessionBySid_Args
//		result _SessionRemote_GetBackendSessionBySid_Result
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
			decls = append(decls, e.declares(e.callStruct(m), s.callName(m), "the arguments and result of "+qname))
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

// callStruct writes the struct that holds the arguments and the result of
// one call of m. Its fields are unexported: no codec sees it.
func (e *emitter) callStruct(m *method) jen.Code {
	s := e.s
	text := fmt.Sprintf("%s holds the arguments and the result of one call of [%s.%s], so that a call makes them in one allocation.", s.callName(m), s.name, m.name)
	return doc(text).Type().Id(s.callName(m)).Struct(
		jen.Id("args").Id(s.argsName(m)),
		jen.Id("result").Id(s.resultName(m)),
	)
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
// with the code of [emitter.appendValue] for each field: structs, pointers,
// slices, maps and raw messages of the basic kinds encoded in place, and
// jsonwire.AppendValue, through encoding/json, for the other types. That is
// given a pointer to the field, so that a MarshalJSON method with a pointer
// receiver runs, as it does when encoding/json encodes the whole struct
// through a pointer.
func (e *emitter) appendJSON(typeName string, fields []wireField) jen.Code {
	l := e.locals()
	a := e.newAppendText(1)
	sf := e.shapeFields(fields)
	if slices.ContainsFunc(sf, func(f shapeField) bool { return f.shape.fails }) {
		a.add(jen.Var().Id(l.err).Error())
	}
	e.appendStruct(a, sf, rootPlace(l.v), 0)
	text := fmt.Sprintf("AppendJSON appends the JSON encoding of %s to %s: the bytes encoding/json writes, without its reflection.", l.v, l.b)
	return doc(text).
		Add(e.signature(jen.Id(l.v).Op("*").Id(typeName), "AppendJSON",
			[]jen.Code{jen.Id(l.b).Index().Byte()}, jen.Params(jen.Index().Byte(), jen.Error()))).
		Block(a.returnText()...)
}

// shapeFields returns the fields of a wire struct with their shapes.
func (e *emitter) shapeFields(fields []wireField) []shapeField {
	sf := make([]shapeField, len(fields))
	for i, f := range fields {
		sf[i] = shapeField{goName: f.goName, jsonName: f.jsonName, shape: e.shape(f.typ)}
	}
	return sf
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
// with the code of [emitter.decodeValue] for each field, and d.Value,
// through encoding/json, for the types jsonwire does not handle itself.
func (e *emitter) decodeJSON(typeName string, fields []wireField) jen.Code {
	l := e.locals()
	text := fmt.Sprintf("DecodeJSON decodes %s into %s as encoding/json does, with the same errors, without its reflection.", l.data, l.v)
	return doc(text).
		Add(e.signature(jen.Id(l.v).Op("*").Id(typeName), "DecodeJSON",
			[]jen.Code{jen.Id(l.data).Index().Byte()}, jen.Error())).Block(
		jen.Id(l.d).Op(":=").Add(e.jsonwire("NewDecoder")).Call(jen.Id(l.data)),
		e.memberLoop(e.shapeFields(fields), rootPlace(l.v), 0, 1),
		jen.Return(jen.Id(l.d).Dot("Err").Call()),
	)
}

// rawString writes s as a raw string literal; s has no backquote.
func rawString(s string) *jen.Statement { return jen.Id("`" + s + "`") }
