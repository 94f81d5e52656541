package golden

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompile builds and vets every golden output together with the input it
// was generated from, and runs the round-trip tests that some cases have
// (testdata/<case>/*_test.go, which call the generated code through the
// runtime's in-process transport).
//
// Nothing is written into testdata: an overlay (go help build, -overlay) tells
// the go command that testdata/<case>/x_rpc.go has the content of
// x_rpc.go.golden, and that the files of orphans.golden are gone, as rpcgen
// would leave the directory. A stale x_rpc.go on disk is replaced by the
// overlay the same way. All cases go to one go build, one go vet and one go
// test, so the test costs three go commands whatever the number of cases.
func TestCompile(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	overlay := map[string]string{}
	var pkgs, tested []string
	for _, name := range cases(t) {
		if isRejected(name) {
			continue
		}
		dir := mustAbs(t, filepath.Join("testdata", name))
		goldens, err := filepath.Glob(filepath.Join(dir, "*_rpc.go"+goldenSuffix))
		if err != nil {
			t.Fatal(err)
		}
		if len(goldens) == 0 {
			t.Fatalf("%s: no *_rpc.go%s", name, goldenSuffix)
		}
		for _, g := range goldens {
			overlay[strings.TrimSuffix(g, goldenSuffix)] = g
		}
		for _, orphan := range readLines(t, filepath.Join(dir, "orphans"+goldenSuffix)) {
			overlay[filepath.Join(dir, orphan)] = "" // deleted
		}
		pkgs = append(pkgs, "./testdata/"+name)
		if tests, _ := filepath.Glob(filepath.Join(dir, "*_test.go")); len(tests) > 0 {
			tested = append(tested, "./testdata/"+name)
		}
	}
	b, err := json.Marshal(map[string]any{"Replace": overlay})
	if err != nil {
		t.Fatal(err)
	}
	overlayFile := filepath.Join(t.TempDir(), "overlay.json")
	if err := os.WriteFile(overlayFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(goTool, args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// go build compiles every package, go vet also checks the test files.
	run(append([]string{"build", "-overlay=" + overlayFile}, pkgs...)...)
	run(append([]string{"vet", "-overlay=" + overlayFile}, pkgs...)...)
	if len(tested) > 0 {
		run(append([]string{"test", "-count=1", "-vet=off", "-overlay=" + overlayFile}, tested...)...)
	}
}

// readLines returns the lines of a file that may not exist.
func readLines(t testing.TB, path string) []string {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := strings.TrimSpace(s.Text()); line != "" {
			lines = append(lines, line)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}
