package gen

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/tools/go/packages"
)

// isSegment reports whether s is one route segment as README.md documents
// it, a JavaScript-friendly identifier: an ASCII letter or underscore, then
// ASCII letters, digits and underscores. It is written out by hand, apart
// from the regexp the generator uses, so that the fuzzers check one
// against the other.
func isSegment(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// isPath reports whether s is n segments joined by dots:
// <namespace>.<service> for n = 2.
func isPath(s string, n int) bool {
	parts := strings.Split(s, ".")
	return len(parts) == n && !slices.ContainsFunc(parts, func(p string) bool { return !isSegment(p) })
}

// commentGroup makes a doc comment of text, one comment per line, as the
// Go scanner would make it: a line that is a line comment or a whole block
// comment is kept as it is, any other becomes a line comment. Each comment
// is on the line of its index plus one.
func commentGroup(text string) (*token.FileSet, *ast.CommentGroup) {
	var content strings.Builder
	doc := &ast.CommentGroup{}
	var offsets []int
	for line := range strings.SplitSeq(text, "\n") {
		block := len(line) >= 4 && strings.HasPrefix(line, "/*") && strings.Index(line[2:], "*/") == len(line)-4
		if !strings.HasPrefix(line, "//") && !block {
			line = "//" + line
		}
		offsets = append(offsets, content.Len())
		doc.List = append(doc.List, &ast.Comment{Text: line})
		content.WriteString(line + "\n")
	}
	fset := token.NewFileSet()
	f := fset.AddFile("p.go", -1, content.Len())
	f.SetLinesForContent([]byte(content.String()))
	for i, c := range doc.List {
		c.Slash = f.Pos(offsets[i])
	}
	return fset, doc
}

// FuzzDirectives feeds arbitrary comment text to the directive parser, and
// the same text as a name to lowerCamel and the route grammar. It never
// panics; every //rpcgen: line with a verb becomes exactly one directive,
// on its line, that prints back as itself; only comments that mention
// rpcgen: are reported; isRoutePath agrees with the documented grammar;
// and lowerCamel turns an identifier into an identifier, lower-casing only
// a prefix, and an ASCII exported name into a route segment.
func FuzzDirectives(f *testing.F) {
	for _, seed := range []string{
		"",
		"//rpcgen:service sys.sessionRemote",
		"//rpcgen:proxy  SessionProxy   sid\n//rpcgen:method getBackendSessionBySid",
		"S is a service.\n\n\tcode\n//rpcgen:service sys.s\n// rpcgen:method wrong\n//go:generate echo",
		"//rpcgen:\n//rpcgen: \t \n/* rpcgen:service a.b */\n/*rpcgen:service a.b*/",
		"/*\n/**/\n/* a */ b */\n/*/", // block comments the scanner would not make one line of
		"//rpcgen:service a..b\n//rpcgen:service .a\n//rpcgen:service 9a.b\n//rpcgen:service a-b.c\n//rpcgen:service a.b.c",
		"//rpcgen:service é.b\n//rpcgen:service a.b\u00a0x\n//rpcgen:method get\u2028user",
		"//rpcgen:Service a.b\n//rpcgen:unknown x y z",
		"GetBackendSessionBySid", "HTTPGet", "IDs", "URLsFor", "ÉtéFini", "X", "Get_User", "HTTP2Get", "ASet",
		"\xff\xfe", "İstanbul", "ǅa", "𝐀𝐁c",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		fset, doc := commentGroup(text)
		ds, errs := parseDirectives(fset, doc, "S")
		for i, c := range doc.List {
			line := i + 1
			var got []directive
			for _, d := range ds {
				if d.pos.Line == line {
					got = append(got, d)
				}
			}
			var reported int
			for _, e := range errs {
				if e.Pos.Line == line {
					reported++
				}
			}
			rest, isDirective := strings.CutPrefix(c.Text, "//rpcgen:")
			fields := strings.Fields(rest)
			spaced := isDirective && rest != "" && (rest[0] == ' ' || rest[0] == '\t')
			switch {
			case spaced:
				// "//rpcgen: verb" is a misspelling, reported, never obeyed.
				if len(got) != 0 || reported != 1 {
					t.Fatalf("%q: %d directives, %d errors; want one error", c.Text, len(got), reported)
				}
			case isDirective && len(fields) > 0:
				if len(got) != 1 || reported != 0 {
					t.Fatalf("%q: %d directives, %d errors; want one directive", c.Text, len(got), reported)
				}
				d := got[0]
				if d.verb != fields[0] || !slices.Equal(d.args, fields[1:]) {
					t.Fatalf("%q: directive %q %q, want %q", c.Text, d.verb, d.args, fields)
				}
				// Printed back, it parses as itself.
				fset2, doc2 := commentGroup(d.String())
				again, errs2 := parseDirectives(fset2, doc2, "S")
				if len(again) != 1 || len(errs2) != 0 || again[0].verb != d.verb || !slices.Equal(again[0].args, d.args) {
					t.Fatalf("%q prints as %q, which parses as %v (errors %v)", c.Text, d.String(), again, errs2)
				}
			case isDirective:
				if len(got) != 0 || reported != 1 {
					t.Fatalf("%q: %d directives, %d errors; want one error for an empty directive", c.Text, len(got), reported)
				}
			default:
				if len(got) != 0 {
					t.Fatalf("%q: not a directive, parsed as %v", c.Text, got)
				}
				if reported > 1 || reported == 1 && !strings.Contains(c.Text, "rpcgen:") {
					t.Fatalf("%q: %d errors, want none for a comment that does not mention rpcgen:", c.Text, reported)
				}
			}
		}
		if len(ds)+len(errs) > len(doc.List) {
			t.Fatalf("%d directives and %d errors from %d comments", len(ds), len(errs), len(doc.List))
		}
		_ = docLines(doc)

		for _, d := range ds {
			for _, arg := range d.args {
				for n := 1; n <= 3; n++ {
					if got, want := isRoutePath(arg, n), isPath(arg, n); got != want {
						t.Fatalf("isRoutePath(%q, %d) = %v, the documented grammar says %v", arg, n, got, want)
					}
				}
			}
		}
		for n := 1; n <= 3; n++ {
			if got, want := isRoutePath(text, n), isPath(text, n); got != want {
				t.Fatalf("isRoutePath(%q, %d) = %v, the documented grammar says %v", text, n, got, want)
			}
		}
		checkLowerCamel(t, text)
	})
}

