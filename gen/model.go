package gen

import (
	"go/ast"
	"go/build/constraint"
	"go/token"
	"go/types"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/tools/go/packages"
)

// A service is an annotated interface: everything emit needs to write its
// file.
type service struct {
	pkg     *packages.Package
	name    string          // the interface's name, X
	route   string          // <namespace>.<service>, e.g. sys.sessionRemote
	pos     token.Position  // of the interface's name
	outPath string          // absolute path of the file to generate
	build   constraint.Expr // the build constraint of the interface's file, or nil
	methods []*method       // sorted by name
	proxies []*proxy        // in the order of their directives
}

// A method is one method of a service, with its ctx parameter left out.
type method struct {
	name     string
	route    string
	doc      []string // the doc comment's lines, directives left out
	pos      token.Position
	params   []*types.Var // after ctx; names may be empty
	variadic bool         // the last of params is ...T (its type is []T)
	result   types.Type   // nil when the method returns only an error
}

// A proxy is a //rpcgen:proxy directive: a client bound to one server and one
// value of param.
type proxy struct {
	name    string
	param   string
	keyType types.Type // the type of param
	pos     token.Position
	methods []*method // the service's methods whose first parameter after ctx is param
}

// A directive is an //rpcgen:<verb> arg... comment line.
type directive struct {
	verb string
	args []string
	pos  token.Position
}

func (d directive) String() string {
	return strings.Join(append([]string{"//rpcgen:" + d.verb}, d.args...), " ")
}

// parsePackage finds the annotated interfaces of p and builds their services.
func parsePackage(p *packages.Package) ([]*service, ErrorList) {
	if errs := fatalErrors(p); len(errs) > 0 || p.TypesInfo == nil {
		return nil, errs
	}
	fields := methodFields(p)
	var services []*service
	var errs ErrorList
	var strays []strayDirective
	for _, f := range p.Syntax {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && !gd.Lparen.IsValid() {
					doc = gd.Doc
				}
				s, serrs, st := parseService(p, ts, doc, fields)
				errs = append(errs, serrs...)
				strays = append(strays, st...)
				if s != nil {
					services = append(services, s)
				}
			}
		}
	}
	// An //rpcgen:method in an interface that is no service is fine if a
	// service embeds that interface.
	used := make(map[token.Position]bool)
	for _, s := range services {
		for _, m := range s.methods {
			used[m.pos] = true
		}
	}
	for _, st := range strays {
		if !used[st.method] {
			errs = append(errs, st.err)
		}
	}
	return services, errs
}

// methodFields maps the position of every interface method name declared in
// p to its declaration, where its doc comment is. Methods that an annotated
// interface embeds from an interface of the same package are found here too;
// those embedded from other packages have no syntax and so no doc.
func methodFields(p *packages.Package) map[token.Pos]*ast.Field {
	m := make(map[token.Pos]*ast.Field)
	for _, f := range p.Syntax {
		ast.Inspect(f, func(n ast.Node) bool {
			if it, ok := n.(*ast.InterfaceType); ok {
				for _, field := range it.Methods.List {
					for _, name := range field.Names {
						m[name.Pos()] = field
					}
				}
			}
			return true
		})
	}
	return m
}

// parseService builds the service of one type declaration. For a type
// without rpcgen directives it returns no service, no errors, and the
// //rpcgen:method directives of its methods if it is an interface.
func parseService(p *packages.Package, ts *ast.TypeSpec, doc *ast.CommentGroup, fields map[token.Pos]*ast.Field) (*service, ErrorList, []strayDirective) {
	name := ts.Name.Name
	ds, errs := parseDirectives(p.Fset, doc, name)
	it, isIface := ts.Type.(*ast.InterfaceType)
	if len(ds) == 0 {
		// Not annotated; errs holds misspelled directives, if any.
		if isIface {
			return nil, errs, methodDirectives(p, it, name)
		}
		return nil, errs, nil
	}
	s, errs := buildService(p, ts, name, ds, errs, fields)
	return s, errs, nil
}

