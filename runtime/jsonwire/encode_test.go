package jsonwire_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sessionrpc/sessionrpc/runtime/jsonwire"
)

// stringCases are strings whose encoding is compared with encoding/json.
var stringCases = []string{
	"", "plain", `"`, `\`, `\"`, "/", "\b\f\n\r\t", "\x00\x01\x1f\x20", "\x7f",
	"<>&", "<script>alert('x')</script>", "'", "\u2028\u2029", "a\u2028b\u2029c",
	"\u2027\u202a", "é", "ünïcödé ☃ 😀", "\ufffd", "\uffff", "\ufeff", "\U0010ffff",
	"\xff", "a\xffb", "\xed\xa0\x80", "\xed\xbf\xbf", "\xe2\x82", "\xe2\x82\xac", "\xc0\xaf",
	"\xf4\x90\x80\x80", "\xf0\x9f\x98", "\x80\x80", "\xe2\x80", "\xe2\x80\xa8\xe2\x80",
	strings.Repeat("long ascii ", 100), strings.Repeat("é<\n\xff", 100),
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	cases := append([]string(nil), stringCases...)
	for c := 0; c < 256; c++ {
		cases = append(cases, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"b")
	}
	for r := rune(0); r <= utf8.MaxRune+1; r += 1 + r/256 {
		cases = append(cases, string(r), "x"+string(r)+"y")
	}
	for r := rune(0x2000); r < 0x2100; r++ {
		cases = append(cases, string(r))
	}
	for _, s := range cases {
		checkString(t, s)
	}
}

func checkString(t testing.TB, s string) {
	t.Helper()
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonwire.AppendString(nil, s); string(got) != string(want) {
		t.Fatalf("AppendString(%q) = %s, encoding/json: %s", s, got, want)
	}
	if got := jsonwire.AppendString([]byte("pre"), s); string(got) != "pre"+string(want) {
		t.Fatalf("AppendString(pre, %q) = %s", s, got)
	}
}

func TestAppendIntMatchesEncodingJSON(t *testing.T) {
	values := []int64{0, 1, -1, 9, 10, -10, 99, 100, math.MaxInt8, math.MinInt8, math.MaxInt8 + 1,
		math.MaxUint8, math.MaxInt16, math.MinInt16, math.MaxUint16, math.MaxInt32, math.MinInt32,
		math.MaxUint32, math.MaxInt64, math.MinInt64, 1234567890123}
	for _, v := range values {
		checkInts(t, v, uint64(v))
	}
	checkInts(t, 0, math.MaxUint64)
}

// checkInts encodes i and u converted to every integer type.
func checkInts(t testing.TB, i int64, u uint64) {
	t.Helper()
	check := func(got []byte, v any) {
		t.Helper()
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("%T %v: jsonwire %s, encoding/json %s", v, v, got, want)
		}
	}
	check(jsonwire.AppendInt(nil, int(i)), int(i))
	check(jsonwire.AppendInt(nil, int8(i)), int8(i))
	check(jsonwire.AppendInt(nil, int16(i)), int16(i))
	check(jsonwire.AppendInt(nil, int32(i)), int32(i))
	check(jsonwire.AppendInt(nil, i), i)
	check(jsonwire.AppendUint(nil, uint(u)), uint(u))
	check(jsonwire.AppendUint(nil, uint8(u)), uint8(u))
	check(jsonwire.AppendUint(nil, uint16(u)), uint16(u))
	check(jsonwire.AppendUint(nil, uint32(u)), uint32(u))
	check(jsonwire.AppendUint(nil, u), u)
	check(jsonwire.AppendUint(nil, uintptr(u)), uintptr(u))
	type myInt int32 // a named type, as ~int32 allows
	check(jsonwire.AppendInt(nil, myInt(i)), myInt(i))
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	var values []float64
	for _, f := range []float64{0, 1, -1, 0.1, 1.5, 100, 1e20, 1e21, 1e22, 1e-6, 1e-7, 1e-5,
		123456789, 1.0000001, 5e-324, 2.2250738585072014e-308, math.MaxFloat64,
		math.SmallestNonzeroFloat32, math.MaxFloat32, 3.4028235e38, 1e-45, 16777217,
		1e100, 1e-100, 9.999999999999999e20, 9.999999e-7, 0.000001, 0.0000009999999999999999,
		math.Pi, math.E, 1 << 53, 1<<53 + 1, 1e15, 1e16, 1e17, 123e-9, 1e-9, 1e-10} {
		values = append(values, f, -f, math.Nextafter(f, 0), math.Nextafter(f, math.Inf(1)))
		f32 := float32(f)
		values = append(values, float64(math.Nextafter32(f32, 0)), float64(math.Nextafter32(f32, float32(math.Inf(1)))))
	}
	values = append(values, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1))
	for i := 0; i < 100000; i++ {
		values = append(values, math.Float64frombits(uint64(i)*0x9E3779B97F4A7C15))
	}
	for _, f := range values {
		checkFloat64(t, f)
		checkFloat32(t, float32(f))
	}
	checkFloat32(t, float32(math.NaN()))
	for i := uint32(0); i < 100000; i++ {
		checkFloat32(t, math.Float32frombits(i*0x9E3779B9))
	}
}

func checkFloat64(t testing.TB, f float64) {
	t.Helper()
	want, werr := json.Marshal(f)
	got, gerr := jsonwire.AppendFloat64([]byte("pre"), f)
	checkFloat(t, f, want, got, werr, gerr)
}

func checkFloat32(t testing.TB, f float32) {
	t.Helper()
	want, werr := json.Marshal(f)
	got, gerr := jsonwire.AppendFloat32([]byte("pre"), f)
	checkFloat(t, f, want, got, werr, gerr)
}

