package golden

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sessionrpc/sessionrpc/gen"
)

// BenchmarkGenerate runs the whole generator — load, check, emit, gofmt — on
// a package of 10 services of 10 methods each. The package is written to a
// temporary directory inside the module (under testdata, whose _-prefixed
// directories the go command's ./... skips), since loading needs the module.
// The first load warms the go command's caches; the benchmark measures warm
// runs.
func BenchmarkGenerate(b *testing.B) {
	dir, err := os.MkdirTemp("testdata", "_bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(dir+"/services.go", []byte(benchPackage(10, 10)), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg := gen.Config{Dir: dir, Patterns: []string{"."}}
	out, err := gen.Generate(cfg) // warm up
	if err != nil {
		b.Fatal(err)
	}
	if len(out.Files) != 10 {
		b.Fatalf("generated %d files, want 10", len(out.Files))
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := gen.Generate(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPackage returns the source of a package with services annotated
// interfaces of methods methods each, of varied shapes.
func benchPackage(services, methods int) string {
	var b strings.Builder
	b.WriteString("package bench\n\nimport (\n\t\"context\"\n\t\"time\"\n\n\t\"github.com/sessionrpc/sessionrpc/golden/testdata/internal/session\"\n)\n\n")
	b.WriteString("// Item is sent around.\ntype Item struct {\n\tID   int64\n\tTags []string\n}\n")
	for s := range services {
		fmt.Fprintf(&b, "\n// Service%d is service number %d.\n//\n//rpcgen:service bench.service%d\n//rpcgen:proxy Service%dProxy sid\ntype Service%d interface {\n", s, s, s, s, s)
		for m := range methods {
			fmt.Fprintf(&b, "\t// Method%d is method number %d.\n", m, m)
			switch m % 4 {
			case 0:
				fmt.Fprintf(&b, "\tMethod%d(ctx context.Context, sid session.ID, uid string) error\n", m)
			case 1:
				fmt.Fprintf(&b, "\tMethod%d(ctx context.Context, sid session.ID) (*session.Info, error)\n", m)
			case 2:
				fmt.Fprintf(&b, "\tMethod%d(ctx context.Context, items map[string][]Item, at time.Time) ([]Item, error)\n", m)
			case 3:
				fmt.Fprintf(&b, "\tMethod%d(ctx context.Context, sid session.ID, ids ...int64) (map[int64]*Item, error)\n", m)
			}
		}
		b.WriteString("}\n")
	}
	return b.String()
}
