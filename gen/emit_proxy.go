package gen

import (
	"fmt"
	"slices"

	"github.com/dave/jennifer/jen"
)

// proxies declares, for every //rpcgen:proxy, the bound type, its
// constructor and its methods.
func (e *emitter) proxies() []jen.Code {
	var decls []jen.Code
	for _, px := range e.s.proxies {
		decls = append(decls, e.proxyType(px), e.proxyConstructor(px))
		for _, m := range px.methods {
			decls = append(decls, e.proxyMethod(px, m))
		}
	}
	return decls
}

func (e *emitter) proxyType(px *proxy) jen.Code {
	s := e.s
	return doc(fmt.Sprintf("%s calls service %s on one server for one %s: its methods are those of [%s] whose first parameter after ctx is %s.",
		px.name, s.route, px.param, s.name, px.param)).
		Type().Id(px.name).Struct(
		jen.Id("c").Op("*").Id(s.clientName()),
		jen.Id("serverID").String(),
		jen.Id("key").Add(e.typ(px.keyType)),
	)
}

func (e *emitter) proxyConstructor(px *proxy) jen.Code {
	s := e.s
	return doc(fmt.Sprintf("%s returns a proxy that calls server serverID about key through c.", px.newName())).
		Func().Id(px.newName()).Params(
		jen.Id("c").Op("*").Id(s.clientName()),
		jen.Id("serverID").String(),
		jen.Id("key").Add(e.typ(px.keyType)),
	).Id(px.name).Block(
		jen.Return(jen.Id(px.name).Values(
			field("c", jen.Id("c")),
			field("serverID", jen.Id("serverID")),
			field("key", jen.Id("key")),
		)),
	)
}

// proxyMethod declares the proxy's stub of m: the client's, with the server
// and the first argument filled in.
func (e *emitter) proxyMethod(px *proxy, m *method) jen.Code {
	s := e.s
	lines := wrap(fmt.Sprintf("%s calls [%s.%s] on the proxy's server for the proxy's %s, through route %s.", m.name, s.name, m.name, px.param, m.route))
	if len(m.doc) > 0 {
		lines = append(slices.Clone(m.doc), "", fmt.Sprintf("It calls route %s on the proxy's server, for the proxy's %s.", m.route, px.param))
	}
	key := jen.Id("p").Dot("key")
	if m.variadic && len(m.params) == 1 {
		key.Op("...")
	}
	args := []jen.Code{jen.Id("ctx"), jen.Id("p").Dot("serverID"), key}
	for i := 1; i < len(m.params); i++ {
		arg := jen.Id(argVar(i))
		if m.variadic && i == len(m.params)-1 {
			arg.Op("...")
		}
		args = append(args, arg)
	}
	params := append([]jen.Code{jen.Id("ctx").Add(e.context())}, e.params(m, 1)...)
	return comment(lines...).
		Func().Params(jen.Id("p").Id(px.name)).Id(m.name).Params(params...).Add(e.results(m)).Block(
		jen.Return(jen.Id("p").Dot("c").Dot(m.name).Call(args...)),
	)
}