func checkFloat(t testing.TB, f any, want, got []byte, werr, gerr error) {
	t.Helper()
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%T %v: jsonwire error %v, encoding/json error %v", f, f, gerr, werr)
	}
	if werr != nil {
		if _, ok := gerr.(*json.UnsupportedValueError); !ok || gerr.Error() != werr.Error() || string(got) != "pre" {
			t.Fatalf("%T %v: jsonwire error %#v (output %q), encoding/json error %#v", f, f, gerr, got, werr)
		}
		return
	}
	if string(got) != "pre"+string(want) {
		t.Fatalf("%T %v (%b): jsonwire %s, encoding/json %s", f, f, f, got, want)
	}
}

func TestAppendBool(t *testing.T) {
	for _, v := range []bool{false, true} {
		want, _ := json.Marshal(v)
		if got := jsonwire.AppendBool([]byte("pre"), v); string(got) != "pre"+string(want) {
			t.Errorf("AppendBool(%v) = %s, want pre%s", v, got, want)
		}
	}
}

// TestAppendJSONMatchesEncodingJSON encodes whole generated-shape structs,
// fallback fields with pointer-receiver MarshalJSON included.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	n := -42
	structs := []wireStruct{
		&_S_M_Args{}, &_S_M_Args{A0: "x<y>&z\u2028", A1: math.MinInt64, A2: map[string]int{"b": 2, "a": 1, "<": 3}},
		&_S_M_Result{}, &_S_M_Result{R0: true}, &_S_Empty_Args{}, &_S_Small_Args{A0: smallValue},
		&_S_All_Args{}, prefilled(),
		&_S_All_Args{A0: "\xff\x00", A2: math.MinInt, A3: math.MinInt8, A4: math.MinInt16, A5: math.MinInt32,
			A6: math.MaxInt64, A7: math.MaxUint, A8: math.MaxUint8, A9: math.MaxUint16, A10: math.MaxUint32,
			A11: math.MaxUint64, A12: ^uintptr(0), A13: math.MaxFloat32, A14: -math.SmallestNonzeroFloat64,
			A15: map[string]int{}, A16: counted{Calls: 3, Raw: "<b>&amp;\u2028"}, A17: &n,
			A18: inner{X: 1, Y: "é"}, A19: []byte{0, 1, 2, 0xff}, A20: []any{1.5, "x", nil, map[string]any{"k": true}}},
		&_S_All_Args{A13: float32(math.Copysign(0, -1)), A14: math.Copysign(0, -1), A19: []byte{}},
		&_S_All_Args{A21: &counted{Calls: 1, Raw: "\u2028<"}, A22: time.Date(2020, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))},
		&_S_All_Args{A21: &counted{Calls: -1}}, &_S_All_Args{A22: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		// Errors: unsupported floats, a failing MarshalJSON, an
		// unsupported value in an interface.
		&_S_All_Args{A13: float32(math.Inf(1))}, &_S_All_Args{A14: math.NaN()},
		&_S_All_Args{A16: counted{Calls: -1}}, &_S_All_Args{A20: math.Inf(-1)},
		&_S_All_Args{A20: make(chan int)},
	}
	for _, s := range structs {
		checkEncode(t, s)
	}
}

// TestAppendValuePointer shows why generated code passes the field's
// address: json.Marshal(&s) uses a pointer-receiver MarshalJSON of a field,
// json.Marshal of the field's value does not.
func TestAppendValuePointer(t *testing.T) {
	a := _S_All_Args{A16: counted{Calls: 2}}
	viaPointer, _ := jsonwire.AppendValue(nil, &a.A16)
	viaValue, _ := jsonwire.AppendValue(nil, a.A16)
	if string(viaPointer) != `{"calls":2,"raw":""}` || string(viaPointer) == string(viaValue) {
		t.Fatalf("AppendValue(&field) = %s, AppendValue(field) = %s", viaPointer, viaValue)
	}
	checkEncode(t, &a)
}

// TestEncodeAllocs checks that the fast types encode without allocating
// into a buffer with room.
func TestEncodeAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	buf := make([]byte, 0, 1024)
	small := &_S_Small_Args{A0: smallValue}
	if n := testing.AllocsPerRun(100, func() { buf, _ = small.AppendJSON(buf[:0]) }); n != 0 {
		t.Errorf("AppendJSON of the small struct: %v allocations", n)
	}
	n := testing.AllocsPerRun(100, func() {
		b := jsonwire.AppendString(buf[:0], "é<\n\xff\u2028 text")
		b = jsonwire.AppendBool(b, true)
		b = jsonwire.AppendInt(b, int8(-5))
		b = jsonwire.AppendInt(b, math.MinInt64)
		b = jsonwire.AppendUint(b, uint64(math.MaxUint64))
		b, _ = jsonwire.AppendFloat64(b, 1e-300)
		b, _ = jsonwire.AppendFloat32(b, 0.1)
		buf = b
	})
	if n != 0 {
		t.Errorf("Append functions: %v allocations", n)
	}
}

// TestJSONNumberNeedsFallback shows why json.Number, a string type, must go
// through AppendValue and Decoder.Value: encoding/json treats it as a number.
func TestJSONNumberNeedsFallback(t *testing.T) {
	n := json.Number("12.5")
	want, _ := json.Marshal(&n)
	if got := jsonwire.AppendString(nil, string(n)); string(got) == string(want) {
		t.Fatalf("AppendString(json.Number) = %s, same as encoding/json", got)
	}
	if got, _ := jsonwire.AppendValue(nil, &n); string(got) != string(want) {
		t.Fatalf("AppendValue(&json.Number) = %s, want %s", got, want)
	}
}
