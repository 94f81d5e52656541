package jsonwire_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime/jsonwire"
)

// FuzzDecode decodes arbitrary bytes with DecodeJSON and with json.Unmarshal,
// into fresh and into filled-in structs, and requires the same verdict and,
// on success, the same values.
func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Add([]byte(allJSON))
	f.Add([]byte(smallJSON))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
	})
}

// FuzzDecodeMember decodes an arbitrary value as one member, with a name
// chosen among the fields, so that the fuzzer spends its effort on values.
func FuzzDecodeMember(f *testing.F) {
	seeds := []string{`"x"`, `"\u00e9\ud83d\ude00"`, "\"\xff\"", `true`, `false`, `null`, `0`, `-0`, `1.5`,
		`1e2`, `-1E-2`, `18446744073709551615`, `-9223372036854775808`, `3.4028235e38`, `1e309`,
		`{"x":1}`, `[1,"x",null]`, `{"x":1,"y":"z"}`, `"aGVsbG8="`, `01`, `1.`, `-`, `.5`}
	for i, s := range seeds {
		for k := 0; k < len(memberNames); k += 3 {
			f.Add(uint8(k+i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, field uint8, value []byte) {
		name := memberNames[int(field)%len(memberNames)]
		data := append([]byte(`{"`+name+`":`), value...)
		checkDecode(t, append(data, '}'))
	})
}

// memberNames are the names FuzzDecodeMember chooses among.
var memberNames = []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10",
	"a11", "a12", "a13", "a14", "a15", "a16", "a17", "a18", "a19", "a20", "a21", "a22", "r0", "A6", "zz"}

// FuzzEncode encodes arbitrary values with the Append functions and with
// json.Marshal and requires the same bytes, and the same verdict for floats.
func FuzzEncode(f *testing.F) {
	for i, s := range stringCases {
		f.Add(s, int64(i)-10, uint64(i)*7919, float64(i)/3, uint32(i)*0x9E3779B9, i%2 == 0)
	}
	f.Add("", int64(math.MinInt64), uint64(math.MaxUint64), math.MaxFloat64, math.Float32bits(math.MaxFloat32), true)
	f.Add("x", int64(math.MaxInt64), uint64(0), 1e21, math.Float32bits(1e21), false)
	f.Add("y", int64(-1), uint64(1), 1e-7, math.Float32bits(1e-7), false)
	f.Add("z", int64(0), uint64(2), math.Inf(1), math.Float32bits(float32(math.NaN())), false)
	f.Add("w", int64(0), uint64(2), math.NaN(), math.Float32bits(float32(math.Inf(-1))), false)
	f.Add("v", int64(0), uint64(2), math.Copysign(0, -1), uint32(1)<<31, false)
	f.Fuzz(func(t *testing.T, s string, i int64, u uint64, f64 float64, f32bits uint32, b bool) {
		f32 := math.Float32frombits(f32bits)
		checkString(t, s)
		checkInts(t, i, u)
		checkFloat64(t, f64)
		checkFloat32(t, f32)
		if got, want := string(jsonwire.AppendBool(nil, b)), mustMarshal(t, b); got != want {
			t.Fatalf("AppendBool(%v) = %s, want %s", b, got, want)
		}
		n := int(i)
		all := &_S_All_Args{
			A0: s, A1: b, A2: int(i), A3: int8(i), A4: int16(i), A5: int32(i), A6: i,
			A7: uint(u), A8: uint8(u), A9: uint16(u), A10: uint32(u), A11: u, A12: uintptr(u),
			A13: f32, A14: f64, A15: map[string]int{s: n}, A16: counted{Calls: int(u % 3), Raw: s},
			A17: &n, A18: inner{X: n, Y: s}, A19: []byte(s), A20: s,
			A22: time.Unix(i%(1<<35), int64(u%1e9)).In(time.FixedZone("z", int(i%50000))),
		}
		if b {
			all.A21 = &counted{Calls: int(u % 5), Raw: s}
		}
		checkEncode(t, all)
		checkEncode(t, &_S_M_Args{A0: s, A1: i, A2: map[string]int{s: n}})
		// What jsonwire encodes, it decodes as encoding/json does.
		if enc, err := all.AppendJSON(nil); err == nil {
			checkDecode(t, enc)
		}
	})
}

func mustMarshal(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
