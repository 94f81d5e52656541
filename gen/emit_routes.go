package gen

import (
	"fmt"
	"strconv"

	"github.com/dave/jennifer/jen"
)

// versionCheck emits
//
//	// This file needs a runtime that supports generated code of version 2.
//	const _ = runtime.SupportPackageIsVersion2
//
// so that the file fails to compile against a runtime that does not support
// this version of generated code.
func (e *emitter) versionCheck() []decl {
	return []decl{declare(doc("This file needs a runtime that supports generated code of version 2.").
		Const().Id("_").Op("=").Add(e.runtime("SupportPackageIsVersion2")))}
}

// routeName is the constant that holds the route of m: SessionRemoteBindRoute.
func (s *service) routeName(m *method) string { return s.name + m.name + "Route" }

// routeConsts emits the route of every method:
//
//	// Routes of service sys.sessionRemote.
//	const (
//		// SessionRemoteBindRoute is the route of [SessionRemote.Bind].
//		SessionRemoteBindRoute = "sys.sessionRemote.bind"
//		...
//	)
//
// gofmt aligns the values of the block; where that would make a line wider
// than maxColumns, a blank line between the constants stops the alignment.
func (e *emitter) routeConsts() []decl {
	s := e.s
	if len(s.methods) == 0 {
		return nil
	}
	aligned := 0
	for _, m := range s.methods {
		aligned = max(aligned, columns(s.routeName(m)))
	}
	separate := false
	for _, m := range s.methods {
		separate = separate || tabColumns+aligned+len(" = ")+columns(strconv.Quote(m.route)) > maxColumns
	}
	var names []declName
	code := doc("Routes of service " + s.route + ".").Const().DefsFunc(func(g *jen.Group) {
		for i, m := range s.methods {
			if separate && i > 0 {
				g.Line()
			}
			g.Add(doc(fmt.Sprintf("%s is the route of [%s.%s].", s.routeName(m), s.name, m.name)).
				Id(s.routeName(m)).Op("=").Lit(m.route))
			names = append(names, declName{name: s.routeName(m), what: "the route of " + s.name + "." + m.name, pos: s.pos})
		}
	})
	return []decl{{code: code, names: names}}
}
