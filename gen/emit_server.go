package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// Names of the server side of service X and its method M. Unexported names
// follow grpc-go's _X_M_Kind pattern, which user code does not use.
func (s *service) registerName() string         { return "Register" + s.name + "Server" }
func (s *service) descName() string             { return "_" + s.name + "_ServiceDesc" }
func (s *service) handlerName(m *method) string { return "_" + s.name + "_" + m.name + "_Handler" }

// server emits the register function, the service descriptor and one
// handler per method.
func (e *emitter) server() []decl {
	decls := []decl{e.register(), e.serviceDesc()}
	for _, m := range e.s.methods {
		decls = append(decls, e.handler(m))
	}
	return decls
}

// register emits
//
//	// RegisterSessionRemoteServer registers impl on r to serve service
//	// sys.sessionRemote.
//	func RegisterSessionRemoteServer(r runtime.Registrar, impl SessionRemote) {
//		r.RegisterService(&_SessionRemote_ServiceDesc, impl)
//	}
func (e *emitter) register() decl {
	s := e.s
	sig := e.signature(nil, s.registerName(), []jen.Code{jen.Id("r").Add(e.runtime("Registrar")), jen.Id("impl").Id(s.name)}, nil)
	code := doc(fmt.Sprintf("%s registers impl on r to serve service %s.", s.registerName(), s.route)).
		Add(sig).Block(
		e.call(1, func() *jen.Statement { return jen.Id("r").Dot("RegisterService") },
			[]jen.Code{jen.Op("&").Id(s.descName()), jen.Id("impl")}),
	)
	return e.declares(code, s.registerName(), "the register function of "+s.name)
}

// serviceDesc emits the descriptor that tells a registrar each method's
// route, how to make its arguments and result (both in one allocation, for a
// method with a result), and its handler:
//
//	// _SessionRemote_ServiceDesc describes service sys.sessionRemote to a
//	// [runtime.Registrar].
//	var _SessionRemote_ServiceDesc = runtime.ServiceDesc{
//		Name: "sys.sessionRemote",
//		Methods: []runtime.MethodDesc{
//			{
//				Route:   SessionRemoteBindRoute,
//				NewArgs: func() any { return &_SessionRemote_Bind_Args{} },
//				Handler: _SessionRemote_Bind_Handler,
//			},
//			{
//				Route:     SessionRemoteGetBackendSessionBySidRoute,
//				NewArgs:   func() any { return &_SessionRemote_GetBackendSessionBySid_Args{} },
//				NewResult: func() any { return &_SessionRemote_GetBackendSessionBySid_Result{} },
//				NewCall: func() (any, any) {
//					c := &_SessionRemote_GetBackendSessionBySid_Call{}
//					return &c.args, &c.result
//				},
//				Handler: _SessionRemote_GetBackendSessionBySid_Handler,
//			},
//			...
//		},
//	}
func (e *emitter) serviceDesc() decl {
	s := e.s
	methods := make([]jen.Code, len(s.methods))
	for i, m := range s.methods {
		key := "NewArgs"
		if m.result != nil {
			key = "NewResult"
		}
		// Three tabs in, after the aligned keys.
		indent := 3*tabColumns + len(key+": ")
		elems := []jen.Code{
			field("Route", jen.Id(s.routeName(m))),
			field("NewArgs", newFunc(s.argsName(m), indent)),
		}
		if m.result != nil {
			elems = append(elems,
				field("NewResult", newFunc(s.resultName(m), indent)),
				field("NewCall", newCallFunc(s.callName(m))))
		}
		elems = append(elems, field("Handler", jen.Id(s.handlerName(m))))
		methods[i] = multiline(elems...)
	}
	code := doc(fmt.Sprintf("%s describes service %s to a [%s.Registrar].", s.descName(), s.route, e.rt)).
		Var().Id(s.descName()).Op("=").Add(e.runtime("ServiceDesc")).Add(multiline(
		field("Name", jen.Lit(s.route)),
		field("Methods", jen.Index().Add(e.runtime("MethodDesc")).Add(multiline(methods...))),
	))
	return e.declares(code, s.descName(), "the service descriptor of "+s.name)
}

// newFunc writes func() any { return &T{} }, as a composite literal's
// element value starting at column indent: on one line when it fits, else
// on three. (Not new(T): a package may declare a func new of its own.)
func newFunc(typeName string, indent int) jen.Code {
	ret := jen.Return(jen.Op("&").Id(typeName).Values())
	body := jen.Custom(jen.Options{Open: "{", Close: "}"}, ret)
	if indent+columns("func() any { return &"+typeName+"{} },") > maxColumns {
		body = jen.Block(ret)
	}
	return jen.Func().Params().Any().Add(body)
}

// newCallFunc writes
//
//	func() (any, any) {
//		c := &_X_M_Call{}
//		return &c.args, &c.result
//	}
//
// the arguments and the result of one call in one allocation, which a
// registrar prefers to NewArgs and NewResult.
func newCallFunc(typeName string) jen.Code {
	return jen.Func().Params().Params(jen.Any(), jen.Any()).Block(
		jen.Id("c").Op(":=").Op("&").Id(typeName).Values(),
		jen.Return(jen.Op("&").Id("c").Dot("args"), jen.Op("&").Id("c").Dot("result")),
	)
}

// handler emits the function that calls m on an implementation with decoded
// arguments and stores its result:
//
//	func _SessionRemote_GetBackendSessionBySid_Handler(
//		ctx context.Context, impl, args, result any,
//	) (err error) {
//		a := args.(*_SessionRemote_GetBackendSessionBySid_Args)
//		r := result.(*_SessionRemote_GetBackendSessionBySid_Result)
//		r.R0, err = impl.(SessionRemote).GetBackendSessionBySid(ctx, a.A0)
//		return err
//	}
//
// A method without a result returns what the implementation returns.
func (e *emitter) handler(m *method) decl {
	s := e.s
	// The body names the interface, which a local of the same name would
	// hide: such a local takes another name.
	v := func(name string) *jen.Statement {
		if name == s.name {
			name += "2"
		}
		return jen.Id(name)
	}
	var body []jen.Code
	args := []jen.Code{v("ctx")}
	if len(m.params) > 0 {
		body = append(body, v("a").Op(":=").Add(v("args")).Assert(jen.Op("*").Id(s.argsName(m))))
		for i := range m.params {
			arg := v("a").Dot(argField(i))
			if isVariadicLast(m, i) {
				arg.Op("...")
			}
			args = append(args, arg)
		}
	}
	impl := func() *jen.Statement { return v("impl").Assert(jen.Id(s.name)).Dot(m.name) }
	params := []jen.Code{
		v("ctx").Add(e.context()),
		jen.List(v("impl"), v("args"), v("result")).Any(),
	}
	var code *jen.Statement
	if m.result == nil {
		body = append(body, e.call(1, func() *jen.Statement { return jen.Return(impl()) }, args))
		code = e.signature(nil, s.handlerName(m), params, jen.Error()).Block(body...)
	} else {
		body = append(body,
			v("r").Op(":=").Add(v("result")).Assert(jen.Op("*").Id(s.resultName(m))),
			e.call(1, func() *jen.Statement { return jen.List(v("r").Dot("R0"), v("err")).Op("=").Add(impl()) }, args),
			jen.Return(v("err")),
		)
		code = e.signature(nil, s.handlerName(m), params, jen.Params(v("err").Error())).Block(body...)
	}
	return e.declares(code, s.handlerName(m), "the handler of "+s.name+"."+m.name)
}
