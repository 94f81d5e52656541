package gen

import (
	"bytes"
	"errors"
	"go/build/constraint"
	"go/format"
	"go/scanner"
	"go/token"
	"go/types"
	"slices"
	"strconv"

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

// emitFile renders the file of service s: header, declarations in the
// order of [emitter.decls], imports, gofmt.
//
// It emits twice. The first pass finds the packages the file imports, and so
// their names in the file, which the second needs: parameters are renamed
// away from them, and line widths depend on them.
func emitFile(s *service, noFormat bool) ([]byte, *Error) {
	probe := newEmitter(s, nil)
	probe.decls()
	e := newEmitter(s, probe.im)
	e.kinds, e.shapes = probe.kinds, probe.shapes
	f := jen.NewFilePathName(importPath(s.pkg.Types), s.pkg.Types.Name())
	f.NoFormat = true // formatted below, with the header in place
	for i, d := range e.decls() {
		if i > 0 {
			f.Line()
		}
		f.Add(d.code)
	}
	e.im.register(f)

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

	// importNames are the names of the packages the file imports, which
	// parameters must not take; measure is a file that knows them, for
	// measuring lines. Both are nil in the first pass, which finds them.
	importNames map[string]string
	measure     *jen.File

	kinds  map[types.Type]basicKindOf // see [emitter.basicKind]
	shapes map[types.Type]*shape      // see [emitter.shape]

	jsonLocals *jsonLocals     // see [emitter.locals]
	builtins   map[string]bool // predeclared functions the file calls: see [emitter.builtin]
}

// newEmitter returns the emitter of s. imports are those its first pass
// found, or nil in the first pass.
func newEmitter(s *service, imports *imports) *emitter {
	im := newImports(s.pkg.Types)
	e := &emitter{s: s, im: im, rt: im.name(runtimePath, "runtime"), kinds: make(map[types.Type]basicKindOf),
		shapes: make(map[types.Type]*shape), builtins: make(map[string]bool)}
	if imports != nil {
		e.importNames = imports.assign()
		e.measure = jen.NewFilePathName(importPath(s.pkg.Types), s.pkg.Types.Name())
		imports.register(e.measure)
	}
	return e
}

// A decl is one top-level declaration of a generated file, with the
// package-level names it declares.
type decl struct {
	code  jen.Code
	names []declName
}

// A declName is a package-level name a generated declaration introduces.
type declName struct {
	name string
	what string         // what it names, for messages: "the client of Greeter"
	pos  token.Position // where a clash with another name is reported
}

// decls returns the declarations of the file, in file order. It is the one
// list of what rpcgen generates: the file is made of these, and the names
// they declare are the ones [checkNames] compares with the package's own.
func (e *emitter) decls() []decl {
	return slices.Concat(
		e.versionCheck(),
		e.routeConsts(),
		e.client(),
		e.server(),
		e.wireTypes(),
		e.proxies(),
	)
}

// declare returns a declaration of code that introduces no package-level
// name: a method, or const _.
func declare(code jen.Code) decl { return decl{code: code} }

// declares returns a declaration of code that introduces name, described
// by what and reported at the service's position if it clashes.
func (e *emitter) declares(code jen.Code, name, what string) decl {
	return decl{code: code, names: []declName{{name: name, what: what, pos: e.s.pos}}}
}

// typ writes type t as the user wrote it.
func (e *emitter) typ(t types.Type) *jen.Statement { return typeCode(t, e.im.qual) }

// runtime refers to a name in the runtime package.
func (e *emitter) runtime(name string) *jen.Statement { return e.im.ref(runtimePath, "runtime", name) }

// context refers to context.Context.
func (e *emitter) context() *jen.Statement { return e.im.ref("context", "context", "Context") }

// params declares the parameters of m from index from on, called names, as
// name T, with a variadic last one as ...T.
func (e *emitter) params(m *method, from int, names []string) []jen.Code {
	var codes []jen.Code
	for i := from; i < len(m.params); i++ {
		p := jen.Id(names[i-from])
		if isVariadicLast(m, i) {
			p.Op("...")
		}
		codes = append(codes, p.Add(e.typ(paramType(m, i))))
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

// signature writes func recv name(params) results, or without recv when it
// is nil, breaking the parameters across lines to fit.
func (e *emitter) signature(recv jen.Code, name string, params []jen.Code, results jen.Code) *jen.Statement {
	return e.fit(0, len(" {"), func(l layout) *jen.Statement {
		s := jen.Func()
		if recv != nil {
			s.Params(recv)
		}
		return s.Id(name).Add(list(l, "(", ")", params)).Add(results)
	})
}

// call writes prefix(args...) as a statement at depth tabs, breaking the
// arguments across lines to fit.
func (e *emitter) call(depth int, prefix func() *jen.Statement, args []jen.Code) *jen.Statement {
	return e.fit(depth, 0, func(l layout) *jen.Statement { return prefix().Add(list(l, "(", ")", args)) })
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
