package gen

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGroupImports(t *testing.T) {
	in := "package p\n\nimport (\n\"context\"\n\"github.com/x/y\"\nz \"gopkg.in/z.v3\"\n\"time\"\nrt \"runtime\"\n)\n\nvar x int\n"
	want := "package p\n\nimport (\n\"context\"\n\"time\"\nrt \"runtime\"\n\n\"github.com/x/y\"\nz \"gopkg.in/z.v3\"\n)\n\nvar x int\n"
	if diff := cmp.Diff(want, string(groupImports([]byte(in)))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, same := range []string{
		"package p\n\nimport \"context\"\n\nvar x int\n",
		"package p\n\nimport (\n\"context\"\n\"time\"\n)\n",
		"package p\n\nimport (\n\"a.b/c\"\n\"d.e/f\"\n)\n",
	} {
		if got := string(groupImports([]byte(same))); got != same {
			t.Errorf("groupImports changed\n%s\ninto\n%s", same, got)
		}
	}
}

func TestWrap(t *testing.T) {
	text := strings.Repeat("word ", 40)
	lines := wrap(text)
	if len(lines) < 2 {
		t.Fatalf("wrap made %d lines", len(lines))
	}
	for _, l := range lines {
		if len(l) > 80 {
			t.Errorf("line of %d characters: %q", len(l), l)
		}
	}
	if got := strings.Join(lines, " "); got != strings.TrimSpace(text) {
		t.Errorf("wrap lost words: %q", got)
	}
	long := strings.Repeat("x", 100)
	if got := wrap("a " + long + " b"); !cmp.Equal(got, []string{"a", long, "b"}) {
		t.Errorf("wrap of a long word = %q", got)
	}
}

func TestImportNames(t *testing.T) {
	pkg := types.NewPackage("example.com/self", "self")
	// A package-level name takes "taken" from any import.
	pkg.Scope().Insert(types.NewVar(0, pkg, "taken", types.Typ[types.Int]))
	im := newImports(pkg)
	if got := im.name(runtimePath, "runtime"); got != "runtime" {
		t.Fatalf("runtime is named %q", got)
	}
	for _, p := range []struct{ path, name string }{
		{"z.io/model", "model"},
		{"runtime", "runtime"},
		{"a.io/model", "model"},
		{"b.io/model2", "model2"},
		{"c.io/taken", "taken"},
		{"example.com/self", "self"}, // never imported
		{"d.io/len", "len"},
	} {
		im.ref(p.path, p.name, "T")
	}
	want := map[string]string{
		runtimePath:   "runtime",
		"a.io/model":  "model",
		"b.io/model2": "model2",
		"c.io/taken":  "taken2",
		"d.io/len":    "len2",
		"runtime":     "runtime2",
		"z.io/model":  "model3",
	}
	if diff := cmp.Diff(want, im.assign()); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func TestGofmtError(t *testing.T) {
	src := "package p\n\nfunc f() {\n\treturn (\n}\n"
	_, err := gofmt("/x/y_rpc.go", []byte(src))
	if err == nil {
		t.Fatal("no error for source that does not parse")
	}
	if err.Pos.Filename != "/x/y_rpc.go" || err.Pos.Line != 5 || !strings.Contains(err.Msg, "gofmt: ") || !strings.Contains(err.Msg, "-nofmt") {
		t.Errorf("error = %v", err)
	}
	out, err := gofmt("y_rpc.go", []byte("package p\nvar  x  =  1\n"))
	if err != nil || string(out) != "package p\n\nvar x = 1\n" {
		t.Errorf("gofmt = %q, %v", out, err)
	}
}

func TestFreeName(t *testing.T) {
	taken := map[string]bool{"ctx": true, "ctx2": true, "a1": true, "a1_2": true, "err": true}
	for name, want := range map[string]string{
		"uid":  "uid",
		"ctx":  "ctx3",
		"err":  "err2",
		"a1":   "a1_3",
		"ctx2": "ctx2_2",
	} {
		if got := freeName(name, taken); got != want {
			t.Errorf("freeName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestColumns(t *testing.T) {
	for line, want := range map[string]int{"": 0, "ab": 2, "\tx": 5, "a\tb": 5, "été": 3, "\t\t": 8} {
		if got := columns(line); got != want {
			t.Errorf("columns(%q) = %d, want %d", line, got, want)
		}
	}
}

func TestUserDoc(t *testing.T) {
	long := strings.Repeat("word ", 30)
	code := "\t" + strings.Repeat("x", 120)
	got := userDoc([]string{"short", long, code, ""})
	if got[0] != "short" || got[len(got)-2] != code || got[len(got)-1] != "" || len(got) < 5 {
		t.Fatalf("userDoc = %q", got)
	}
	for _, l := range got[1 : len(got)-2] {
		if columns("// "+l) > maxColumns {
			t.Errorf("line of %d columns: %q", columns("// "+l), l)
		}
	}
}

// TestGeneratedNamesAreDeclared checks that the names the clash check
// knows are exactly the package-level names of the generated file: an
// emitter that declared a name without saying so would let it clash with
// the user's.
func TestGeneratedNamesAreDeclared(t *testing.T) {
	p, err := checkSource(token.NewFileSet(), importer.Default(), fmt.Sprintf(fuzzSrc, "S", "sys.s", "SProxy id", "Get", "getUser", "id"))
	if err != nil {
		t.Fatal(err)
	}
	services, errs := parsePackage(p)
	if len(errs) > 0 || len(services) != 1 {
		t.Fatalf("%d services, errors %v", len(services), errs)
	}
	s := services[0]
	out, eerr := emitFile(s, false)
	if eerr != nil {
		t.Fatal(eerr)
	}
	f, err := parser.ParseFile(token.NewFileSet(), s.outPath, out, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				declared = append(declared, d.Name.Name)
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch spec := spec.(type) {
				case *ast.TypeSpec:
					declared = append(declared, spec.Name.Name)
				case *ast.ValueSpec:
					for _, n := range spec.Names {
						if n.Name != "_" {
							declared = append(declared, n.Name)
						}
					}
				}
			}
		}
	}
	var known []string
	for _, n := range generatedNames(s) {
		known = append(known, n.name)
	}
	slices.Sort(declared)
	slices.Sort(known)
	if diff := cmp.Diff(declared, known); diff != "" {
		t.Errorf("declared names (-in the file +known to the clash check):\n%s", diff)
	}
	if len(known) < 10 {
		t.Errorf("only %d names: %q", len(known), known)
	}
}

// chunks keeps constant text whole across its appends, joins pieces while
// they fit, and splits only a piece too wide for a line of its own.
func TestChunks(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, c := range []struct {
		pieces []string
		indent int
		want   []string
	}{
		{nil, 1, nil},
		{[]string{"{", `"a0":`}, 1, []string{`{"a0":`}},
		{[]string{"{", strings.Repeat("a", 70), strings.Repeat("b", 10)}, 1, []string{"{" + strings.Repeat("a", 70), strings.Repeat("b", 10)}},
		{[]string{"{", long}, 1, []string{"{" + long[:75], long[75:]}},
		{[]string{"{", long}, 30, []string{("{" + long)[:16], ("{" + long)[16:32], ("{" + long)[32:48], ("{" + long)[48:64], ("{" + long)[64:80], ("{" + long)[80:96], ("{" + long)[96:]}},
	} {
		got := chunks(c.pieces, c.indent, 20)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("chunks(%q, %d) (-want +got):\n%s", c.pieces, c.indent, diff)
		}
		if strings.Join(got, "") != strings.Join(c.pieces, "") {
			t.Errorf("chunks(%q) lost text: %q", c.pieces, got)
		}
		for _, s := range got {
			if width := max(maxColumns-c.indent*tabColumns-20, 16); len(s) > width {
				t.Errorf("chunk %q wider than %d", s, width)
			}
		}
	}
}
