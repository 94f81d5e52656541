package gen

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"path/filepath"

	"golang.org/x/tools/go/packages"
)

// checkSignature returns what is wrong with fn as a remote method, one
// message per problem.
func checkSignature(fn *types.Func, pkg *types.Package) []string {
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
		if msg := checkWire(v.Type(), qual); msg != "" {
			msgs = append(msgs, what+": "+msg)
		}
	}
	if results.Len() == 2 {
		if msg := checkWire(results.At(0).Type(), qual); msg != "" {
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

// checkWire says why values of type t cannot travel as arguments or results,
// or returns "". It looks through the type as written — pointers, slices,
// arrays, maps, anonymous structs, type arguments — and at the underlying type
// of named types, but not into the fields of named structs: those are the
// business of the named type, which may well marshal itself.
func checkWire(t types.Type, qual types.Qualifier) string {
	bad, why := unsendable(t)
	if bad == nil {
		return ""
	}
	if bad == t {
		return fmt.Sprintf("%s: %s", types.TypeString(t, qual), why)
	}
	return fmt.Sprintf("%s contains %s: %s", types.TypeString(t, qual), types.TypeString(bad, qual), why)
}

// unsendable returns the part of t that cannot travel and why, or nil.
func unsendable(t types.Type) (types.Type, string) {
	switch u := types.Unalias(t).(type) {
	case *types.Basic:
		if u.Kind() == types.UnsafePointer {
			return t, "unsafe pointers cannot be sent"
		}
		if u.Info()&types.IsComplex != 0 {
			return t, "the JSON codec cannot encode complex numbers"
		}
	case *types.Chan:
		return t, "channels cannot be sent"
	case *types.Signature:
		return t, "functions cannot be sent"
	case *types.Interface:
		if !u.Empty() {
			return t, "the receiver cannot decode into a non-empty anonymous interface; use a concrete type"
		}
	case *types.Pointer:
		return unsendable(u.Elem())
	case *types.Slice:
		return unsendable(u.Elem())
	case *types.Array:
		return unsendable(u.Elem())
	case *types.Map:
		if !jsonMapKey(u.Key()) {
			return u.Key(), "the JSON codec needs map keys that are strings, integers or encoding.TextMarshalers"
		}
		if bad, why := unsendable(u.Key()); bad != nil {
			return bad, why
		}
		return unsendable(u.Elem())
	case *types.Struct:
		for i := range u.NumFields() {
			if bad, why := unsendable(u.Field(i).Type()); bad != nil {
				return bad, why
			}
		}
	case *types.Named:
		switch under := u.Underlying().(type) {
		case *types.Chan:
			return t, "it is a channel type; channels cannot be sent"
		case *types.Signature:
			return t, "it is a function type; functions cannot be sent"
		case *types.Basic:
			if under.Kind() == types.UnsafePointer {
				return t, "it is an unsafe pointer type; unsafe pointers cannot be sent"
			}
			if under.Info()&types.IsComplex != 0 && !hasMethod(u, "UnmarshalJSON") {
				return t, "it is a complex number type; the JSON codec cannot encode complex numbers"
			}
		case *types.Interface:
			if !under.Empty() {
				return t, "it is a non-empty interface type; the receiver cannot decode into an interface, use a concrete type"
			}
		}
		for i := range u.TypeArgs().Len() {
			if bad, why := unsendable(u.TypeArgs().At(i)); bad != nil {
				return bad, why
			}
		}
	}
	return nil, ""
}

// jsonMapKey reports whether encoding/json can use t as a map key.
func jsonMapKey(t types.Type) bool {
	if b, ok := t.Underlying().(*types.Basic); ok && b.Info()&(types.IsString|types.IsInteger) != 0 {
		return true
	}
	return hasMethod(t, "MarshalText") && hasMethod(t, "UnmarshalText")
}

// hasMethod reports whether t or *t has a method called name.
func hasMethod(t types.Type, name string) bool {
	if _, isPtr := t.(*types.Pointer); !isPtr {
		t = types.NewPointer(t)
	}
	ms := types.NewMethodSet(t)
	for i := range ms.Len() {
		if ms.At(i).Obj().Name() == name {
			return true
		}
	}
	return false
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
	for _, s := range svcs {
		for _, g := range generatedNames(s) {
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
	return errs
}

// A generatedName is a package-level name generated for a service.
type generatedName struct {
	name string
	what string         // what it names, for messages
	pos  token.Position // where to report a clash; the service's if zero
}

// generatedNames lists the package-level names generated for s.
func generatedNames(s *service) []generatedName {
	names := []generatedName{
		{s.clientName(), "the client of " + s.name, s.pos},
		{s.newClientName(), "the client constructor of " + s.name, s.pos},
		{s.registerName(), "the register function of " + s.name, s.pos},
		{s.descName(), "the service descriptor of " + s.name, s.pos},
	}
	for _, m := range s.methods {
		qname := s.name + "." + m.name
		names = append(names,
			generatedName{s.routeName(m), "the route of " + qname, s.pos},
			generatedName{s.argsName(m), "the arguments of " + qname, s.pos},
			generatedName{s.handlerName(m), "the handler of " + qname, s.pos})
		if m.result != nil {
			names = append(names,
				generatedName{s.resultName(m), "the result of " + qname, s.pos},
				generatedName{s.callName(m), "the arguments and result of " + qname, s.pos})
		}
	}
	for _, px := range s.proxies {
		names = append(names,
			generatedName{px.name, "proxy " + px.name, px.pos},
			generatedName{px.newName(), "the constructor of proxy " + px.name, px.pos})
	}
	return names
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
