package gen

import (
	"bytes"
	"errors"
	"fmt"
	"go/build/constraint"
	"go/format"
	"go/scanner"
	"go/token"
	"go/types"
	"slices"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
)

// runtimePath is the import path of the package generated code runs on. gen
// names it and never imports it.
const runtimePath = "github.com/sessionrpc/sessionrpc/runtime"

// buildLine returns the build constraint of the generated file of s: the
// rpcgen tag keeps generated files out of the generator's own loads, and the
// constraint of the interface's file, if any, keeps the file out of builds
// that do not have the interface.
func buildLine(s *service) string {
	var expr constraint.Expr = &constraint.NotExpr{X: &constraint.TagExpr{Tag: buildTag}}
	if s.build != nil {
		expr = &constraint.AndExpr{X: expr, Y: s.build}
	}
	return "//go:build " + expr.String()
}

// emitFile renders the file of service s: header, declarations in a fixed
// order, imports, gofmt.
func emitFile(s *service, noFormat bool) ([]byte, *Error) {
	im := newImports(s.pkg.Types)
	e := &emitter{s: s, im: im, rt: im.name(runtimePath, "runtime")}
	f := jen.NewFilePathName(importPath(s.pkg.Types), s.pkg.Types.Name())
	f.NoFormat = true // formatted below, with the header in place
	decls := slices.Concat(
		[]jen.Code{e.versionCheck()},
		e.routeConsts(),
		e.client(),
		e.server(),
		e.wireTypes(),
		e.proxies(),
	)
	for i, d := range decls {
		if i > 0 {
			f.Line()
		}
		f.Add(d)
	}
	im.register(f)

	var body bytes.Buffer
	if err := f.Render(&body); err != nil {
		return nil, errorf(token.Position{Filename: s.outPath}, "rendering: %v", err)
	}
	var src bytes.Buffer
	// The header and the build line are written here rather than through
	// jennifer, which would put the build line against the package clause,
	// where it is package documentation rather than a constraint.
	src.WriteString(header + "\n\n" + buildLine(s) + "\n\n")
	src.Write(groupImports(body.Bytes()))
	if noFormat {
		return src.Bytes(), nil
	}
	return gofmt(s.outPath, src.Bytes())
}

// gofmt formats the source of the file at path, or says where it does not
// parse.
func gofmt(path string, src []byte) ([]byte, *Error) {
	out, err := format.Source(src)
	if err != nil {
		pos := token.Position{Filename: path}
		if el, ok := err.(scanner.ErrorList); ok && len(el) > 0 {
			pos.Line = el[0].Pos.Line
			err = errors.New(el[0].Msg)
		}
		return nil, errorf(pos, "gofmt: %v (a bug in rpcgen; run it with -nofmt to see the unformatted file)", err)
	}
	return out, nil
}

// An emitter writes the declarations of one service.
type emitter struct {
	s  *service
	im *imports
	rt string // the runtime package's name in this file, for doc links
}

// typ writes type t as the user wrote it.
func (e *emitter) typ(t types.Type) *jen.Statement { return typeCode(t, e.im.qual) }

// runtime refers to a name in the runtime package.
func (e *emitter) runtime(name string) *jen.Statement { return e.im.ref(runtimePath, "runtime", name) }

// context refers to context.Context.
func (e *emitter) context() *jen.Statement { return e.im.ref("context", "context", "Context") }

// versionCheck makes the file fail to compile against a runtime that does not
// support this version of generated code.
func (e *emitter) versionCheck() jen.Code {
	return doc("This file needs a runtime that supports generated code of version 2.").
		Const().Id("_").Op("=").Add(e.runtime("SupportPackageIsVersion2"))
}

