// Package golden holds the generator's regression tests: every directory
// under testdata is a package to generate code for (except testdata/internal,
// which holds packages the cases import), and the .golden files beside it are
// what rpcgen must produce:
//
//   - x_rpc.go.golden: the generated file x_rpc.go;
//   - orphans.golden: the generated files the generator finds orphaned;
//   - warnings.golden: the warnings of a case that rpcgen accepts with
//     warnings;
//   - error.golden: for a case rpcgen must reject, its exact error output.
//
// Run go test ./golden -update to rewrite them after a deliberate change, and
// review the diff.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/gen"
)

var update = flag.Bool("update", false, "rewrite the .golden files with the generator's output")

// goldenSuffix marks expected output, so that the go tool and gofmt leave the
// files alone.
const goldenSuffix = ".golden"

// cases returns the names of the case directories, sorted.
func cases(t testing.TB) []string {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "internal" && !strings.HasPrefix(e.Name(), "_") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	if len(names) < 14 {
		t.Fatalf("found %d cases in testdata, want at least 14", len(names))
	}
	return names
}

// isRejected reports whether the case must fail, with error.golden.
func isRejected(name string) bool {
	_, err := os.Stat(filepath.Join("testdata", name, "error"+goldenSuffix))
	return err == nil
}

// generate runs the generator on one case and returns its output as golden
// files: base name → content.
func generate(t testing.TB, name string) (map[string]string, error) {
	dir := filepath.Join("testdata", name)
	out, err := gen.Generate(gen.Config{Dir: dir, Patterns: []string{"."}})
	if err != nil {
		return nil, err
	}
	files := make(map[string]string)
	for path, src := range out.Files {
		if filepath.Dir(path) != mustAbs(t, dir) {
			t.Errorf("%s generated outside the case directory", path)
		}
		files[filepath.Base(path)+goldenSuffix] = string(src)
	}
	if len(out.Orphans) > 0 {
		var b strings.Builder
		for _, o := range out.Orphans {
			b.WriteString(filepath.Base(o) + "\n")
		}
		files["orphans"+goldenSuffix] = b.String()
	}
	if len(out.Warnings) > 0 {
		files["warnings"+goldenSuffix] = out.Warnings.Error() + "\n"
	}
	return files, nil
}

func TestGolden(t *testing.T) {
	for _, name := range cases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("testdata", name)
			got, err := generate(t, name)
			if isRejected(name) {
				if err == nil {
					t.Fatalf("generated %d files, want an error", len(got))
				}
				// The CLI prints exactly this.
				got = map[string]string{"error" + goldenSuffix: err.Error() + "\n"}
			} else if err != nil {
				t.Fatalf("unexpected error:\n%v", err)
			}
			want := readGoldens(t, dir)
			if *update {
				writeGoldens(t, dir, want, got)
				return
			}
			for _, f := range sortedKeys(want) {
				if _, ok := got[f]; !ok {
					t.Errorf("%s: expected, not generated", f)
				}
			}
			for _, f := range sortedKeys(got) {
				w, ok := want[f]
				if !ok {
					t.Errorf("%s: generated, not expected (run go test -update to accept it)", f)
					continue
				}
				if diff := cmp.Diff(w, got[f]); diff != "" {
					t.Errorf("%s differs (-want +got):\n%s", f, diff)
				}
			}
		})
	}
}

// TestDeterministic generates every accepted case twice, all in one load,
// and requires identical bytes.
func TestDeterministic(t *testing.T) {
	var patterns []string
	for _, name := range cases(t) {
		if !isRejected(name) {
			patterns = append(patterns, "./"+name)
		}
	}
	cfg := gen.Config{Dir: "testdata", Patterns: patterns}
	first, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	second, err := gen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Files) < len(patterns) {
		t.Fatalf("generated %d files for %d packages", len(first.Files), len(patterns))
	}
	if len(first.Files) != len(second.Files) {
		t.Fatalf("generated %d files, then %d", len(first.Files), len(second.Files))
	}
	for path, src := range first.Files {
		if !bytes.Equal(src, second.Files[path]) {
			t.Errorf("%s: second run differs:\n%s", path, cmp.Diff(string(src), string(second.Files[path])))
		}
	}
	if !slices.Equal(first.Orphans, second.Orphans) {
		t.Errorf("orphans: %v, then %v", first.Orphans, second.Orphans)
	}
}

// readGoldens reads the .golden files of dir, with \r\n read as \n so that
// a checkout that rewrote line endings fails no test.
func readGoldens(t testing.TB, dir string) map[string]string {
	matches, err := filepath.Glob(filepath.Join(dir, "*"+goldenSuffix))
	if err != nil {
		t.Fatal(err)
	}
	files := make(map[string]string)
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(m)] = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	return files
}

// writeGoldens makes the .golden files of dir those of got.
func writeGoldens(t testing.TB, dir string, old, got map[string]string) {
	for f := range old {
		if _, ok := got[f]; !ok {
			if err := os.Remove(filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for f, content := range got {
		if old[f] == content {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", filepath.Join(dir, f))
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func mustAbs(t testing.TB, path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
