// Package gen is the rpcgen code generator as a library: it loads Go
// packages, finds the interfaces annotated with //rpcgen:service, checks them,
// and renders one file of typed client, server dispatch and proxies per
// interface. It writes nothing: [Generate] returns the files, and the rpcgen
// command decides what to do with them.
//
// Generated code imports the runtime package,
// github.com/sessionrpc/sessionrpc/runtime; gen itself does not.
package gen

import (
	"cmp"
	"fmt"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
)

// Config says what to generate.
type Config struct {
	// Dir is the directory patterns are relative to and error positions are
	// shown relative to; empty means the current directory.
	Dir string
	// Patterns are package patterns as the go command takes them: ".",
	// "./...", "./sessionremote", or import paths.
	Patterns []string
	// Tags are extra build tags to load the packages with. The rpcgen tag is
	// always set, which keeps generated files out of the load.
	Tags []string
	// NoFormat skips gofmt, for debugging the generator.
	NoFormat bool
}

// Output is the result of a successful [Generate].
type Output struct {
	// Files maps the absolute path of every file to generate to its
	// content, one file per annotated interface.
	Files map[string][]byte
	// Orphans lists, sorted, the absolute paths of existing generated files
	// in the loaded packages whose interface is gone: Files has no entry for
	// them.
	Orphans []string
	// Warnings are what looks like a mistake but need not be one, such as
	// a package named in Patterns that has no annotated interface, in
	// source order. Each message starts with "warning: ".
	Warnings ErrorList
}

// Generate loads the packages of cfg and renders the code of every annotated
// interface in them. Problems in the source come back as an [ErrorList] and
// no files at all; a go command that fails to run comes back as a plain error.
func Generate(cfg Config) (*Output, error) {
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Dir = dir
	pkgs, err := load(cfg)
	if err != nil {
		return nil, err
	}
	hintLocal(cfg, pkgs)
	var errs ErrorList
	var services []*service
	for _, p := range pkgs {
		svcs, perrs := parsePackage(p)
		errs = append(errs, perrs...)
		services = append(services, svcs...)
	}
	errs = append(errs, validatePackages(pkgs, services)...)
	if len(errs) > 0 {
		return nil, errs.relativeTo(dir)
	}
	out := &Output{Files: make(map[string][]byte)}
	for _, s := range services {
		src, err := emitFile(s, cfg.NoFormat)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out.Files[s.outPath] = src
	}
	if len(errs) > 0 {
		return nil, errs.relativeTo(dir)
	}
	out.Orphans = orphans(pkgs, out.Files)
	testWarns, explained := testFileServices(pkgs)
	out.Warnings = slices.Concat(testWarns, unannotated(cfg, pkgs, services, explained)).relativeTo(dir)
	return out, nil
}

// An Error is a problem at a position in the source, such as an interface
// method the generator cannot serve.
type Error struct {
	Pos token.Position // Filename, Line; Column is not shown
	Msg string
}

func (e *Error) Error() string {
	if e.Pos.Filename == "" {
		return e.Msg
	}
	if e.Pos.Line == 0 {
		return e.Pos.Filename + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.Pos.Filename, e.Pos.Line, e.Msg)
}

// ErrorList is every problem [Generate] found, in source order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// relativeTo rewrites absolute file names relative to dir, so that messages
// read the same on every machine, and sorts the list by position.
func (l ErrorList) relativeTo(dir string) ErrorList {
	for _, e := range l {
		if filepath.IsAbs(e.Pos.Filename) {
			if rel, err := filepath.Rel(dir, e.Pos.Filename); err == nil {
				e.Pos.Filename = rel
			}
		}
	}
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(strings.Compare(a.Pos.Filename, b.Pos.Filename), cmp.Compare(a.Pos.Line, b.Pos.Line))
	})
	return l
}

func errorf(pos token.Position, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}
