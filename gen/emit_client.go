package gen

import (
	"fmt"
	"slices"

	"github.com/dave/jennifer/jen"
)

// Names of the client of service X.
func (s *service) clientName() string    { return s.name + "Client" }
func (s *service) newClientName() string { return "New" + s.name + "Client" }

// client emits the client type, its constructor and one method per service
// method.
func (e *emitter) client() []decl {
	decls := []decl{e.clientType(), e.clientConstructor()}
	for _, m := range e.s.methods {
		decls = append(decls, declare(e.clientMethod(m)))
	}
	return decls
}

// clientType emits
//
//	// SessionRemoteClient calls service sys.sessionRemote on any server, through a
//	// [runtime.Invoker].
//	type SessionRemoteClient struct {
//		inv runtime.Invoker
//	}
func (e *emitter) clientType() decl {
	s := e.s
	code := doc(fmt.Sprintf("%s calls service %s on any server, through a [%s.Invoker].", s.clientName(), s.route, e.rt)).
		Type().Id(s.clientName()).Struct(
		jen.Id("inv").Add(e.runtime("Invoker")),
	)
	return e.declares(code, s.clientName(), "the client of "+s.name)
}

// clientConstructor emits
//
//	// NewSessionRemoteClient returns a client of service sys.sessionRemote that
//	// sends its calls through inv.
//	func NewSessionRemoteClient(inv runtime.Invoker) *SessionRemoteClient {
//		return &SessionRemoteClient{inv: inv}
//	}
func (e *emitter) clientConstructor() decl {
	s := e.s
	sig := e.signature(nil, s.newClientName(), []jen.Code{jen.Id("inv").Add(e.runtime("Invoker"))}, jen.Op("*").Id(s.clientName()))
	code := doc(fmt.Sprintf("%s returns a client of service %s that sends its calls through inv.", s.newClientName(), s.route)).
		Add(sig).Block(
		jen.Return(jen.Op("&").Id(s.clientName()).Values(field("inv", jen.Id("inv")))),
	)
	return e.declares(code, s.newClientName(), "the client constructor of "+s.name)
}

// clientMethod emits the client's stub of m, with the interface's parameter
// names (see [emitter.paramNames]):
//
//	// Bind binds session sid to user uid.
//	//
//	// It calls route sys.sessionRemote.bind on server serverID.
//	func (c *SessionRemoteClient) Bind(
//		ctx context.Context, serverID string, sid session.ID, uid string,
//	) error {
//		args := &_SessionRemote_Bind_Args{A0: sid, A1: uid}
//		return c.inv.Invoke(ctx, serverID, SessionRemoteBindRoute, args, nil)
//	}
//
// and for a method with a result, whose arguments and result escape through
// the Invoker together, in one allocation:
//
//	var out _SessionRemote_GetBackendSessionBySid_Call
//	out.args = _SessionRemote_GetBackendSessionBySid_Args{A0: sid}
//	err := c.inv.Invoke(
//		ctx, serverID, SessionRemoteGetBackendSessionBySidRoute, &out.args, &out.result,
//	)
//	return out.result.R0, err
func (e *emitter) clientMethod(m *method) jen.Code {
	s := e.s
	lines := wrap(fmt.Sprintf("%s calls [%s.%s] on server serverID, through route %s.", m.name, s.name, m.name, m.route))
	if len(m.doc) > 0 {
		lines = slices.Concat(userDoc(m.doc), []string{""}, wrap(fmt.Sprintf("It calls route %s on server serverID.", m.route)))
	}
	used := []string{"c", "inv", "ctx", "serverID", s.routeName(m), s.argsName(m)}
	if m.result == nil {
		used = append(used, "args", "nil")
	} else {
		used = append(used, "out", "err", s.callName(m))
	}
	names := e.paramNames(m, 0, used...)
	params := append([]jen.Code{jen.Id("ctx").Add(e.context()), jen.Id("serverID").String()}, e.params(m, 0, names)...)
	fields := make([]jen.Code, len(m.params))
	for i := range m.params {
		fields[i] = field(argField(i), jen.Id(names[i]))
	}
	// args writes the arguments struct after prefix, breaking it to fit.
	args := func(prefix func() *jen.Statement) jen.Code {
		return e.fit(1, 0, func(l layout) *jen.Statement {
			return prefix().Id(s.argsName(m)).Add(list(l, "{", "}", fields))
		})
	}
	// invoke writes the call of Invoke, inside what stmt makes of it.
	invoke := func(stmt func(call *jen.Statement) *jen.Statement, args, result jen.Code) jen.Code {
		return e.call(1, func() *jen.Statement { return stmt(jen.Id("c").Dot("inv").Dot("Invoke")) },
			[]jen.Code{jen.Id("ctx"), jen.Id("serverID"), jen.Id(s.routeName(m)), args, result})
	}
	var body []jen.Code
	if m.result == nil {
		body = []jen.Code{
			args(func() *jen.Statement { return jen.Id("args").Op(":=").Op("&") }),
			invoke(func(call *jen.Statement) *jen.Statement { return jen.Return(call) }, jen.Id("args"), jen.Nil()),
		}
	} else {
		body = []jen.Code{
			jen.Var().Id("out").Id(s.callName(m)),
			args(func() *jen.Statement { return jen.Id("out").Dot("args").Op("=") }),
			invoke(func(call *jen.Statement) *jen.Statement { return jen.Err().Op(":=").Add(call) },
				jen.Op("&").Id("out").Dot("args"), jen.Op("&").Id("out").Dot("result")),
			jen.Return(jen.Id("out").Dot("result").Dot("R0"), jen.Err()),
		}
	}
	recv := jen.Id("c").Op("*").Id(s.clientName())
	return comment(lines...).Add(e.signature(recv, m.name, params, e.results(m))).Block(body...)
}
