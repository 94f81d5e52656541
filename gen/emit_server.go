package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// server declares the register function, the service descriptor and one
// handler per method.
func (e *emitter) server() []jen.Code {
	decls := []jen.Code{e.register(), e.serviceDesc()}
	for _, m := range e.s.methods {
		decls = append(decls, e.handler(m))
	}
	return decls
}

func (e *emitter) register() jen.Code {
	s := e.s
	return doc(fmt.Sprintf("%s registers impl on r to serve service %s.", s.registerName(), s.route)).
		Func().Id(s.registerName()).Params(jen.Id("r").Add(e.runtime("Registrar")), jen.Id("impl").Id(s.name)).Block(
		jen.Id("r").Dot("RegisterService").Call(jen.Op("&").Id(s.descName()), jen.Id("impl")),
	)
}

// serviceDesc declares the descriptor that tells a registrar each method's
// route, how to make its arguments and result, and its handler.
func (e *emitter) serviceDesc() jen.Code {
	s := e.s
	methods := make([]jen.Code, len(s.methods))
	for i, m := range s.methods {
		elems := []jen.Code{
			field("Route", jen.Id(s.routeName(m))),
			field("NewArgs", newFunc(s.argsName(m))),
		}
		if m.result != nil {
			elems = append(elems, field("NewResult", newFunc(s.resultName(m))))
			elems = append(elems, field("NewCall", newCallFunc(s.callName(m))))
		}
		elems = append(elems, field("Handler", jen.Id(s.handlerName(m))))
		methods[i] = multiline(elems...)
	}
	return doc(fmt.Sprintf("%s describes service %s to a [%s.Registrar].", s.descName(), s.route, e.rt)).
		Var().Id(s.descName()).Op("=").Add(e.runtime("ServiceDesc")).Add(multiline(
		field("Name", jen.Lit(s.route)),
		field("Methods", jen.Index().Add(e.runtime("MethodDesc")).Add(multiline(methods...))),
	))
}

// newFunc writes func() any { return new(T) }.
func newFunc(typeName string) jen.Code {
	body := jen.Custom(jen.Options{Open: "{", Close: "}"}, jen.Return(jen.New(jen.Id(typeName))))
	return jen.Func().Params().Any().Add(body)
}

// newCallFunc writes
//
//	func() (any, any) {
//		c := new(_X_M_Call)
//		return &c.args, &c.result
//	}
func newCallFunc(typeName string) jen.Code {
	return jen.Func().Params().Params(jen.Any(), jen.Any()).Block(
		jen.Id("c").Op(":=").New(jen.Id(typeName)),
		jen.Return(jen.Op("&").Id("c").Dot("args"), jen.Op("&").Id("c").Dot("result")),
	)
}

// handler declares the function that calls m on an implementation with
// decoded arguments and stores its result.
func (e *emitter) handler(m *method) jen.Code {
	s := e.s
	var body []jen.Code
	args := []jen.Code{jen.Id("ctx")}
	if len(m.params) > 0 {
		body = append(body, jen.Id("a").Op(":=").Id("args").Assert(jen.Op("*").Id(s.argsName(m))))
		for i := range m.params {
			arg := jen.Id("a").Dot(argField(i))
			if m.variadic && i == len(m.params)-1 {
				arg.Op("...")
			}
			args = append(args, arg)
		}
	}
	call := jen.Id("impl").Assert(jen.Id(s.name)).Dot(m.name).Call(args...)
	sig := jen.Func().Id(s.handlerName(m)).Params(
		jen.Id("ctx").Add(e.context()),
		jen.List(jen.Id("impl"), jen.Id("args"), jen.Id("result")).Any(),
	)
	if m.result == nil {
		return sig.Error().Block(append(body, jen.Return(call))...)
	}
	body = append(body,
		jen.Id("r").Op(":=").Id("result").Assert(jen.Op("*").Id(s.resultName(m))),
		jen.List(jen.Id("r").Dot("R0"), jen.Err()).Op("=").Add(call),
		jen.Return(jen.Err()),
	)
	return sig.Params(jen.Err().Error()).Block(body...)
}
