package otelrpc_test

import (
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
)

// The packages an application builds on must not make it import
// OpenTelemetry: only otelrpc (and what imports it) may.
func TestCoreDoesNotImportOpenTelemetry(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(goruntime.GOROOT(), "bin", "go")
	}
	pkgs := []string{"runtime", "runtime/tcp", "runtime/natsrpc", "session", "sessionremote", "gen", "cmd/rpcgen"}
	for _, p := range pkgs {
		out, err := exec.Command(goTool, "list", "-deps", "github.com/sessionrpc/sessionrpc/"+p).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", p, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "go.opentelemetry.io/") {
				t.Errorf("%s imports %s", p, dep)
			}
		}
	}
}
