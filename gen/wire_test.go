package gen

import (
	"encoding/json"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// The jf types are the cases of TestJSONFieldsAgainstEncodingJSON, which
// reads their declarations from this file to type-check them, and compares
// what jsonFields finds with the keys encoding/json writes for their zero
// values.
type (
	jfPlain struct {
		A, B   int
		c      int
		Tagged string `json:"t"`
		Skip   int    `json:"-"`
		Dash   int    `json:"-,"`
		Bad    int    `json:"a\\b"`
		Opts   int    `json:",omitempty"`
	}
	jfInner  struct{ X, Y int }
	jfInner2 struct {
		X int
		Z int `json:"y"`
	}
	jfEmbed struct {
		jfInner
		Name string
	}
	jfClash struct {
		jfInner
		jfInner2
	}
	jfShallow struct {
		jfInner
		X string
	}
	jfTagWins struct {
		jfInner
		Other string `json:"Y"`
	}
	jfDeep struct {
		jfEmbed
		jfMid
	}
	jfMid      struct{ jfInner }
	jfTaggedEm struct {
		jfInner `json:"inner"`
	}
	JfExported struct{ E int }
	jfExpEmbed struct {
		JfExported
		jfUnexportedNonStruct
	}
	jfUnexportedNonStruct int
	JfNamedInt            int
	jfNamedEmbed          struct {
		JfNamedInt
	}
	jfTwice struct {
		jfA
		jfB
	}
	jfA struct{ jfInner }
	jfB struct{ jfInner }
)

func TestJSONFieldsAgainstEncodingJSON(t *testing.T) {
	values := map[string]any{
		"jfPlain": jfPlain{Opts: 1}, "jfEmbed": jfEmbed{}, "jfClash": jfClash{}, "jfShallow": jfShallow{},
		"jfTagWins": jfTagWins{}, "jfDeep": jfDeep{}, "jfMid": jfMid{},
		"jfTaggedEm": jfTaggedEm{}, "jfExpEmbed": jfExpEmbed{}, "jfNamedEmbed": jfNamedEmbed{}, "jfTwice": jfTwice{},
	}
	pkg := typeCheckJF(t)
	for name, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		want := slices.Sorted(maps.Keys(m))
		obj := pkg.Scope().Lookup(name)
		if obj == nil {
			t.Fatalf("%s not declared", name)
		}
		var got []string
		for _, f := range jsonFields(obj.Type(), obj.Type().Underlying().(*types.Struct)) {
			got = append(got, f.name)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: jsonFields %q, encoding/json writes %q", name, got, want)
		}
	}
}

// typeCheckJF type-checks the jf declarations of this file.
func typeCheckJF(t *testing.T) *types.Package {
	t.Helper()
	src, err := os.ReadFile("wire_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "wire_test.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var decls []ast.Decl
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
			decls = append(decls, gd)
		}
	}
	f.Decls, f.Imports = decls, nil
	pkg, err := (&types.Config{Importer: importer.Default()}).Check("p", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

// TestCheckWire covers what the goldens do not: the messages of the check
// for another codec, and a recursive type through a map.
func TestCheckWire(t *testing.T) {
	pkg := typeCheck(t, `package p
type R struct{ M map[string]R; Ch chan int }
type OK struct{ M map[string]OK; S []*OK }
type W struct{ C complex128; I interface{ M() } }
`)
	lookup := func(name string) types.Type { return pkg.Scope().Lookup(name).Type() }
	qual := types.RelativeTo(pkg)
	for _, c := range []struct {
		t    types.Type
		json bool
		want string
	}{
		{lookup("R"), true, "field R.Ch: chan int: channels cannot be sent"},
		{lookup("OK"), true, ""},
		{lookup("W"), true, "field W.C: complex128: the JSON codec cannot encode complex numbers"},
		{lookup("W"), false, ""},
		{types.NewSlice(lookup("R")), false, ""},
		{types.NewMap(types.Typ[types.String], types.NewChan(types.SendRecv, types.Typ[types.Int])), false,
			"map[string]chan int contains chan int: channels cannot be sent"},
	} {
		if got := checkWire(c.t, qual, c.json); got != c.want {
			t.Errorf("checkWire(%s, json %v) = %q, want %q", c.t, c.json, got, c.want)
		}
	}
}

func typeCheck(t *testing.T, src string) *types.Package {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := (&types.Config{}).Check("p", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(strings.TrimSpace(err.Error()))
	}
	return pkg
}
