package gen

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLowerCamel(t *testing.T) {
	for in, want := range map[string]string{
		"Bind":                    "bind",
		"PushAll":                 "pushAll",
		"GetBackendSessionBySid":  "getBackendSessionBySid",
		"GetBackendSessionsByUid": "getBackendSessionsByUid",
		"KickBySid":               "kickBySid",
		"HTTPGet":                 "httpGet",
		"HTTPServer":              "httpServer",
		"ID":                      "id",
		"IDs":                     "ids",
		"URLsFor":                 "urlsFor",
		"UID":                     "uid",
		"UIDToSid":                "uidToSid",
		"HTTP2Get":                "http2Get",
		"V1":                      "v1",
		"X":                       "x",
		"ASet":                    "aSet",
		"Get_User":                "get_User",
		"ÉtéFini":                 "étéFini",
		"already":                 "already",
		"":                        "",
	} {
		if got := lowerCamel(in); got != want {
			t.Errorf("lowerCamel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsRoutePath(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want bool
	}{
		{"sys.sessionRemote", 2, true},
		{"a_b.C9", 2, true},
		{"sessionRemote", 2, false},
		{"a.b.c", 2, false},
		{"a..b", 2, false},
		{".a", 2, false},
		{"9a.b", 2, false},
		{"a-b.c", 2, false},
		{"getUser", 1, true},
		{"get.user", 1, false},
		{"", 1, false},
	} {
		if got := isRoutePath(c.s, c.n); got != c.want {
			t.Errorf("isRoutePath(%q, %d) = %v, want %v", c.s, c.n, got, c.want)
		}
	}
}

const directivesSrc = `package p

// S is a service.
//
// It has a second paragraph,
//
//	and code.
//
//rpcgen:service sys.s
//rpcgen:proxy  P   sid
// rpcgen:method wrong
//go:generate echo
type S interface{}
`

func TestDirectivesAndDoc(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", directivesSrc, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Decls[0].(*ast.GenDecl).Doc
	ds, errs := parseDirectives(fset, doc, "S")
	var got []string
	for _, d := range ds {
		got = append(got, d.String()+" @"+d.pos.String())
	}
	want := []string{"//rpcgen:service sys.s @p.go:9:1", "//rpcgen:proxy P sid @p.go:10:1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("directives (-want +got):\n%s", diff)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `p.go:11: S: "// rpcgen:method wrong" is not a directive`) {
		t.Errorf("errors = %v, want one about the misspelled directive", errs)
	}
	// The doc keeps text, blank lines and code, and drops every directive
	// (the misspelled one is no directive, and is reported instead).
	wantDoc := []string{"S is a service.", "", "It has a second paragraph,", "", "\tand code.", "", "rpcgen:method wrong"}
	if diff := cmp.Diff(wantDoc, docLines(doc)); diff != "" {
		t.Errorf("doc (-want +got):\n%s", diff)
	}
	if docLines(nil) != nil {
		t.Errorf("docLines(nil) = %q", docLines(nil))
	}
}
