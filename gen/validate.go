package gen

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/tools/go/packages"
)

// checkSignature returns what is wrong with fn as a remote method, one
// message per problem. json says whether its values travel through the JSON
// codec (see [checkWire]).
func checkSignature(fn *types.Func, pkg *types.Package, json bool) []string {
	if !fn.Exported() {
		return []string{"unexported methods cannot be called remotely"}
	}
	var msgs []string
	sig := fn.Signature()
	params, results := sig.Params(), sig.Results()
	if params.Len() == 0 || !isContext(params.At(0).Type()) {
		msgs = append(msgs, "the first parameter must be a context.Context")
	}
	switch {
	case results.Len() == 0 || !isError(results.At(results.Len()-1).Type()):
		msgs = append(msgs, "the last result must be an error")
	case results.Len() > 2:
		msgs = append(msgs, fmt.Sprintf("%d results besides the error; return at most one (a struct can hold several values)", results.Len()-1))
	}
	if len(msgs) > 0 {
		// Which values travel is only clear once the shape is right.
		return msgs
	}
	qual := types.RelativeTo(pkg)
	for i := 1; i < params.Len(); i++ {
		v := params.At(i)
		what := fmt.Sprintf("parameter %d", i+1)
		if v.Name() != "" && v.Name() != "_" {
			what = "parameter " + v.Name()
		}
		if msg := checkWire(v.Type(), qual, json); msg != "" {
			msgs = append(msgs, what+": "+msg)
		}
	}
	if results.Len() == 2 {
		if msg := checkWire(results.At(0).Type(), qual, json); msg != "" {
			msgs = append(msgs, "result: "+msg)
		}
	}
	return msgs
}

func isContext(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "context" && n.Obj().Name() == "Context"
}

func isError(t types.Type) bool {
	return types.Identical(t, types.Universe.Lookup("error").Type())
}

// checkTypeErrors reports the type errors that touch the annotated interface
// of s: those inside its declaration, and for methods whose types are invalid
// for reasons declared elsewhere (such as an embedded interface that does not
// type-check), the errors there. Other type errors of the package are
// tolerated: hand-written files may use generated names that do not exist
// while loading.
func checkTypeErrors(p *packages.Package, s *service, ts *ast.TypeSpec, iface *types.Interface, fields map[token.Pos]*ast.Field) ErrorList {
	var errs ErrorList
	report := func(who string, from, to token.Pos) bool {
		found := false
		for _, te := range p.TypeErrors {
			if from <= te.Pos && te.Pos < to {
				errs = append(errs, errorf(p.Fset.Position(te.Pos), "%s: %s", who, te.Msg))
				found = true
			}
		}
		return found
	}
	if it, ok := ts.Type.(*ast.InterfaceType); ok {
		for _, field := range it.Methods.List {
			who := s.name
			if len(field.Names) > 0 {
				who += "." + field.Names[0].Name
			}
			report(who, field.Pos(), field.End())
		}
	}
	if len(errs) > 0 {
		return errs
	}
	for i := range iface.NumMethods() {
		fn := iface.Method(i)
		if !hasInvalid(fn.Type()) {
			continue
		}
		who := s.name + "." + fn.Name()
		if field := fields[fn.Pos()]; field != nil && report(who, field.Pos(), field.End()) {
			continue
		}
		msg := "its signature does not type-check"
		if len(p.TypeErrors) > 0 {
			msg += "; the package's first type error: " + p.TypeErrors[0].Error()
		}
		errs = append(errs, errorf(s.pos, "%s: %s", who, msg))
	}
	return errs
}

// hasInvalid reports whether t mentions a type that did not type-check.
func hasInvalid(t types.Type) bool {
	switch t := t.(type) {
	case *types.Basic:
		return t.Kind() == types.Invalid
	case *types.Alias:
		return hasInvalid(types.Unalias(t)) || anyInvalid(t.TypeArgs())
	case *types.Named:
		return anyInvalid(t.TypeArgs())
	case *types.Pointer:
		return hasInvalid(t.Elem())
	case *types.Slice:
		return hasInvalid(t.Elem())
	case *types.Array:
		return hasInvalid(t.Elem())
	case *types.Chan:
		return hasInvalid(t.Elem())
	case *types.Map:
		return hasInvalid(t.Key()) || hasInvalid(t.Elem())
	case *types.Signature:
		return tupleInvalid(t.Params()) || tupleInvalid(t.Results())
	case *types.Struct:
		for i := range t.NumFields() {
			if hasInvalid(t.Field(i).Type()) {
				return true
			}
		}
	case *types.Interface:
		for i := range t.NumMethods() {
			if hasInvalid(t.Method(i).Type()) {
				return true
			}
		}
	}
	return false
}

func anyInvalid(l *types.TypeList) bool {
	for i := range l.Len() {
		if hasInvalid(l.At(i)) {
			return true
		}
	}
	return false
}

func tupleInvalid(t *types.Tuple) bool {
	for i := range t.Len() {
		if hasInvalid(t.At(i).Type()) {
			return true
		}
	}
	return false
}

