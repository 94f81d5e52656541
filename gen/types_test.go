package gen

import (
	"bytes"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"

	"github.com/dave/jennifer/jen"
	"github.com/google/go-cmp/cmp"
)

// typesSrc declares one variable per case of TestTypeCode; the test checks
// that typeCode writes each variable's type back as it is written here.
const typesSrc = `package p

import (
	"context"
	"encoding/json"
	"runtime"
	"time"
	"unsafe"
)

type G[K comparable, V any] struct{}
type A = time.Duration
type L[T any] = []T
type Local struct{}

var (
	vBasic     int64
	vByte      byte
	vRune      []rune
	vUint8     uint8
	vString    string
	vError     error
	vAny       any
	vEmpty     interface{}
	vNamed     time.Time
	vLocal     *Local
	vGeneric   G[string, *json.RawMessage]
	vNested    G[G[int, Local], []G[A, any]]
	vAlias     A
	vGenAlias  L[time.Month]
	vLocalGA   L[L[byte]]
	vPointer   **Local
	vSlice     [][]string
	vArray     [4][2]byte
	vMap       map[string]map[int]*time.Location
	vChan      chan int
	vSend      chan<- string
	vRecv      <-chan bool
	vChanRecv  chan (<-chan int)
	vChanSend  chan chan<- int
	vRecvRecv  <-chan <-chan int
	vFunc      func()
	vFuncRes   func(int, string) error
	vFuncTwo   func(context.Context) (int, error)
	vFuncNamed func(ctx context.Context, n int) (res int, err error)
	vVariadic  func(string, ...int)
	vVarSlice  func(...[]byte) bool
	vStruct    struct{}
	vFields    struct {
		A, B int
		Local
		*time.Location ` + "`json:\"-\"`" + `
		C string ` + "`json:\"c,omitempty\" xml:\"c\"`" + `
		D []struct{ E int }
	}
	vQuoted    struct {
		F int ` + "\"k:\\\"v\\\\`\\\"\"" + `
	}
	vIface     interface {
		Len() int
		M(int) string
	}
	vEmbed     interface {
		context.Context
		Extra()
	}
	vUnsafe    unsafe.Pointer
	vStats     runtime.MemStats
	vFuncTP    = func(int) {}
)

func F[T any, P interface{ ~int | string }, C comparable](t T, p []P, c map[C]T) {}
`

var typeCases = []struct{ name, want string }{
	{"vBasic", "int64"},
	{"vByte", "byte"},
	{"vRune", "[]rune"},
	{"vUint8", "uint8"},
	{"vString", "string"},
	{"vError", "error"},
	{"vAny", "any"},
	{"vEmpty", "any"},
	{"vNamed", "time.Time"},
	{"vLocal", "*Local"},
	{"vGeneric", "G[string, *json.RawMessage]"},
	{"vNested", "G[G[int, Local], []G[A, any]]"},
	{"vAlias", "A"},
	{"vGenAlias", "L[time.Month]"},
	{"vLocalGA", "L[L[byte]]"},
	{"vPointer", "**Local"},
	{"vSlice", "[][]string"},
	{"vArray", "[4][2]byte"},
	{"vMap", "map[string]map[int]*time.Location"},
	{"vChan", "chan int"},
	{"vSend", "chan<- string"},
	{"vRecv", "<-chan bool"},
	{"vChanRecv", "chan (<-chan int)"},
	{"vChanSend", "chan chan<- int"},
	{"vRecvRecv", "<-chan <-chan int"},
	{"vFunc", "func()"},
	{"vFuncRes", "func(int, string) error"},
	{"vFuncTwo", "func(context.Context) (int, error)"},
	{"vFuncNamed", "func(ctx context.Context, n int) (res int, err error)"},
	{"vVariadic", "func(string, ...int)"},
	{"vVarSlice", "func(...[]byte) bool"},
	{"vStruct", "struct{}"},
	{"vFields", "struct {\n\tA int\n\tB int\n\tLocal\n\t*time.Location `json:\"-\"`\n\tC              string `json:\"c,omitempty\" xml:\"c\"`\n\tD              []struct {\n\t\tE int\n\t}\n}"},
	{"vQuoted", "struct {\n\tF int \"k:\\\"v\\\\`\\\"\"\n}"},
	{"vIface", "interface {\n\tLen() int\n\tM(int) string\n}"},
	{"vEmbed", "interface {\n\tcontext.Context\n\tExtra()\n}"},
	{"vUnsafe", "unsafe.Pointer"},
	{"vStats", "runtime2.MemStats"},
	{"vFuncTP", "func(int)"},
	// Parameters of F, whose types mention its type parameters.
	{"t", "T"},
	{"p", "[]P"},
	{"c", "map[C]T"},
}

func TestTypeCode(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "p.go", typesSrc, 0)
	if err != nil {
		t.Fatal(err)
	}
	info := &types.Info{Defs: make(map[*ast.Ident]types.Object)}
	conf := types.Config{Importer: importer.Default()}
	pkg, err := conf.Check("example.com/p", fset, []*ast.File{file}, info)
	if err != nil {
		t.Fatal(err)
	}
	vars := make(map[string]types.Type)
	for id, obj := range info.Defs {
		if v, ok := obj.(*types.Var); ok {
			vars[id.Name] = v.Type()
		}
	}
	// The rpcgen runtime comes first, as in generated files, so that the
	// standard library's runtime becomes runtime2.
	im := newImports(pkg)
	im.name(runtimePath, "runtime")

	f := jen.NewFilePathName("example.com/p", "p")
	for _, c := range typeCases {
		typ, ok := vars[c.name]
		if !ok {
			t.Fatalf("no variable %s", c.name)
		}
		f.Var().Id(c.name).Add(typeCode(typ, im.qual))
	}
	im.register(f)
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		t.Fatal(err)
	}
	got := splitVars(buf.String())
	for _, c := range typeCases {
		if diff := cmp.Diff(c.want, got[c.name]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
	if !strings.Contains(buf.String(), `runtime2 "runtime"`) {
		t.Errorf("the standard library's runtime is not imported as runtime2:\n%s", buf.String())
	}
}

// splitVars maps the name of every var declaration in src to its type.
func splitVars(src string) map[string]string {
	out := make(map[string]string)
	for _, decl := range strings.Split(src, "\nvar ")[1:] {
		name, typ, _ := strings.Cut(decl, " ")
		out[name] = strings.TrimSpace(typ)
	}
	return out
}

func TestTypeCodeUnion(t *testing.T) {
	u := types.NewUnion([]*types.Term{
		types.NewTerm(true, types.Typ[types.Int]),
		types.NewTerm(false, types.Typ[types.String]),
	})
	var buf bytes.Buffer
	f := jen.NewFile("p")
	f.Type().Id("C").Interface(typeCode(u, nil))
	if err := f.Render(&buf); err != nil {
		t.Fatal(err)
	}
	if want := "type C interface {\n\t~int | string\n}"; !strings.Contains(buf.String(), want) {
		t.Errorf("got\n%s\nwant it to contain\n%s", buf.String(), want)
	}
}

func TestImportPath(t *testing.T) {
	for path, want := range map[string]string{
		"github.com/x/y":                       "github.com/x/y",
		"example.com/m/vendor/github.com/x/y":  "github.com/x/y",
		"example.com/m/vendor/a/vendor/b.io/c": "b.io/c",
		"vendor/golang.org/x/net/http2":        "golang.org/x/net/http2",
	} {
		if got := importPath(types.NewPackage(path, "y")); got != want {
			t.Errorf("importPath(%q) = %q, want %q", path, got, want)
		}
	}
}
