package gen

import (
	"go/types"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
)

// A qualifier writes a reference to the package-level name of pkg, recording
// that the generated file needs pkg's import. pkg is never nil.
type qualifier func(pkg *types.Package, name string) *jen.Statement

// typeCode returns the Go source of t as jennifer code. It is the one place
// that turns go/types types into code: types are written as the user wrote
// them, so aliases stay aliases (never types.Unalias: an alias may be the only
// importable spelling of a type from an internal package), byte and rune stay
// byte and rune, and predeclared names (error, any, comparable) stay
// unqualified. Every other package-level name goes through q.
func typeCode(t types.Type, q qualifier) *jen.Statement {
	switch t := t.(type) {
	case *types.Basic:
		if t.Kind() == types.UnsafePointer {
			return jen.Qual("unsafe", "Pointer")
		}
		return jen.Id(t.Name())
	case *types.Alias:
		obj := t.Obj()
		if obj.Pkg() == nil {
			return jen.Id(obj.Name()) // any
		}
		return withTypeArgs(q(obj.Pkg(), obj.Name()), t.TypeArgs(), q)
	case *types.Named:
		obj := t.Obj()
		if obj.Pkg() == nil {
			return jen.Id(obj.Name()) // error, comparable
		}
		return withTypeArgs(q(obj.Pkg(), obj.Name()), t.TypeArgs(), q)
	case *types.TypeParam:
		return jen.Id(t.Obj().Name())
	case *types.Pointer:
		return jen.Op("*").Add(typeCode(t.Elem(), q))
	case *types.Slice:
		return jen.Index().Add(typeCode(t.Elem(), q))
	case *types.Array:
		return jen.Index(jen.Id(strconv.FormatInt(t.Len(), 10))).Add(typeCode(t.Elem(), q))
	case *types.Map:
		return jen.Map(typeCode(t.Key(), q)).Add(typeCode(t.Elem(), q))
	case *types.Chan:
		return chanCode(t, q)
	case *types.Signature:
		return jen.Func().Add(signatureCode(t, q))
	case *types.Struct:
		return structCode(t, q)
	case *types.Interface:
		return interfaceCode(t, q)
	case *types.Union:
		return unionCode(t, q)
	}
	// Tuples never appear as the type of a value; anything else is a type
	// go/types added after this was written. Emit it as go/types spells it,
	// so the result fails to compile visibly rather than silently.
	return jen.Id(types.TypeString(t, func(p *types.Package) string { return p.Name() }))
}

// withTypeArgs appends [A, B] to a generic type's name.
func withTypeArgs(name *jen.Statement, args *types.TypeList, q qualifier) *jen.Statement {
	if args.Len() == 0 {
		return name
	}
	codes := make([]jen.Code, args.Len())
	for i := range codes {
		codes[i] = typeCode(args.At(i), q)
	}
	return name.Types(codes...)
}

// chanCode writes a channel type, parenthesising a receive-only element of a
// bidirectional channel: chan (<-chan T) and chan<- chan T mean different
// things than chan <-chan T would suggest.
func chanCode(t *types.Chan, q qualifier) *jen.Statement {
	elem := typeCode(t.Elem(), q)
	if e, ok := t.Elem().(*types.Chan); ok && t.Dir() == types.SendRecv && e.Dir() == types.RecvOnly {
		elem = jen.Parens(elem)
	}
	switch t.Dir() {
	case types.SendOnly:
		return jen.Chan().Op("<-").Add(elem)
	case types.RecvOnly:
		return jen.Op("<-").Chan().Add(elem)
	}
	return jen.Chan().Add(elem)
}

// signatureCode writes a function's parameters and results (without the func
// keyword), keeping parameter names and writing a variadic parameter as ...T.
func signatureCode(sig *types.Signature, q qualifier) *jen.Statement {
	params := tupleCode(sig.Params(), sig.Variadic(), q)
	res := sig.Results()
	s := jen.Params(params...)
	switch {
	case res.Len() == 0:
		return s
	case res.Len() == 1 && res.At(0).Name() == "":
		return s.Add(typeCode(res.At(0).Type(), q))
	}
	return s.Params(tupleCode(res, false, q)...)
}

func tupleCode(tup *types.Tuple, variadic bool, q qualifier) []jen.Code {
	codes := make([]jen.Code, tup.Len())
	for i := range codes {
		v := tup.At(i)
		var typ *jen.Statement
		if variadic && i == tup.Len()-1 {
			typ = jen.Op("...").Add(typeCode(v.Type().(*types.Slice).Elem(), q))
		} else {
			typ = typeCode(v.Type(), q)
		}
		if v.Name() != "" {
			typ = jen.Id(v.Name()).Add(typ)
		}
		codes[i] = typ
	}
	return codes
}

// structCode writes an anonymous struct with its fields, embedded fields and
// tags as written.
func structCode(t *types.Struct, q qualifier) *jen.Statement {
	fields := make([]jen.Code, t.NumFields())
	for i := range fields {
		f := t.Field(i)
		field := typeCode(f.Type(), q)
		if !f.Embedded() {
			field = jen.Id(f.Name()).Add(field)
		}
		if tag := t.Tag(i); tag != "" {
			field.Add(tagCode(tag))
		}
		fields[i] = field
	}
	return jen.Struct(fields...)
}

// tagCode writes a struct tag exactly, as a raw string where it can be one.
func tagCode(tag string) *jen.Statement {
	if strconv.CanBackquote(tag) {
		return jen.Id("`" + tag + "`")
	}
	return jen.Id(strconv.Quote(tag))
}

// interfaceCode writes an interface type: any when empty, otherwise its
// embedded types, then its explicit methods.
func interfaceCode(t *types.Interface, q qualifier) *jen.Statement {
	if t.NumEmbeddeds() == 0 && t.NumExplicitMethods() == 0 {
		return jen.Id("any")
	}
	var elems []jen.Code
	for i := range t.NumEmbeddeds() {
		elems = append(elems, typeCode(t.EmbeddedType(i), q))
	}
	for i := range t.NumExplicitMethods() {
		m := t.ExplicitMethod(i)
		elems = append(elems, jen.Id(m.Name()).Add(signatureCode(m.Type().(*types.Signature), q)))
	}
	return jen.Interface(elems...)
}

// unionCode writes a constraint union such as ~int | string.
func unionCode(t *types.Union, q qualifier) *jen.Statement {
	terms := make([]jen.Code, t.Len())
	for i := range terms {
		term := t.Term(i)
		code := typeCode(term.Type(), q)
		if term.Tilde() {
			code = jen.Op("~").Add(code)
		}
		terms[i] = code
	}
	return jen.Union(terms...)
}

// importPath returns the path by which generated code imports pkg: the path
// without any vendor directory prefix, since code never imports a vendored
// package by its vendor path.
func importPath(pkg *types.Package) string {
	p := pkg.Path()
	if i := strings.LastIndex(p, "/vendor/"); i >= 0 {
		return p[i+len("/vendor/"):]
	}
	return strings.TrimPrefix(p, "vendor/")
}
