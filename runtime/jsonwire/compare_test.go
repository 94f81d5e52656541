package jsonwire_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime/jsonwire"
)

// This file holds the differential checks the tests and fuzz targets share:
// every expectation is what encoding/json does with the same input.

// wireStruct is a generated-shape struct that a test can create afresh.
type wireStruct interface {
	jsonwire.Marshaler
	jsonwire.Unmarshaler
}

// targets returns fresh pairs of structs to decode the same input into, one
// for encoding/json and one for jsonwire, of every generated-shape type: some
// zero, some with every field set beforehand.
func targets() []struct {
	name      string
	want, got wireStruct
} {
	return []struct {
		name      string
		want, got wireStruct
	}{
		{"All", new(_S_All_Args), new(_S_All_Args)},
		{"All/prefilled", prefilled(), prefilled()},
		{"M_Args", new(_S_M_Args), new(_S_M_Args)},
		{"M_Args/prefilled", &_S_M_Args{A0: "pre", A1: -7, A2: map[string]int{"p": 1}}, &_S_M_Args{A0: "pre", A1: -7, A2: map[string]int{"p": 1}}},
		{"M_Result", new(_S_M_Result), new(_S_M_Result)},
		{"M_Result/prefilled", &_S_M_Result{R0: true}, &_S_M_Result{R0: true}},
		{"Empty", new(_S_Empty_Args), new(_S_Empty_Args)},
	}
}

// prefilled returns an _S_All_Args with every field set, so that a decode
// that wrongly touches a field (null, a failed number) shows.
func prefilled() *_S_All_Args {
	n := 7
	return &_S_All_Args{
		A0: "pre", A1: true, A2: -2, A3: -3, A4: -4, A5: -5, A6: -6,
		A7: 7, A8: 8, A9: 9, A10: 10, A11: 11, A12: 12, A13: 1.5, A14: -2.5,
		A15: map[string]int{"p": 1},
		A16: counted{Calls: 10, Raw: "pre"},
		A17: &n,
		A18: inner{X: 3, Y: "pre"},
		A19: []byte("pre"),
		A20: &inner{X: 4, Y: "pointer"},
		A21: &counted{Calls: 20, Raw: "pre"},
		A22: time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC),
	}
}

// checkDecode decodes data with json.Unmarshal and with DecodeJSON into
// every target and reports any difference: in whether decoding fails, in
// the resulting values, and in the error when json reports a syntax error
// (jsonwire returns encoding/json's own syntax error).
func checkDecode(t testing.TB, data []byte) {
	t.Helper()
	for _, tc := range targets() {
		werr := json.Unmarshal(data, tc.want)
		gerr := tc.got.DecodeJSON(data)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%s: decode %q:\n  encoding/json: %v\n  jsonwire:      %v", tc.name, data, werr, gerr)
		}
		var wse, gse *json.SyntaxError
		if errors.As(werr, &wse) != errors.As(gerr, &gse) || wse != nil && (wse.Error() != gse.Error() || wse.Offset != gse.Offset) {
			t.Fatalf("%s: decode %q: errors differ in kind:\n  encoding/json: %#v\n  jsonwire:      %#v", tc.name, data, werr, gerr)
		}
		if werr == nil && !sameValue(tc.want, tc.got) {
			t.Fatalf("%s: decode %q:\n  encoding/json: %s\n  jsonwire:      %s", tc.name, data, dump(tc.want), dump(tc.got))
		}
	}
}

// sameValue is reflect.DeepEqual, except that floats must have the same
// bits (DeepEqual has 0 == -0).
func sameValue(a, b any) bool {
	if !reflect.DeepEqual(a, b) {
		return false
	}
	if a, ok := a.(*_S_All_Args); ok {
		b := b.(*_S_All_Args)
		return math.Float32bits(a.A13) == math.Float32bits(b.A13) && math.Float64bits(a.A14) == math.Float64bits(b.A14)
	}
	return true
}

func dump(v any) string {
	if a, ok := v.(*_S_All_Args); ok {
		s := fmt.Sprintf("%+v", *a)
		if a.A17 != nil {
			s += fmt.Sprintf(" *A17=%d", *a.A17)
		}
		return s + fmt.Sprintf(" A13bits=%#x A14bits=%#x", math.Float32bits(a.A13), math.Float64bits(a.A14))
	}
	return fmt.Sprintf("%+v", v)
}

// checkEncode compares AppendJSON with json.Marshal for s, also when the
// output is appended to existing bytes.
func checkEncode(t testing.TB, s wireStruct) {
	t.Helper()
	want, werr := json.Marshal(s)
	got, gerr := s.AppendJSON(nil)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("encode %+v:\n  encoding/json: %v\n  jsonwire:      %v", s, werr, gerr)
	}
	if werr != nil {
		return
	}
	if string(got) != string(want) {
		t.Fatalf("encode %+v:\n  encoding/json: %s\n  jsonwire:      %s", s, want, got)
	}
	prefix := []byte("prefix")
	got, _ = s.AppendJSON(prefix)
	if string(got) != "prefix"+string(want) {
		t.Fatalf("encode %+v after a prefix: %s", s, got)
	}
}
