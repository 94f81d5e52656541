// Rpcgen generates typed clients, server dispatch and proxies for Go
// interfaces annotated with //rpcgen:service.
//
// Usage:
//
//	rpcgen [-tags t] [-check] [-nofmt] <packages>
//
// Packages are patterns as the go command takes them, relative to the current
// directory: write ./sessionremote, not sessionremote, which the go command
// takes for an import path and looks for in the standard library (rpcgen
// adds the hint when a directory of that name exists). For every annotated
// interface X it writes x_rpc.go beside
// the file that declares X, rewriting a file only when its content changes,
// and it removes generated files whose interface is gone. In a package
// directory:
//
//	//go:generate go run github.com/sessionrpc/sessionrpc/cmd/rpcgen .
//
// or, with rpcgen as a tool of the module (go get -tool
// github.com/sessionrpc/sessionrpc/cmd/rpcgen):
//
//	//go:generate go tool rpcgen .
//
// Packages are loaded with the build tag rpcgen, and every generated file
// has the constraint //go:build !rpcgen, so that a generated file that no longer
// compiles never stands in the way of regenerating it. A generated file also
// carries the build constraint of the file that declares its interface.
//
// With -check it writes nothing: it lists the generated files that are out of
// date, missing or orphaned, and exits 1 if there are any, for CI. Errors are
// reported as file:line: message, with exit status 1; bad usage exits 2.
//
// A run that finds nothing to generate says why on stderr, as a warning that
// does not change the exit status: a package named on the command line has
// no annotated interface, no package a ... pattern matches has one (packages
// without one among others that have one are fine: that is ./... in CI), or
// an annotated interface is in a _test.go file, which rpcgen does not load.
// A directive rpcgen would not read, such as one separated from its
// interface by a blank line, is an error.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sessionrpc/sessionrpc/gen"
)

func main() {
	tags := flag.String("tags", "", "comma-separated extra build `tags` to load the packages with")
	check := flag.Bool("check", false, "write nothing; list out-of-date, missing and orphaned files and exit 1 if there are any")
	noFmt := flag.Bool("nofmt", false, "do not gofmt the generated code (to debug rpcgen)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: rpcgen [-tags t] [-check] [-nofmt] <packages>\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	out, err := gen.Generate(gen.Config{
		Patterns: flag.Args(),
		Tags:     strings.FieldsFunc(*tags, func(r rune) bool { return r == ',' || r == ' ' }),
		NoFormat: *noFmt,
	})
	if err != nil {
		var list gen.ErrorList
		if !errors.As(err, &list) {
			err = fmt.Errorf("rpcgen: %w", err)
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, w := range out.Warnings {
		fmt.Fprintln(os.Stderr, w)
	}
	if *check {
		if n := checkFiles(out); n > 0 {
			what := "files need"
			if n == 1 {
				what = "file needs"
			}
			fmt.Fprintf(os.Stderr, "rpcgen: %d generated %s updating: run go generate\n", n, what)
			os.Exit(1)
		}
		return
	}
	if err := writeFiles(out); err != nil {
		fmt.Fprintln(os.Stderr, "rpcgen:", err)
		os.Exit(1)
	}
}

// checkFiles lists the files that differ from what would be generated and
// returns how many there are.
func checkFiles(out *gen.Output) int {
	n := 0
	for _, path := range sortedKeys(out.Files) {
		old, err := os.ReadFile(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			fmt.Fprintf(os.Stderr, "%s: missing\n", rel(path))
		case err != nil:
			fmt.Fprintf(os.Stderr, "%s: %v\n", rel(path), err)
		case !bytes.Equal(old, out.Files[path]):
			fmt.Fprintf(os.Stderr, "%s: out of date\n", rel(path))
		default:
			continue
		}
		n++
	}
	for _, path := range out.Orphans {
		fmt.Fprintf(os.Stderr, "%s: orphaned: its interface is gone\n", rel(path))
		n++
	}
	return n
}

// writeFiles writes the files whose content changed and removes the orphans.
func writeFiles(out *gen.Output) error {
	for _, path := range sortedKeys(out.Files) {
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, out.Files[path]) {
			continue
		}
		if err := writeAtomic(path, out.Files[path]); err != nil {
			return err
		}
	}
	for _, path := range out.Orphans {
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	return nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory, so that readers see the old file or the new one, never half of
// one.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// rel shows path relative to the current directory when it can.
func rel(path string) string {
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, path); err == nil {
			return r
		}
	}
	return path
}
