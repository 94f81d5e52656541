package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkCheckAndEmit measures the generator without the load, which
// golden's BenchmarkGenerate includes and which the go command dominates:
// annotations, checks and rendering of 10 services of 10 methods.
func BenchmarkCheckAndEmit(b *testing.B) {
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		b.Fatal(err)
	}
	dir, err := os.MkdirTemp("testdata", "_bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		os.RemoveAll(dir)
		os.Remove("testdata") // only if empty
	})
	var src strings.Builder
	src.WriteString("package bench\n\nimport (\n\t\"context\"\n\t\"time\"\n)\n\n// Item is sent around.\ntype Item struct{ ID int64 }\n")
	for s := range 10 {
		fmt.Fprintf(&src, "\n// S%d is a service.\n//\n//rpcgen:service bench.s%d\n//rpcgen:proxy S%dProxy id\ntype S%d interface {\n", s, s, s, s)
		for m := range 10 {
			fmt.Fprintf(&src, "\t// M%d is a method.\n\tM%d(ctx context.Context, id int64, items map[string][]Item, at time.Time, more ...string) ([]*Item, error)\n", m, m)
		}
		src.WriteString("}\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.go"), []byte(src.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		b.Fatal(err)
	}
	pkgs, err := load(Config{Dir: abs, Patterns: []string{"."}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		services, errs := parsePackage(pkgs[0])
		errs = append(errs, validatePackages(pkgs, services)...)
		if len(errs) > 0 || len(services) != 10 {
			b.Fatalf("%d services, errors: %v", len(services), errs)
		}
		for _, s := range services {
			if _, err := emitFile(s, false); err != nil {
				b.Fatal(err)
			}
		}
	}
}