// routeConsts declares the route of every method.
func (e *emitter) routeConsts() []jen.Code {
	s := e.s
	if len(s.methods) == 0 {
		return nil
	}
	return []jen.Code{doc("Routes of service " + s.route + ".").Const().DefsFunc(func(g *jen.Group) {
		for _, m := range s.methods {
			g.Add(doc(fmt.Sprintf("%s is the route of [%s.%s].", s.routeName(m), s.name, m.name)).
				Id(s.routeName(m)).Op("=").Lit(m.route))
		}
	})}
}

// wireTypes declares the structs that carry each method's arguments and
// result.
func (e *emitter) wireTypes() []jen.Code {
	s := e.s
	var decls []jen.Code
	for _, m := range s.methods {
		args := make([]wireField, len(m.params))
		for i, p := range m.params {
			args[i] = wireField{goName: argField(i), jsonName: argVar(i), typ: p.Type()}
		}
		decls = append(decls, doc(fmt.Sprintf("%s holds the arguments of [%s.%s] on the wire.", s.argsName(m), s.name, m.name)).
			Type().Id(s.argsName(m)).StructFunc(func(g *jen.Group) {
			for _, f := range args {
				g.Id(f.goName).Add(e.typ(f.typ)).Add(tagCode(`json:"` + f.jsonName + `"`))
			}
		}))
		decls = append(decls, e.jsonMethods(s.argsName(m), args)...)
		if m.result != nil {
			decls = append(decls, doc(fmt.Sprintf("%s holds the result of [%s.%s] on the wire.", s.resultName(m), s.name, m.name)).
				Type().Id(s.resultName(m)).Struct(
				jen.Id("R0").Add(e.typ(m.result)).Add(tagCode(`json:"r0"`)),
			))
			decls = append(decls, e.jsonMethods(s.resultName(m), []wireField{{goName: "R0", jsonName: "r0", typ: m.result}})...)
			decls = append(decls, doc(fmt.Sprintf("%s holds the arguments and the result of one call of [%s.%s], so that a call makes them in one allocation.", s.callName(m), s.name, m.name)).
				Type().Id(s.callName(m)).Struct(
				jen.Id("args").Id(s.argsName(m)),
				jen.Id("result").Id(s.resultName(m)),
			))
		}
	}
	return decls
}

// argVar is the name of the i-th argument (after ctx) inside stubs; user
// names are never used, since they may shadow imports.
func argVar(i int) string { return "a" + strconv.Itoa(i) }

// argField is the field of the i-th argument in the arguments struct.
func argField(i int) string { return "A" + strconv.Itoa(i) }

// params declares the arguments of m from index from on, as a0 T0, a1 T1,
// with a variadic last one as ...T.
func (e *emitter) params(m *method, from int) []jen.Code {
	var codes []jen.Code
	for i := from; i < len(m.params); i++ {
		t := m.params[i].Type()
		if m.variadic && i == len(m.params)-1 {
			codes = append(codes, jen.Id(argVar(i)).Op("...").Add(e.typ(t.(*types.Slice).Elem())))
		} else {
			codes = append(codes, jen.Id(argVar(i)).Add(e.typ(t)))
		}
	}
	return codes
}

// results declares what m returns: error, or (T, error).
func (e *emitter) results(m *method) *jen.Statement {
	if m.result == nil {
		return jen.Error()
	}
	return jen.Params(e.typ(m.result), jen.Error())
}

// doc writes a generated doc comment, wrapped.
func doc(text string) *jen.Statement { return comment(wrap(text)...) }

// comment writes a doc comment of one or more lines, ready for the
// declaration to be added to it.
func comment(lines ...string) *jen.Statement {
	s := &jen.Statement{}
	for _, l := range lines {
		switch {
		case l == "":
			s.Comment("//")
		case l[0] == '\t':
			s.Comment("//" + l)
		default:
			s.Comment("// " + l)
		}
		s.Line()
	}
	return s
}