// checkLowerCamel checks lowerCamel(name) against what its doc promises.
func checkLowerCamel(t *testing.T, name string) {
	t.Helper()
	out := lowerCamel(name)
	if !utf8.ValidString(name) {
		return // not a Go name; it must only not panic
	}
	in, got := []rune(name), []rune(out)
	if len(in) != len(got) {
		t.Fatalf("lowerCamel(%q) = %q: %d runes, want %d", name, out, len(got), len(in))
	}
	changed := true // still in the prefix that may be lower-cased
	for i := range in {
		switch {
		case got[i] == in[i]:
			changed = changed && unicode.ToLower(in[i]) == in[i] && unicode.IsUpper(in[i])
		case changed && got[i] == unicode.ToLower(in[i]) && unicode.IsUpper(in[i]):
		default:
			t.Fatalf("lowerCamel(%q) = %q: rune %d is %q, want %q or, in the leading upper-case run, its lower case", name, out, i, got[i], in[i])
		}
	}
	if again := lowerCamel(out); again != out {
		t.Fatalf("lowerCamel(%q) = %q, but lowerCamel(%q) = %q", name, out, out, again)
	}
	// A route segment is not a Go identifier: For gives "for", a keyword,
	// which is fine inside a route string. Only its shape must survive.
	if token.IsIdentifier(name) && !token.IsIdentifier(out) && !token.IsKeyword(out) {
		t.Fatalf("lowerCamel(%q) = %q, not an identifier", name, out)
	}
	// The route segment of an exported ASCII method name is a segment as
	// //rpcgen:method takes it. Non-ASCII names keep their letters: see
	// TestLowerCamelOfNonASCIINames.
	if token.IsIdentifier(name) && token.IsExported(name) && isASCII(name) && !isSegment(out) {
		t.Fatalf("lowerCamel(%q) = %q, not a route segment", name, out)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Exported Go names may be non-ASCII; their routes then are too, although
// //rpcgen:method accepts only ASCII segments. Pomelo and JavaScript take
// such routes, so the generator accepts them; this test pins that down.
func TestLowerCamelOfNonASCIINames(t *testing.T) {
	for in, want := range map[string]string{"Été": "été", "ΣTop": "σTop", "Ωmega": "ωmega"} {
		if got := lowerCamel(in); got != want || isSegment(got) {
			t.Errorf("lowerCamel(%q) = %q (segment %v), want %q, no ASCII segment", in, got, isSegment(got), want)
		}
	}
}

// fuzzSrc is the file FuzzSource fills in: an interface with a directive of
// each kind and two methods.
const fuzzSrc = `package p

import "context"

// %[1]s is a service.
//
//rpcgen:service %[2]s
//rpcgen:proxy %[3]s
type %[1]s interface {
	// %[4]s is a method.
	//
	//rpcgen:method %[5]s
	%[4]s(ctx context.Context, %[6]s int64, xs ...string) (map[string]int, error)
	// Other is another.
	Other(ctx context.Context, %[6]s int64) error
}
`

// fuzzMethodLine is the line of fuzzSrc that declares the method the
// method directive is on. No input holds a newline, so it does not move.
var fuzzMethodLine = 1 + strings.Count(fuzzSrc[:strings.Index(fuzzSrc, "\t%[4]s(")], "\n")

// exportImporter returns an importer of the export data the go command
// makes for the packages at paths and their dependencies: the runtime
// packages generated code imports, which the standard library's importer
// does not know. One importer serves the source and the generated file, so
// that both see the same context.Context.
func exportImporter(tb testing.TB, fset *token.FileSet, paths ...string) types.Importer {
	tb.Helper()
	cmd := exec.Command("go", append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}, paths...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("go list -export: %v\n%s", err, stderr.Bytes())
	}
	exports := make(map[string]string)
	for sc := bufio.NewScanner(bytes.NewReader(out)); sc.Scan(); {
		if path, file, ok := strings.Cut(sc.Text(), "\t"); ok && file != "" {
			exports[path] = file
		}
	}
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
}

// checkSource parses and type-checks src as package example.com/p, the way
// packages.Load would, without the go command.
func checkSource(fset *token.FileSet, imp types.Importer, src string) (*packages.Package, error) {
	const path = "/nonexistent/p/p.go" // isGenerated and fileExists find nothing there
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	p := &packages.Package{ID: "example.com/p", Name: f.Name.Name, PkgPath: "example.com/p", Fset: fset,
		GoFiles: []string{path}, CompiledGoFiles: []string{path}, Syntax: []*ast.File{f}}
	p.TypesInfo = &types.Info{Defs: make(map[*ast.Ident]types.Object), Uses: make(map[*ast.Ident]types.Object),
		Types: make(map[ast.Expr]types.TypeAndValue)}
	conf := types.Config{Importer: imp, Error: func(err error) {
		if te, ok := err.(types.Error); ok {
			p.TypeErrors = append(p.TypeErrors, te)
		}
	}}
	p.Types, _ = conf.Check(p.PkgPath, fset, p.Syntax, p.TypesInfo)
	return p, nil
}

// checkGenerated type-checks the generated file out together with the
// source of p, and returns the first error.
func checkGenerated(p *packages.Package, imp types.Importer, path string, out []byte) error {
	f, err := parser.ParseFile(p.Fset, path, out, parser.ParseComments)
	if err != nil {
		return err
	}
	_, err = (&types.Config{Importer: imp}).Check(p.PkgPath, p.Fset, append(slices.Clone(p.Syntax), f), nil)
	return err
}

// FuzzSource fills fuzzSrc with arbitrary names and directive arguments,
// and runs the generator on it from parsing to gofmt. It never panics. A
// service directive off the documented grammar, or a method directive off
// it, is an error. Without errors, every route is the service's route and
// the method's segment, every emitted file is Go that names each route and
// type-checks with the source, whatever the parameter and proxy are called,
// and every error carries a position.
func FuzzSource(f *testing.F) {
	imp := exportImporter(f, token.NewFileSet(), runtimePath, jsonwirePath, "context")
	f.Add("S", "sys.s", "SProxy id", "Get", "getUser", "id")
	f.Add("SessionRemote", "sys.sessionRemote", "SessionProxy sid", "KickBySid", "", "sid")
	f.Add("S", "sys.s", "", "HTTPGet", "", "id")
	f.Add("S", "sys", "SProxy id", "Get", "", "id")
	f.Add("S", "sys.s", "sProxy id", "Get", "get.user", "id")
	f.Add("Été", "sys.été", "Proxy id", "Ça", "", "id")
	f.Add("S", "a.b", "SClient id", "Get", "other", "id")
	f.Add("S", "a.b", "P x", "Get", "", "x")
	// Parameter names the stubs must rename.
	for _, name := range []string{"ctx", "c", "p", "out", "err", "serverID", "args", "inv", "nil", "context",
		"runtime", "jsonwire", "SGetRoute", "_S_Get_Args", "_S_Get_Result", "_S_Get_Call", "SProxy", "a0", "a1", "_"} {
		f.Add("S", "a.b", "SProxy "+name, "Get", "get", name)
	}
	// Interface names the handlers' locals would hide.
	for _, name := range []string{"a", "r", "ctx", "impl", "args", "result", "err", "c", "p", "v", "b", "d"} {
		f.Add(name, "a.b", "SProxy id", "Get", "get", "id")
	}
	f.Fuzz(func(t *testing.T, iface, serviceDir, proxy, methodName, methodDir, param string) {
		for _, s := range []string{iface, serviceDir, proxy, methodName, methodDir, param} {
			if strings.ContainsAny(s, "\n\r") {
				return // one input would stand for several lines of source
			}
		}
		src := fmt.Sprintf(fuzzSrc, iface, serviceDir, proxy, methodName, methodDir, param)
		p, err := checkSource(token.NewFileSet(), imp, src)
		if err != nil {
			return // not Go
		}
		services, errs := parsePackage(p)
		errs = append(errs, validatePackages([]*packages.Package{p}, services)...)
		for _, e := range errs {
			if e.Pos.Filename == "" || e.Pos.Line == 0 || e.Msg == "" {
				t.Fatalf("error without a position or a message: %q at %+v\n%s", e.Msg, e.Pos, src)
			}
		}
		var svc *service
		for _, s := range services {
			if s.name == iface {
				svc = s
			}
		}
		// The directives as the parser splits them.
		serviceArgs, methodArgs := strings.Fields(serviceDir), strings.Fields(methodDir)
		if svc != nil && len(errs) == 0 {
			if len(serviceArgs) != 1 || !isPath(serviceArgs[0], 2) || svc.route != serviceArgs[0] {
				t.Fatalf("service directive %q accepted as route %q\n%s", serviceDir, svc.route, src)
			}
		}
		if len(errs) > 0 {
			return
		}
		if svc == nil {
			// Only a name the template's interface declaration does not
			// reach, such as one with a comment after it, leaves the
			// directives on nothing.
			return
		}
		// The method directive belongs to the first method declared on the
		// template's method line, whatever spaces or comments the name
		// input brought with it.
		var directed *method
		for _, m := range svc.methods {
			if m.pos.Line == fuzzMethodLine && (directed == nil || m.pos.Offset < directed.pos.Offset) {
				directed = m
			}
		}
		routes := make(map[string]bool)
		for _, m := range svc.methods {
			last, ok := strings.CutPrefix(m.route, svc.route+".")
			switch {
			case !ok:
				t.Fatalf("method %s has route %q, outside service %q\n%s", m.name, m.route, svc.route, src)
			case m == directed && len(methodArgs) > 0:
				if len(methodArgs) != 1 || !isSegment(methodArgs[0]) || last != methodArgs[0] {
					t.Fatalf("method directive %q accepted as route %q\n%s", methodDir, m.route, src)
				}
			case last != lowerCamel(m.name):
				t.Fatalf("method %s has route %q, want %s.%s\n%s", m.name, m.route, svc.route, lowerCamel(m.name), src)
			}
			if routes[m.route] {
				t.Fatalf("route %q twice\n%s", m.route, src)
			}
			routes[m.route] = true
		}
		for _, s := range services {
			out, eerr := emitFile(s, false)
			if eerr != nil {
				t.Fatalf("emit %s: %v\n%s", s.name, eerr, src)
			}
			if _, err := parser.ParseFile(token.NewFileSet(), s.outPath, out, parser.ParseComments); err != nil {
				t.Fatalf("emitted file of %s does not parse: %v\n%s", s.name, err, out)
			}
			for _, m := range s.methods {
				if !strings.Contains(string(out), strconv.Quote(m.route)) {
					t.Fatalf("emitted file of %s does not name route %q\n%s", s.name, m.route, out)
				}
			}
			if len(p.TypeErrors) > 0 {
				continue // the source's errors would be the generated file's
			}
			if err := checkGenerated(p, imp, s.outPath, out); err != nil {
				t.Fatalf("emitted file of %s does not type-check: %v\n%s\n%s", s.name, err, src, out)
			}
		}
	})
}

// The template of FuzzSource generates with its seed names, and fails
// with a service name off the grammar: the fuzzer starts on both paths.
func TestFuzzSourceTemplate(t *testing.T) {
	imp := importer.Default()
	p, err := checkSource(token.NewFileSet(), imp, fmt.Sprintf(fuzzSrc, "S", "sys.s", "SProxy id", "Get", "getUser", "id"))
	if err != nil {
		t.Fatal(err)
	}
	services, errs := parsePackage(p)
	if len(errs) > 0 || len(services) != 1 {
		t.Fatalf("%d services, errors: %v", len(services), errs)
	}
	var routes []string
	for _, m := range services[0].methods {
		routes = append(routes, m.route)
	}
	if want := []string{"sys.s.getUser", "sys.s.other"}; !slices.Equal(routes, want) {
		t.Errorf("routes %q, want %q", routes, want)
	}
	if len(services[0].proxies) != 1 || len(services[0].proxies[0].methods) != 2 {
		t.Errorf("proxy SProxy does not cover both methods")
	}
	p, err = checkSource(token.NewFileSet(), imp, fmt.Sprintf(fuzzSrc, "S", "sys", "SProxy id", "Get", "", "id"))
	if err != nil {
		t.Fatal(err)
	}
	if services, errs := parsePackage(p); len(services) != 0 || len(errs) != 1 || !strings.Contains(errs[0].Msg, "malformed directive") {
		t.Errorf("service sys: %d services, errors %v; want one malformed directive", len(services), errs)
	}
}