// buildService builds the service of a type declaration with rpcgen
// directives ds.
func buildService(p *packages.Package, ts *ast.TypeSpec, name string, ds []directive, errs ErrorList, fields map[token.Pos]*ast.Field) (*service, ErrorList) {
	_, isIface := ts.Type.(*ast.InterfaceType)
	pos := p.Fset.Position(ts.Name.Pos())
	s := &service{pkg: p, name: name, pos: pos}
	for _, d := range ds {
		switch d.verb {
		case "service":
			if s.route != "" {
				errs = append(errs, errorf(d.pos, "%s: second //rpcgen:service directive; an interface is one service", name))
				continue
			}
			if len(d.args) != 1 || !isRoutePath(d.args[0], 2) {
				errs = append(errs, errorf(d.pos, "%s: malformed directive %q: want //rpcgen:service <namespace>.<service>, e.g. //rpcgen:service sys.sessionRemote", name, d))
				s.route = "-" // do not also complain that it is missing
				continue
			}
			s.route = d.args[0]
		case "proxy":
			if len(d.args) != 2 || !token.IsIdentifier(d.args[0]) || !token.IsExported(d.args[0]) || !token.IsIdentifier(d.args[1]) {
				errs = append(errs, errorf(d.pos, "%s: malformed directive %q: want //rpcgen:proxy <ExportedName> <param>, e.g. //rpcgen:proxy SessionProxy sid", name, d))
				continue
			}
			s.proxies = append(s.proxies, &proxy{name: d.args[0], param: d.args[1], pos: d.pos})
		case "method":
			errs = append(errs, errorf(d.pos, "%s: //rpcgen:method belongs in the doc comment of a method, not of the interface", name))
		default:
			errs = append(errs, errorf(d.pos, "%s: unknown directive %q; rpcgen knows //rpcgen:service, //rpcgen:proxy and //rpcgen:method", name, d))
		}
	}
	if s.route == "" {
		errs = append(errs, errorf(pos, "%s: rpcgen directives without //rpcgen:service <namespace>.<service>", name))
	}
	if !isIface {
		return nil, append(errs, errorf(pos, "%s: only interfaces can be services", name))
	}
	if ts.TypeParams != nil {
		return nil, append(errs, errorf(pos, "%s: generic interfaces cannot be services: clients and servers need concrete types", name))
	}
	obj, _ := p.TypesInfo.Defs[ts.Name].(*types.TypeName)
	if obj == nil {
		return nil, append(errs, errorf(pos, "%s: not type-checked", name))
	}
	iface, _ := obj.Type().Underlying().(*types.Interface)
	if iface == nil {
		return nil, append(errs, errorf(pos, "%s: only interfaces can be services", name))
	}
	if !iface.IsMethodSet() {
		return nil, append(errs, errorf(pos, "%s: an interface with a type constraint cannot be a service: no value implements it", name))
	}
	errs = append(errs, checkTypeErrors(p, s, ts, iface, fields)...)
	if len(errs) > 0 {
		return nil, errs
	}
	s.outPath = filepath.Join(filepath.Dir(pos.Filename), strings.ToLower(name)+"_rpc.go")
	s.build = fileConstraint(p, ts.Pos())

	// The method set of the type, not the syntax: it holds the methods of
	// embedded interfaces, wherever they are declared.
	for i := range iface.NumMethods() {
		m, merrs := parseMethod(p, s, iface.Method(i), fields)
		errs = append(errs, merrs...)
		if m != nil {
			s.methods = append(s.methods, m)
		}
	}
	slices.SortFunc(s.methods, func(a, b *method) int { return strings.Compare(a.name, b.name) })
	errs = append(errs, checkRoutes(s)...)
	errs = append(errs, bindProxies(s)...)
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

// parseMethod builds one method of s. fn comes from the interface's method set.
func parseMethod(p *packages.Package, s *service, fn *types.Func, fields map[token.Pos]*ast.Field) (*method, ErrorList) {
	pos := s.pos // methods embedded from other packages are reported at the interface
	var doc *ast.CommentGroup
	if field := fields[fn.Pos()]; field != nil {
		pos = p.Fset.Position(fn.Pos())
		doc = field.Doc
	}
	qname := s.name + "." + fn.Name()
	if msgs := checkSignature(fn, p.Types); len(msgs) > 0 {
		errs := make(ErrorList, len(msgs))
		for i, msg := range msgs {
			errs[i] = errorf(pos, "%s: %s", qname, msg)
		}
		return nil, errs
	}
	ds, errs := parseDirectives(p.Fset, doc, qname)
	m := &method{name: fn.Name(), route: s.route + "." + lowerCamel(fn.Name()), doc: docLines(doc), pos: pos}
	seen := false
	for _, d := range ds {
		switch {
		case d.verb == "service" || d.verb == "proxy":
			errs = append(errs, errorf(d.pos, "%s: //rpcgen:%s belongs in the doc comment of the interface; only //rpcgen:method goes on a method", qname, d.verb))
		case d.verb != "method":
			errs = append(errs, errorf(d.pos, "%s: unknown directive %q; on a method rpcgen knows only //rpcgen:method", qname, d))
		case seen:
			errs = append(errs, errorf(d.pos, "%s: second //rpcgen:method directive", qname))
		case len(d.args) != 1 || !isRoutePath(d.args[0], 1):
			errs = append(errs, errorf(d.pos, "%s: malformed directive %q: want //rpcgen:method <name>, one route segment such as getBackendSessionBySid", qname, d))
		default:
			m.route = s.route + "." + d.args[0]
		}
		seen = seen || d.verb == "method"
	}
	if !seen && !isRoutePath(lowerCamel(fn.Name()), 1) {
		errs = append(errs, errorf(pos, "%s: route segment %q is not an ASCII identifier; name the route with //rpcgen:method", qname, lowerCamel(fn.Name())))
	}
	sig := fn.Signature()
	for i := 1; i < sig.Params().Len(); i++ {
		m.params = append(m.params, sig.Params().At(i))
	}
	m.variadic = sig.Variadic()
	if sig.Results().Len() == 2 {
		m.result = sig.Results().At(0).Type()
	}
	return m, errs
}

// fileConstraint returns the //go:build constraint of the file of p that
// holds pos, or nil. The generated file must build under the same
// constraint, or it refers to an interface that is not there.
func fileConstraint(p *packages.Package, pos token.Pos) constraint.Expr {
	for _, f := range p.Syntax {
		if pos < f.FileStart || pos >= f.FileEnd {
			continue
		}
		for _, cg := range f.Comments {
			if cg.Pos() >= f.Package {
				break
			}
			for _, c := range cg.List {
				if constraint.IsGoBuild(c.Text) {
					if expr, err := constraint.Parse(c.Text); err == nil {
						return expr
					}
				}
			}
		}
	}
	return nil
}

// A strayDirective is an //rpcgen:method in an interface without
// //rpcgen:service. It is an error unless a service embeds the interface.
type strayDirective struct {
	method token.Position
	err    *Error
}

// methodDirectives returns the //rpcgen:method directives in an interface
// that is not a service, where they do nothing unless a service embeds it.
func methodDirectives(p *packages.Package, it *ast.InterfaceType, name string) []strayDirective {
	var strays []strayDirective
	for _, field := range it.Methods.List {
		if len(field.Names) == 0 {
			continue
		}
		who := name + "." + field.Names[0].Name
		pos := p.Fset.Position(field.Names[0].Pos())
		ds, errs := parseDirectives(p.Fset, field.Doc, who)
		for _, err := range errs {
			strays = append(strays, strayDirective{method: pos, err: err})
		}
		for _, d := range ds {
			err := errorf(d.pos, "%s: %q in an interface that neither is a service nor is embedded in one", who, d)
			strays = append(strays, strayDirective{method: pos, err: err})
		}
	}
	return strays
}

// misspelled matches an rpcgen directive written as a plain comment, which Go
// would not treat as a directive and rpcgen would silently miss.
var misspelled = regexp.MustCompile(`^//\s+rpcgen:|^/\*\s*rpcgen:`)

// parseDirectives returns the //rpcgen: lines of doc. who names the
// declaration in error messages.
func parseDirectives(fset *token.FileSet, doc *ast.CommentGroup, who string) ([]directive, ErrorList) {
	if doc == nil {
		return nil, nil
	}
	var ds []directive
	var errs ErrorList
	for _, c := range doc.List {
		pos := fset.Position(c.Slash)
		text, ok := strings.CutPrefix(c.Text, "//rpcgen:")
		if !ok {
			if misspelled.MatchString(c.Text) {
				errs = append(errs, errorf(pos, "%s: %q is not a directive: write //rpcgen: with no space after the slashes", who, c.Text))
			}
			continue
		}
		if text != "" && (text[0] == ' ' || text[0] == '\t') {
			errs = append(errs, errorf(pos, "%s: %q is not a directive: write //rpcgen:<verb> with no space after the colon", who, c.Text))
			continue
		}
		fs := strings.Fields(text)
		if len(fs) == 0 {
			errs = append(errs, errorf(pos, "%s: empty directive %q", who, c.Text))
			continue
		}
		ds = append(ds, directive{verb: fs[0], args: fs[1:], pos: pos})
	}
	return ds, errs
}

// docLines returns the lines of a doc comment as go/doc would show them:
// comment markers and directives removed.
func docLines(doc *ast.CommentGroup) []string {
	text := strings.TrimRight(doc.Text(), "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// segment is one part of a route: a JavaScript-friendly identifier.
var segment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// isRoutePath reports whether s is n segments joined by dots.
func isRoutePath(s string, n int) bool {
	parts := strings.Split(s, ".")
	if len(parts) != n {
		return false
	}
	for _, p := range parts {
		if !segment.MatchString(p) {
			return false
		}
	}
	return true
}

// lowerCamel turns a Go method name into the last part of its route, as
// pomelo names them: the leading run of upper-case letters is lower-cased,
// except for the last one when it starts the next word. Bind → bind,
// GetBackendSessionBySid → getBackendSessionBySid, HTTPGet → httpGet, ID →
// id, IDs → ids.
func lowerCamel(s string) string {
	runes := []rune(s)
	n := 0
	for n < len(runes) && unicode.IsUpper(runes[n]) {
		n++
	}
	switch {
	case n == 0:
		return s
	case n == len(runes):
		// all upper case: ID → id
	case n > 1 && unicode.IsLower(runes[n]) && !isPluralS(runes, n):
		n-- // HTTPGet: the G starts "Get"
	}
	for i := range n {
		runes[i] = unicode.ToLower(runes[i])
	}
	return string(runes)
}

// isPluralS reports whether runes[i] is the s of a plural acronym such as
// IDs or URLs: an s that ends the name or comes before an upper-case letter.
func isPluralS(runes []rune, i int) bool {
	return runes[i] == 's' && (i+1 == len(runes) || unicode.IsUpper(runes[i+1]) || !unicode.IsLetter(runes[i+1]))
}

// Names of what is generated for a service X and its method M. Unexported
// names follow grpc-go's _X_M_Kind pattern, which user code does not use.
func (s *service) clientName() string           { return s.name + "Client" }
func (s *service) newClientName() string        { return "New" + s.name + "Client" }
func (s *service) registerName() string         { return "Register" + s.name + "Server" }
func (s *service) descName() string             { return "_" + s.name + "_ServiceDesc" }
func (s *service) routeName(m *method) string   { return s.name + m.name + "Route" }
func (s *service) argsName(m *method) string    { return "_" + s.name + "_" + m.name + "_Args" }
func (s *service) resultName(m *method) string  { return "_" + s.name + "_" + m.name + "_Result" }
func (s *service) handlerName(m *method) string { return "_" + s.name + "_" + m.name + "_Handler" }
func (s *service) callName(m *method) string    { return "_" + s.name + "_" + m.name + "_Call" }
func (p *proxy) newName() string                { return "New" + p.name }
