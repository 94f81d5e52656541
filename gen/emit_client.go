package gen

import (
	"fmt"
	"slices"

	"github.com/dave/jennifer/jen"
)

// client declares the client type, its constructor and one method per
// service method.
func (e *emitter) client() []jen.Code {
	s := e.s
	decls := []jen.Code{e.clientType(), e.clientConstructor()}
	for _, m := range s.methods {
		decls = append(decls, e.clientMethod(m))
	}
	return decls
}

func (e *emitter) clientType() jen.Code {
	s := e.s
	return doc(fmt.Sprintf("%s calls service %s on any server, through a [%s.Invoker].", s.clientName(), s.route, e.rt)).
		Type().Id(s.clientName()).Struct(
		jen.Id("inv").Add(e.runtime("Invoker")),
	)
}

func (e *emitter) clientConstructor() jen.Code {
	s := e.s
	return doc(fmt.Sprintf("%s returns a client of service %s that sends its calls through inv.", s.newClientName(), s.route)).
		Func().Id(s.newClientName()).Params(jen.Id("inv").Add(e.runtime("Invoker"))).Op("*").Id(s.clientName()).Block(
		jen.Return(jen.Op("&").Id(s.clientName()).Values(field("inv", jen.Id("inv")))),
	)
}

// clientMethod declares the client's stub of m: it packs the arguments and
// hands them to the invoker with m's route.
func (e *emitter) clientMethod(m *method) jen.Code {
	s := e.s
	lines := wrap(fmt.Sprintf("%s calls [%s.%s] on server serverID, through route %s.", m.name, s.name, m.name, m.route))
	if len(m.doc) > 0 {
		lines = append(slices.Clone(m.doc), "", fmt.Sprintf("It calls route %s on server serverID.", m.route))
	}
	params := append([]jen.Code{jen.Id("ctx").Add(e.context()), jen.Id("serverID").String()}, e.params(m, 0)...)
	invoke := func(result jen.Code) *jen.Statement {
		return jen.Id("c").Dot("inv").Dot("Invoke").Call(jen.Id("ctx"), jen.Id("serverID"), jen.Id(s.routeName(m)), e.argsValue(m, true), result)
	}
	var body []jen.Code
	if m.result == nil {
		body = []jen.Code{jen.Return(invoke(jen.Nil()))}
	} else {
		// Both escape through the Invoker: one allocation holds them.
		body = []jen.Code{
			jen.Id("out").Op(":=").Op("&").Id(s.callName(m)).Values(field("args", e.argsValue(m, false))),
			jen.Err().Op(":=").Add(jen.Id("c").Dot("inv").Dot("Invoke").Call(jen.Id("ctx"), jen.Id("serverID"), jen.Id(s.routeName(m)),
				jen.Op("&").Id("out").Dot("args"), jen.Op("&").Id("out").Dot("result"))),
			jen.Return(jen.Id("out").Dot("result").Dot("R0"), jen.Err()),
		}
	}
	return comment(lines...).
		Func().Params(jen.Id("c").Op("*").Id(s.clientName())).Id(m.name).Params(params...).Add(e.results(m)).Block(body...)
}

// argsValue writes _X_M_Args{A0: a0, A1: a1, ...}, with & before it when
// addr is set.
func (e *emitter) argsValue(m *method, addr bool) *jen.Statement {
	elems := make([]jen.Code, len(m.params))
	for i := range m.params {
		elems[i] = field(argField(i), jen.Id(argVar(i)))
	}
	v := jen.Id(e.s.argsName(m)).Values(elems...)
	if addr {
		return jen.Op("&").Add(v)
	}
	return v
}
