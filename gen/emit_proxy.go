package gen

import (
	"fmt"
	"slices"

	"github.com/dave/jennifer/jen"
)

// newName is the constructor of the proxy: NewSessionProxy.
func (p *proxy) newName() string { return "New" + p.name }

// proxies emits, for every //rpcgen:proxy, the bound type, its constructor
// and its methods.
func (e *emitter) proxies() []decl {
	var decls []decl
	for _, px := range e.s.proxies {
		decls = append(decls, e.proxyType(px), e.proxyConstructor(px))
		for _, m := range px.methods {
			decls = append(decls, declare(e.proxyMethod(px, m)))
		}
	}
	return decls
}

// proxyType emits
//
//	// SessionProxy calls service sys.sessionRemote on one server for one sid: its
//	// methods are those of [SessionRemote] whose first parameter after ctx is sid.
//	type SessionProxy struct {
//		c        *SessionRemoteClient
//		serverID string
//		key      session.ID
//	}
func (e *emitter) proxyType(px *proxy) decl {
	s := e.s
	code := doc(fmt.Sprintf("%s calls service %s on one server for one %s: its methods are those of [%s] whose first parameter after ctx is %s.",
		px.name, s.route, px.param, s.name, px.param)).
		Type().Id(px.name).Struct(
		jen.Id("c").Op("*").Id(s.clientName()),
		jen.Id("serverID").String(),
		jen.Id("key").Add(e.typ(px.keyType)),
	)
	return decl{code: code, names: []declName{{name: px.name, what: "proxy " + px.name, pos: px.pos}}}
}

// proxyConstructor emits, with the parameter's name from the interface,
//
//	// NewSessionProxy returns a proxy that calls server serverID about sid
//	// through c.
//	func NewSessionProxy(c *SessionRemoteClient, serverID string, sid session.ID) SessionProxy {
//		return SessionProxy{c: c, serverID: serverID, key: sid}
//	}
func (e *emitter) proxyConstructor(px *proxy) decl {
	s := e.s
	key := e.paramName(px.param, "c", "serverID", px.name)
	sig := e.signature(nil, px.newName(), []jen.Code{
		jen.Id("c").Op("*").Id(s.clientName()),
		jen.Id("serverID").String(),
		jen.Id(key).Add(e.typ(px.keyType)),
	}, jen.Id(px.name))
	fields := []jen.Code{field("c", jen.Id("c")), field("serverID", jen.Id("serverID")), field("key", jen.Id(key))}
	code := doc(fmt.Sprintf("%s returns a proxy that calls server serverID about %s through c.", px.newName(), key)).
		Add(sig).Block(e.fit(1, 0, func(l layout) *jen.Statement {
		return jen.Return(jen.Id(px.name).Add(list(l, "{", "}", fields)))
	}))
	return decl{code: code, names: []declName{{name: px.newName(), what: "the constructor of proxy " + px.name, pos: px.pos}}}
}

// proxyMethod emits the proxy's stub of m: the client's, with the server and
// the first argument filled in.
//
//	// Bind binds session sid to user uid.
//	//
//	// It calls route sys.sessionRemote.bind on the proxy's server, for the
//	// proxy's sid.
//	func (p SessionProxy) Bind(ctx context.Context, uid string) error {
//		return p.c.Bind(ctx, p.serverID, p.key, uid)
//	}
func (e *emitter) proxyMethod(px *proxy, m *method) jen.Code {
	s := e.s
	lines := wrap(fmt.Sprintf("%s calls [%s.%s] on the proxy's server for the proxy's %s, through route %s.", m.name, s.name, m.name, px.param, m.route))
	if len(m.doc) > 0 {
		lines = slices.Concat(userDoc(m.doc), []string{""},
			wrap(fmt.Sprintf("It calls route %s on the proxy's server, for the proxy's %s.", m.route, px.param)))
	}
	names := e.paramNames(m, 1, "p", "ctx")
	key := jen.Id("p").Dot("key")
	if isVariadicLast(m, 0) {
		key.Op("...")
	}
	args := []jen.Code{jen.Id("ctx"), jen.Id("p").Dot("serverID"), key}
	for i := 1; i < len(m.params); i++ {
		arg := jen.Id(names[i-1])
		if isVariadicLast(m, i) {
			arg.Op("...")
		}
		args = append(args, arg)
	}
	params := append([]jen.Code{jen.Id("ctx").Add(e.context())}, e.params(m, 1, names)...)
	return comment(lines...).Add(e.signature(jen.Id("p").Id(px.name), m.name, params, e.results(m))).Block(
		e.call(1, func() *jen.Statement { return jen.Return(jen.Id("p").Dot("c").Dot(m.name)) }, args),
	)
}
