package runtime_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

// Options are typed by side: passing an option to a side it means nothing
// to does not compile. Each snippet is type-checked as a package of its
// own, through an overlay.
func TestOptionsAreTypedBySide(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(wd, "testdata", "optioncheck") // exists only in the overlay
	cases := []struct {
		code string
		want string // in the type error; empty: it compiles
	}{
		{`runtime.NewClient(nil, runtime.WithCodec(runtime.JSON), runtime.WithDefaultTimeout(time.Second))`, ""},
		{`runtime.NewServer(runtime.WithCodec(runtime.JSON), runtime.WithAdmission(nil))`, ""},
		{`runtime.NewClient(nil, runtime.WithAdmission(nil))`, "ClientOption"},
		{`runtime.NewClient(nil, runtime.WithLogger(nil))`, "ClientOption"},
		{`runtime.NewServer(runtime.WithDefaultTimeout(time.Second))`, "ServerOption"},
		{`tcp.NewTransport(nil, tcp.WithTLS(nil), tcp.WithBackoff(0, 0))`, ""},
		{`tcp.NewTransport(nil, tcp.WithIdleTimeout(time.Second))`, "TransportOption"},
		{`tcp.NewServer(nil, tcp.WithBackoff(0, 0))`, "ServerOption"},
		{`natsrpc.NewTransport(nil, natsrpc.WithMaxConcurrentCalls(1))`, "TransportOption"},
		{`natsrpc.Serve(nil, "s", nil, natsrpc.WithProbeInterval(time.Second))`, "ServerOption"},
	}
	// One file per snippet, one package load for all of them.
	overlay := make(map[string][]byte)
	for i, c := range cases {
		overlay[filepath.Join(dir, fmt.Sprintf("check%d.go", i))] = []byte(fmt.Sprintf(`package optioncheck

import (
	"time"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/runtime/natsrpc"
	"github.com/sessionrpc/sessionrpc/runtime/tcp"
)

var (
	_ = time.Second
	_ = runtime.JSON
	_ = tcp.WithTLS
	_ = natsrpc.WithLogger
)

func f%d() { %s }
`, i, c.code))
	}
	cfg := &packages.Config{
		Mode:    packages.NeedTypes | packages.NeedName,
		Dir:     wd,
		Overlay: overlay,
	}
	pkgs, err := packages.Load(cfg, "./testdata/optioncheck")
	if err != nil {
		t.Fatal(err)
	}
	errs := make(map[string][]string) // by file
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			file, _, _ := strings.Cut(e.Pos, ":")
			errs[filepath.Base(file)] = append(errs[filepath.Base(file)], e.Msg)
		}
	})
	for i, c := range cases {
		got := strings.Join(errs[fmt.Sprintf("check%d.go", i)], "; ")
		switch {
		case c.want == "" && got != "":
			t.Errorf("%s: %s, want it to compile", c.code, got)
		case c.want != "" && !strings.Contains(got, c.want):
			t.Errorf("%s compiles (%q), want a type error naming %s", c.code, got, c.want)
		}
	}
}
