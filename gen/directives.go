package gen

import (
	"fmt"
	"go/ast"
	"go/token"
	"regexp"
	"strings"

	"golang.org/x/tools/go/packages"
)

// A directive is an //rpcgen:<verb> arg... comment line.
type directive struct {
	verb string
	args []string
	pos  token.Position
}

func (d directive) String() string {
	return strings.Join(append([]string{"//rpcgen:" + d.verb}, d.args...), " ")
}

// A strayDirective is an //rpcgen:method in an interface without
// //rpcgen:service. It is an error unless a service embeds the interface.
type strayDirective struct {
	method token.Position
	err    *Error
}

// methodDirectives returns the //rpcgen:method directives in an interface
// that is not a service, where they do nothing unless a service embeds it.
func methodDirectives(p *packages.Package, it *ast.InterfaceType, name string) []strayDirective {
	var strays []strayDirective
	for _, field := range it.Methods.List {
		if len(field.Names) == 0 {
			continue
		}
		who := name + "." + field.Names[0].Name
		pos := p.Fset.Position(field.Names[0].Pos())
		ds, errs := parseDirectives(p.Fset, field.Doc, who)
		for _, err := range errs {
			strays = append(strays, strayDirective{method: pos, err: err})
		}
		for _, d := range ds {
			err := errorf(d.pos, "%s: %q in an interface that neither is a service nor is embedded in one", who, d)
			strays = append(strays, strayDirective{method: pos, err: err})
		}
	}
	return strays
}

// misspelled matches an rpcgen directive written as a plain comment, which Go
// would not treat as a directive and rpcgen would silently miss.
var misspelled = regexp.MustCompile(`^//\s+rpcgen:|^/\*\s*rpcgen:`)

// parseDirectives returns the //rpcgen: lines of doc. who names the
// declaration in error messages.
func parseDirectives(fset *token.FileSet, doc *ast.CommentGroup, who string) ([]directive, ErrorList) {
	if doc == nil {
		return nil, nil
	}
	var ds []directive
	var errs ErrorList
	for _, c := range doc.List {
		pos := fset.Position(c.Slash)
		text, ok := strings.CutPrefix(c.Text, "//rpcgen:")
		if !ok {
			if misspelled.MatchString(c.Text) {
				errs = append(errs, errorf(pos, "%s: %q is not a directive: write //rpcgen: with no space after the slashes", who, c.Text))
			}
			continue
		}
		if text != "" && (text[0] == ' ' || text[0] == '\t') {
			errs = append(errs, errorf(pos, "%s: %q is not a directive: write //rpcgen:<verb> with no space after the colon", who, c.Text))
			continue
		}
		fs := strings.Fields(text)
		if len(fs) == 0 {
			errs = append(errs, errorf(pos, "%s: empty directive %q", who, c.Text))
			continue
		}
		ds = append(ds, directive{verb: fs[0], args: fs[1:], pos: pos})
	}
	return ds, errs
}

// detachedDirectives reports the //rpcgen: lines of p that rpcgen does not
// read, which would otherwise do nothing, silently: it reads only the doc
// comments of type declarations and of the methods of interface types
// declared at the top level. The usual slip is a blank line between a
// directive and its type, which makes the directive a comment of its own.
func detachedDirectives(p *packages.Package) ErrorList {
	var errs ErrorList
	for _, f := range p.Syntax {
		read := make(map[*ast.CommentGroup]bool)
		docOf := make(map[*ast.CommentGroup]string) // docs rpcgen does not read → what they document
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				docOf[d.Doc] = "func " + d.Name.Name
			case *ast.GenDecl:
				if d.Tok != token.TYPE {
					docOf[d.Doc] = d.Tok.String() + " declaration"
					continue
				}
				if d.Lparen.IsValid() {
					docOf[d.Doc] = "grouped type declaration"
				} else {
					read[d.Doc] = true
				}
				for _, spec := range d.Specs {
					ts := spec.(*ast.TypeSpec)
					read[ts.Doc] = true
					if it, ok := ts.Type.(*ast.InterfaceType); ok {
						for _, field := range it.Methods.List {
							if len(field.Names) > 0 {
								read[field.Doc] = true
							}
						}
					}
				}
			}
		}
		for _, cg := range f.Comments {
			if read[cg] {
				continue
			}
			for _, c := range cg.List {
				if strings.HasPrefix(c.Text, "//rpcgen:") {
					errs = append(errs, errorf(p.Fset.Position(c.Slash), "%s", detachedWhy(f, cg, c.Text, docOf[cg])))
					break
				}
			}
		}
	}
	return errs
}

// detachedWhy says why rpcgen does not read directive, in comment group cg
// of file f, which documents what (or nothing, when what is "").
func detachedWhy(f *ast.File, cg *ast.CommentGroup, directive, what string) string {
	switch what {
	case "grouped type declaration":
		return fmt.Sprintf("%q is on a grouped type declaration, where rpcgen does not read it: put it in the doc comment of the type inside type ( ... )", directive)
	case "":
	default:
		return fmt.Sprintf("%q is in the doc comment of %s, where rpcgen does not read it: rpcgen directives go on interface types and their methods", directive, what)
	}
	// A comment of its own, outside any declaration: is the next one a
	// type, below a blank line?
	for _, decl := range f.Decls {
		if decl.End() <= cg.Pos() {
			continue
		}
		gd, ok := decl.(*ast.GenDecl)
		if !ok || decl.Pos() < cg.End() || gd.Tok != token.TYPE || gd.Lparen.IsValid() {
			break
		}
		name := gd.Specs[0].(*ast.TypeSpec).Name.Name
		if gd.Doc != nil {
			return fmt.Sprintf("%q is separated from the doc comment of type %s by a blank line, so it is not part of it: remove the blank line", directive, name)
		}
		return fmt.Sprintf("%q is separated from type %s by a blank line, so it is not its doc comment: remove the blank line", directive, name)
	}
	return fmt.Sprintf("%q is not in the doc comment of a type or of an interface method, where rpcgen reads directives, so it does nothing", directive)
}