// groupImports puts the standard library imports of jennifer's import block
// first and the others after a blank line, as goimports does; gofmt keeps the
// groups and sorts each.
func groupImports(src []byte) []byte {
	start := bytes.Index(src, []byte("\nimport (\n"))
	if start < 0 {
		return src // one import or none
	}
	start += len("\nimport (\n")
	n := bytes.Index(src[start:], []byte("\n)\n"))
	if n < 0 {
		return src
	}
	var std, other [][]byte
	for _, line := range bytes.Split(src[start:start+n], []byte("\n")) {
		// A line is "path" or alias "path"; a standard library path has
		// no dot in its first element.
		path := line[max(bytes.IndexByte(line, '"'), 0):]
		if first, _, _ := bytes.Cut(path, []byte("/")); bytes.Contains(first, []byte(".")) {
			other = append(other, line)
		} else {
			std = append(std, line)
		}
	}
	group := bytes.Join(std, []byte("\n"))
	if len(std) > 0 && len(other) > 0 {
		group = append(group, "\n\n"...)
	}
	group = append(group, bytes.Join(other, []byte("\n"))...)
	return slices.Concat(src[:start], group, src[start+n:])
}

// wrap splits text into lines of at most 80 characters at spaces, for
// generated doc comments.
func wrap(text string) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > 80 {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// multiline writes a composite literal's elements one per line.
func multiline(elems ...jen.Code) *jen.Statement {
	return jen.Custom(jen.Options{Open: "{", Close: "}", Separator: ",", Multi: true}, elems...)
}

// field writes a key: value element of a composite literal.
func field(key string, value jen.Code) *jen.Statement { return jen.Id(key).Op(":").Add(value) }

// imports gives every package the generated file refers to a name: its own
// name where it can, a numbered alias where two packages share a name or a
// declaration of the package takes the name.
type imports struct {
	self  string // the file's own package, whose names are not qualified
	scope *types.Scope
	names map[string]string // path → package name, as first seen
	order []string          // paths, first seen first
}

func newImports(pkg *types.Package) *imports {
	return &imports{self: importPath(pkg), scope: pkg.Scope(), names: make(map[string]string)}
}

// qual is the [qualifier] of the file.
func (im *imports) qual(pkg *types.Package, name string) *jen.Statement {
	return im.ref(importPath(pkg), pkg.Name(), name)
}

// ref refers to name in the package at path, whose package name is pkgName.
func (im *imports) ref(path, pkgName, name string) *jen.Statement {
	im.add(path, pkgName)
	return jen.Qual(path, name)
}

func (im *imports) add(path, pkgName string) {
	if _, ok := im.names[path]; !ok && path != im.self {
		im.names[path] = pkgName
		im.order = append(im.order, path)
	}
}

// name reserves path first, before any other package, and returns its name
// in the file. The runtime goes first so that its name is known while
// writing doc comments.
func (im *imports) name(path, pkgName string) string {
	im.add(path, pkgName)
	return im.assign()[path]
}

// assign returns the name of every package: the first one reserved by name
// keeps its package name, then the others in path order; a package whose name
// is taken gets the first free name2, name3, ...
func (im *imports) assign() map[string]string {
	paths := slices.Clone(im.order)
	if len(paths) > 1 {
		slices.Sort(paths[1:])
	}
	taken := make(map[string]bool)
	out := make(map[string]string, len(paths))
	for _, path := range paths {
		base := im.names[path]
		name := base
		for n := 2; taken[name] || im.scope.Lookup(name) != nil || jen.IsReservedWord(name); n++ {
			name = base + strconv.Itoa(n)
		}
		taken[name] = true
		out[path] = name
	}
	return out
}

// register tells f the name of every package the file refers to, so that
// jennifer neither guesses (yamlv3, v2) nor numbers them in render order.
func (im *imports) register(f *jen.File) {
	names := im.assign()
	for _, path := range im.order {
		if name := names[path]; name == im.names[path] {
			f.ImportName(path, name)
		} else {
			f.ImportAlias(path, name)
		}
	}
}
