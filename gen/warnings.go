package gen

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

// A run that generates nothing is often a mistake: the warnings here say
// why rpcgen found nothing where it was asked to look.

// warnf returns a warning at pos.
func warnf(pos token.Position, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: "warning: " + fmt.Sprintf(format, args...)}
}

// packageDir returns the directory of p, or "" if it has none.
func packageDir(p *packages.Package) string {
	if p.Dir != "" {
		return p.Dir
	}
	for _, files := range [][]string{p.GoFiles, p.IgnoredFiles, p.OtherFiles} {
		if len(files) > 0 {
			return filepath.Dir(files[0])
		}
	}
	return ""
}

// testFileServices warns about //rpcgen:service directives in the _test.go
// files of pkgs: rpcgen does not load test files (a generated file could
// not use a type that only tests declare), so it generates nothing for
// them. It also returns the packages it warned about.
func testFileServices(pkgs []*packages.Package) (ErrorList, map[*packages.Package]bool) {
	var warns ErrorList
	warned := make(map[*packages.Package]bool)
	fset := token.NewFileSet()
	for _, p := range pkgs {
		dir := packageDir(p)
		if dir == "" {
			continue
		}
		tests, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		for _, path := range tests {
			f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				continue // the go command reports it when the tests build
			}
			names := make(map[*ast.CommentGroup]string)
			for _, decl := range f.Decls {
				if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
					for _, spec := range gd.Specs {
						ts := spec.(*ast.TypeSpec)
						names[ts.Doc] = ts.Name.Name
						if len(gd.Specs) == 1 && gd.Doc != nil {
							names[gd.Doc] = ts.Name.Name
						}
					}
				}
			}
			for _, cg := range f.Comments {
				for _, c := range cg.List {
					if !strings.HasPrefix(c.Text, "//rpcgen:service") {
						continue
					}
					what := fmt.Sprintf("%q", c.Text)
					if name := names[cg]; name != "" {
						what = name
					}
					warns = append(warns, warnf(fset.Position(c.Slash),
						"%s: annotated interface in a _test.go file; rpcgen loads no test files, so it generates nothing for it", what))
					warned[p] = true
				}
			}
		}
	}
	return warns, warned
}

// unannotated warns about patterns of cfg that lead to no annotated
// interface: a package named on its own that has none, or a ... pattern of
// which no package has one. A ... pattern whose other packages have
// annotated interfaces is quiet about those that have none: that is the
// rpcgen -check ./... of CI. Packages in explained have had their warning
// already.
func unannotated(cfg Config, pkgs []*packages.Package, services []*service, explained map[*packages.Package]bool) ErrorList {
	annotated := make(map[*packages.Package]bool)
	maps.Copy(annotated, explained)
	for _, s := range services {
		annotated[s.pkg] = true
	}
	var warns ErrorList
	for _, pattern := range cfg.Patterns {
		match := patternMatcher(cfg.Dir, pattern)
		if match == nil {
			continue
		}
		var matched []*packages.Package
		for _, p := range pkgs {
			if match(p) {
				matched = append(matched, p)
			}
		}
		if slices.ContainsFunc(matched, func(p *packages.Package) bool { return annotated[p] }) {
			continue
		}
		switch {
		case len(matched) == 0 && strings.Contains(pattern, "..."):
			warns = append(warns, warnf(token.Position{}, "pattern %s matches no packages: nothing to generate", pattern))
		case strings.Contains(pattern, "..."):
			warns = append(warns, warnf(token.Position{}, "no package matched by %s has an //rpcgen:service interface: nothing to generate", pattern))
		default:
			for _, p := range matched {
				warns = append(warns, warnf(packagePos(p), "package %s has no //rpcgen:service interface: nothing to generate", p.Name))
			}
		}
	}
	return warns
}

// packagePos returns the position of the package clause of p's first file,
// or p's directory.
func packagePos(p *packages.Package) token.Position {
	if len(p.Syntax) > 0 {
		return p.Fset.Position(p.Syntax[0].Package)
	}
	return token.Position{Filename: packageDir(p)}
}

// patternMatcher returns a function that reports whether a loaded package
// matches pattern, as the go command matches it: a directory when the
// pattern is a relative or absolute path, an import path otherwise, with
// ... matching any string (and x/... matching x). It returns nil for the
// go command's special patterns (all, std, cmd, tool, work).
func patternMatcher(dir, pattern string) func(*packages.Package) bool {
	switch pattern {
	case "all", "std", "cmd", "tool", "work":
		return nil
	}
	if build.IsLocalImport(pattern) || filepath.IsAbs(pattern) {
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(dir, pattern)
		}
		match := matchPattern(filepath.ToSlash(pattern))
		return func(p *packages.Package) bool {
			d := packageDir(p)
			return d != "" && match(filepath.ToSlash(d))
		}
	}
	match := matchPattern(pattern)
	return func(p *packages.Package) bool { return match(p.PkgPath) }
}

// matchPattern returns a function that reports whether a slash-separated
// name matches pattern, in which ... matches any string.
func matchPattern(pattern string) func(string) bool {
	re := regexp.QuoteMeta(pattern)
	if strings.HasSuffix(re, `/\.\.\.`) {
		re = strings.TrimSuffix(re, `/\.\.\.`) + `(/\.\.\.)?`
	}
	re = strings.ReplaceAll(re, `\.\.\.`, `.*`)
	return regexp.MustCompile(`^` + re + `$`).MatchString
}

// hintLocal adds a hint to the errors of packages that a pattern named by
// import path when a directory of that name exists: rpcgen room means the
// import path room, which is no package of the standard library, not the
// directory ./room.
func hintLocal(cfg Config, pkgs []*packages.Package) {
	for _, p := range pkgs {
		if len(p.Errors) == 0 || !slices.Contains(cfg.Patterns, p.PkgPath) || build.IsLocalImport(p.PkgPath) {
			continue
		}
		if fi, err := os.Stat(filepath.Join(cfg.Dir, filepath.FromSlash(p.PkgPath))); err != nil || !fi.IsDir() {
			continue
		}
		for i := range p.Errors {
			p.Errors[i].Msg += fmt.Sprintf("; to name the directory %s, write ./%s", p.PkgPath, p.PkgPath)
		}
	}
}