// checkRoutes reports methods of s that share a route, which one server
// could not tell apart.
func checkRoutes(s *service) ErrorList {
	var errs ErrorList
	for i, m := range s.methods {
		for _, prev := range s.methods[:i] {
			if m.route == prev.route {
				errs = append(errs, errorf(m.pos, "%s.%s: route %s is also the route of %s.%s; rename one with //rpcgen:method", s.name, m.name, m.route, s.name, prev.name))
				break
			}
		}
	}
	return errs
}

// bindProxies finds the methods of each proxy of s and the type of its key.
func bindProxies(s *service) ErrorList {
	var errs ErrorList
	for _, px := range s.proxies {
		var first *method
		for _, m := range s.methods {
			if len(m.params) == 0 || m.params[0].Name() != px.param {
				continue
			}
			t := m.params[0].Type()
			if first == nil {
				first, px.keyType = m, t
			} else if !types.Identical(t, px.keyType) {
				qual := types.RelativeTo(s.pkg.Types)
				errs = append(errs, errorf(m.pos, "%s.%s: parameter %s has type %s here but %s in %s.%s; proxy %s needs one type",
					s.name, m.name, px.param, types.TypeString(t, qual), types.TypeString(px.keyType, qual), s.name, first.name, px.name))
				continue
			}
			px.methods = append(px.methods, m)
		}
		if first == nil {
			errs = append(errs, errorf(px.pos, "%s: proxy %s: no method has a parameter %s right after ctx", s.name, px.name, px.param))
		}
	}
	return errs
}

// validatePackages checks what involves several services of one package:
// the names and files generated for them, and their routes.
func validatePackages(pkgs []*packages.Package, services []*service) ErrorList {
	var errs ErrorList
	for _, p := range pkgs {
		var svcs []*service
		for _, s := range services {
			if s.pkg == p {
				svcs = append(svcs, s)
			}
		}
		errs = append(errs, checkNames(p, svcs)...)
	}
	return errs
}

// checkNames reports generated package-level names that clash with each other
// or with the package's own declarations, output files that two interfaces
// would share or that would overwrite a file rpcgen did not write, and routes
// that two services of the package share.
func checkNames(p *packages.Package, svcs []*service) ErrorList {
	var errs ErrorList
	owner := make(map[string]string) // generated name → what it is
	files := make(map[string]string) // output file → interface
	routes := make(map[string]string)
	builtins := make(map[string]bool) // predeclared functions some of the files call
	for _, s := range svcs {
		names, calls := generated(s)
		for name := range calls {
			builtins[name] = true
		}
		for _, g := range names {
			if obj := p.Types.Scope().Lookup(g.name); obj != nil {
				pos := p.Fset.Position(obj.Pos())
				errs = append(errs, errorf(g.pos, "%s: %s, generated as %s, is declared already at %s:%d", s.name, g.name, g.what, filepath.Base(pos.Filename), pos.Line))
			} else if other, dup := owner[g.name]; dup {
				errs = append(errs, errorf(g.pos, "%s: %s would be generated twice: as %s and as %s", s.name, g.name, other, g.what))
			}
			owner[g.name] = g.what
		}
		if other, dup := files[s.outPath]; dup {
			errs = append(errs, errorf(s.pos, "%s: output file %s is also the output of %s", s.name, filepath.Base(s.outPath), other))
		}
		files[s.outPath] = s.name
		if fileExists(s.outPath) && !isGenerated(s.outPath) {
			errs = append(errs, errorf(s.pos, "%s: %s exists and was not generated by rpcgen; not overwriting it", s.name, filepath.Base(s.outPath)))
		}
		for _, m := range s.methods {
			// Routes within one service are unique already (checkRoutes).
			if other, dup := routes[m.route]; dup {
				errs = append(errs, errorf(m.pos, "%s.%s: route %s is also the route of %s", s.name, m.name, m.route, other))
			}
			routes[m.route] = s.name + "." + m.name
		}
	}
	if len(svcs) > 0 {
		errs = append(checkPredeclared(p, builtins), errs...)
	}
	return errs
}

// checkPredeclared reports package-level declarations of p that hide a
// predeclared identifier the generated code uses, such as a var append:
// those every file uses, and builtins, the functions some call (len, new).
func checkPredeclared(p *packages.Package, builtins map[string]bool) ErrorList {
	used := []string{"any", "append", "byte", "error", "nil"}
	for k := range kindMethod {
		used = append(used, basicName(k))
	}
	for name := range builtins {
		used = append(used, name)
	}
	slices.Sort(used)
	var errs ErrorList
	for _, name := range slices.Compact(used) {
		if obj := p.Types.Scope().Lookup(name); obj != nil {
			errs = append(errs, errorf(p.Fset.Position(obj.Pos()), "%s: this declaration hides the predeclared %s, which the generated code of the package uses; rename it", name, name))
		}
	}
	return errs
}

// generatedNames returns the package-level names generated for s: those of
// the declarations its file is made of.
func generatedNames(s *service) []declName {
	names, _ := generated(s)
	return names
}

// generated returns the package-level names generated for s, and the
// predeclared functions its file calls.
func generated(s *service) ([]declName, map[string]bool) {
	e := newEmitter(s, nil)
	var names []declName
	for _, d := range e.decls() {
		names = append(names, d.names...)
	}
	return names, e.builtins
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
