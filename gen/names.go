package gen

import (
	"go/types"
	"strconv"
)

// Parameter names in generated signatures are the interface's own, so that
// go doc shows Bind(ctx, serverID string, sid session.ID, uid string). A name
// is replaced only where it cannot be used: it is blank or _, or it is a
// name the stub itself uses (ctx, serverID, c, out, err, the generated names
// its body refers to), or the name of a package the file imports. The
// replacement is the first free one of name2, name3, ... (a0 and so on for a
// blank parameter: its position after ctx), so it is the same on every run.
//
// The wire does not see any of this: arguments travel by position, as A0, A1,
// ... with JSON names a0, a1, ...

// paramNames returns the names the parameters of m from index from on have
// in a stub whose signature or body uses the names in used.
func (e *emitter) paramNames(m *method, from int, used ...string) []string {
	taken := e.takenNames(used)
	params := m.params[from:]
	names := make([]string, len(params))
	// The user's names go first, so that a renamed parameter never takes
	// the name of another one.
	for i, p := range params {
		if n := p.Name(); n != "" && n != "_" && !taken[n] {
			names[i] = n
			taken[n] = true
		}
	}
	for i, p := range params {
		if names[i] != "" {
			continue
		}
		base := p.Name()
		if base == "" || base == "_" {
			base = argVar(from + i)
		}
		names[i] = freeName(base, taken)
		taken[names[i]] = true
	}
	return names
}

// paramName returns the name of one parameter, called name in the
// interface, in a stub that uses the names in used.
func (e *emitter) paramName(name string, used ...string) string {
	return freeName(name, e.takenNames(used))
}

// takenNames returns the names a parameter may not have in a stub that uses
// used: those and the names of the file's imports.
func (e *emitter) takenNames(used []string) map[string]bool {
	taken := make(map[string]bool, len(used)+len(e.importNames))
	for _, n := range used {
		taken[n] = true
	}
	for _, n := range e.importNames {
		taken[n] = true
	}
	return taken
}

// freeName returns name if it is not taken, or else the first of name2,
// name3, ... that is not (name_2, ... when name ends in a digit, so that a2
// does not become a22).
func freeName(name string, taken map[string]bool) string {
	if !taken[name] {
		return name
	}
	sep := ""
	if c := name[len(name)-1]; '0' <= c && c <= '9' {
		sep = "_"
	}
	for n := 2; ; n++ {
		if alt := name + sep + strconv.Itoa(n); !taken[alt] {
			return alt
		}
	}
}

// argVar is the name of an unnamed i-th argument (after ctx) in stubs.
func argVar(i int) string { return "a" + strconv.Itoa(i) }

// argField is the field of the i-th argument in the arguments struct, and
// argJSON its JSON name. They stay positional whatever the parameters are
// called: renaming a parameter does not change the wire.
func argField(i int) string { return "A" + strconv.Itoa(i) }
func argJSON(i int) string  { return "a" + strconv.Itoa(i) }

// isVariadicLast reports whether the i-th parameter of m is its ...T one.
func isVariadicLast(m *method, i int) bool { return m.variadic && i == len(m.params)-1 }

// paramType returns the type the i-th parameter of m is declared with: T
// for a variadic ...T, whose type is []T.
func paramType(m *method, i int) types.Type {
	t := m.params[i].Type()
	if isVariadicLast(m, i) {
		return t.(*types.Slice).Elem()
	}
	return t
}
