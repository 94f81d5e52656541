package gen

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/dave/jennifer/jen"
)

// Generated lines are at most maxColumns wide, a tab counting tabColumns,
// wherever Go lets rpcgen break them: a list of parameters, arguments or
// composite literal elements breaks; a name, a string or a type the user
// wrote does not.
const (
	maxColumns = 100
	tabColumns = 4
)

// columns returns the width of line, expanding tabs to tab stops every
// tabColumns columns.
func columns(line string) int {
	n := 0
	for _, r := range line {
		if r == '\t' {
			n += tabColumns - n%tabColumns
		} else {
			n++
		}
	}
	return n
}

// A layout is how a list breaks across lines.
type layout int

const (
	// oneLine keeps the list on the line: f(a, b, c).
	oneLine layout = iota
	// continued puts the whole list on a line of its own:
	//
	//	f(
	//		a, b, c,
	//	)
	continued
	// onePerLine puts every item on a line of its own:
	//
	//	f(
	//		a,
	//		b,
	//	)
	onePerLine
)

// list writes items between open and close, laid out as l.
func list(l layout, open, close string, items []jen.Code) *jen.Statement {
	opts := jen.Options{Open: open, Close: close, Separator: ","}
	switch {
	case len(items) == 0:
	case l == continued:
		opts.Open, opts.Close = open+"\n", ",\n"+close
	case l == onePerLine:
		opts.Multi = true
	}
	return jen.Custom(opts, items...)
}

// fit returns build(l) for the first layout l, from oneLine to onePerLine,
// under which every line of the code is at most maxColumns wide when
// indented by depth tabs and followed by slack more columns (" {" after a
// signature). When none fits, it returns build(onePerLine): the widest item
// is then too wide on its own. build is called afresh for each try, since
// jennifer statements grow as they are used.
//
// In an emitter's first pass, which only finds the file's imports, every
// layout fits.
func (e *emitter) fit(depth, slack int, build func(layout) *jen.Statement) *jen.Statement {
	if e.measure == nil {
		return build(oneLine)
	}
	for l := oneLine; l < onePerLine; l++ {
		if e.fits(depth, slack, build(l)) {
			return build(l)
		}
	}
	return build(onePerLine)
}

// fits reports whether code, rendered and gofmt'd on its own, fits in
// maxColumns at depth tabs with slack columns to spare. code must be Go that
// gofmt takes on its own: a declaration or statements.
func (e *emitter) fits(depth, slack int, code *jen.Statement) bool {
	var b bytes.Buffer
	if err := code.RenderWithFile(&b, e.measure); err != nil {
		// Not Go on its own: emitFile's gofmt will say what is wrong.
		return false
	}
	for line := range strings.Lines(b.String()) {
		if depth*tabColumns+columns(strings.TrimRight(line, "\n"))+slack > maxColumns {
			return false
		}
	}
	return true
}

// commentWidth is how wide rpcgen writes the text of a doc comment, leaving
// room for the comment marker.
const commentWidth = 80

// wrap splits text into lines of at most commentWidth characters at spaces,
// for generated doc comments. A word longer than that has a line of its own.
func wrap(text string) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > commentWidth {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// userDoc returns the doc comment lines of a user's method for a top-level
// generated declaration: as written, except that a line of text too wide
// for maxColumns once it is a comment is wrapped. Indented lines are code
// blocks or lists and are kept as they are.
func userDoc(lines []string) []string {
	var out []string
	for _, l := range lines {
		if columns("// "+l) <= maxColumns || strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			out = append(out, l)
			continue
		}
		out = append(out, wrap(l)...)
	}
	return out
}
