package gen

import (
	"go/types"

	"github.com/dave/jennifer/jen"
)

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

// jsonMethods declares AppendJSON and DecodeJSON on the wire struct
// typeName: the runtime's JSON codec calls them instead of encoding/json,
// whose bytes and errors they reproduce.
func (e *emitter) jsonMethods(typeName string, fields []wireField) []jen.Code {
	return []jen.Code{e.appendJSON(typeName, fields), e.decodeJSON(typeName, fields)}
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

// basicName is the name of the predeclared type of kind k.
func basicName(k types.BasicKind) string { return types.Typ[k].Name() }

// appendJSON declares
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
	var a appendText
	sf := e.shapeFields(fields)
	for _, f := range sf {
		if f.shape.fails {
			a.add(jen.Var().Err().Error())
			break
		}
	}
	e.appendStruct(&a, sf, place{sel: func() *jen.Statement { return jen.Id("v") }}, 0)
	body := append(a.stmts, jen.Return(jen.Append(jen.Id("b"), litText(a.lit)), jen.Nil()))
	return doc("AppendJSON appends the JSON encoding of v to b: the bytes encoding/json writes, without its reflection.").
		Func().Params(jen.Id("v").Op("*").Id(typeName)).Id("AppendJSON").
		Params(jen.Id("b").Index().Byte()).Params(jen.Index().Byte(), jen.Error()).
		Block(body...)
}

// shapeFields returns the fields of a wire struct with their shapes.
func (e *emitter) shapeFields(fields []wireField) []shapeField {
	sf := make([]shapeField, len(fields))
	for i, f := range fields {
		sf[i] = shapeField{goName: f.goName, jsonName: f.jsonName, shape: e.shape(f.typ)}
	}
	return sf
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

// decodeJSON declares
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
	return doc("DecodeJSON decodes data into v as encoding/json does, with the same errors, without its reflection.").
		Func().Params(jen.Id("v").Op("*").Id(typeName)).Id("DecodeJSON").
		Params(jen.Id("data").Index().Byte()).Error().Block(
		jen.Id("d").Op(":=").Add(e.jsonwire("NewDecoder")).Call(jen.Id("data")),
		e.memberLoop(e.shapeFields(fields), place{sel: func() *jen.Statement { return jen.Id("v") }}, 0),
		jen.Return(jen.Id("d").Dot("Err").Call()),
	)
}

// rawString writes s as a raw string literal; s has no backquote.
func rawString(s string) *jen.Statement { return jen.Id("`" + s + "`") }
