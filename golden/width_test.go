package golden

import (
	"go/scanner"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// Generated lines are at most maxColumns wide, a tab counting tabColumns
// (gen's limits, repeated here so that the test states them).
const (
	maxColumns = 100
	tabColumns = 4
)

// TestLineWidth checks every line of every generated golden file: none is
// wider than maxColumns, except where Go offers no break: a line holding a
// single token too wide to fit on a line of its own (a long word of a doc
// comment), a constant with its value (gofmt joins a value to its name),
// and the //go:build line.
func TestLineWidth(t *testing.T) {
	goldens, err := filepath.Glob(filepath.Join("testdata", "*", "*_rpc.go"+goldenSuffix))
	if err != nil {
		t.Fatal(err)
	}
	if len(goldens) == 0 {
		t.Fatal("no generated golden files")
	}
	for _, path := range goldens {
		for n, line := range strings.Split(readGoldens(t, filepath.Dir(path))[filepath.Base(path)], "\n") {
			if w := columns(line); w > maxColumns && !strings.HasPrefix(line, "//go:build ") && !tooWideToken(line) && !constSpec.MatchString(line) {
				t.Errorf("%s:%d: %d columns, over %d:\n%s", path, n+1, w, maxColumns, line)
			}
		}
	}
}

func TestColumns(t *testing.T) {
	for line, want := range map[string]int{
		"":            0,
		"abc":         3,
		"\tx":         5,
		"\t\tx":       9,
		"ab\tx":       5,
		"// été":      6,
		"\t// a\tb":   13,
		"abcd\t":      8,
		"\t" + "abcd": 8,
	} {
		if got := columns(line); got != want {
			t.Errorf("columns(%q) = %d, want %d", line, got, want)
		}
	}
	if !tooWideToken("\t// " + strings.Repeat("x", maxColumns-6)) {
		t.Errorf("a comment word wider than the limit is not exempt")
	}
	if tooWideToken("// " + strings.Repeat("x", maxColumns-3)) {
		t.Errorf("a comment word that fits on a line of its own is exempt")
	}
	if tooWideToken(`	Name = "` + strings.Repeat("x", maxColumns-20) + `"`) {
		t.Errorf("a line of tokens each narrower than the limit is exempt")
	}
	if !constSpec.MatchString(`	Name = "`+strings.Repeat("x", maxColumns)+`"`) || constSpec.MatchString(`	x = f("a", "b")`) {
		t.Errorf("constSpec matches wrong")
	}
}

// constSpec matches a constant of a const block and its string value.
var constSpec = regexp.MustCompile(`^\t[A-Za-z_][A-Za-z0-9_]* = "[^"]*"$`)

// columns returns the width of line, expanding tabs to tab stops.
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

// tooWideToken reports whether line holds a token too wide for a line of
// its own at the line's indentation: a Go token, or a word of a comment
// (after "// ").
func tooWideToken(line string) bool {
	indent := columns(line[:len(line)-len(strings.TrimLeft(line, "\t"))])
	var s scanner.Scanner
	fset := token.NewFileSet()
	src := []byte(line)
	s.Init(fset.AddFile("", -1, len(src)), src, func(token.Position, string) {}, scanner.ScanComments)
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			return false
		}
		words, prefix := []string{lit}, 0
		if tok == token.COMMENT {
			words, prefix = strings.Fields(strings.TrimPrefix(lit, "//")), len("// ")
		}
		for _, w := range words {
			if indent+prefix+utf8.RuneCountInString(w) > maxColumns {
				return true
			}
		}
	}
}
