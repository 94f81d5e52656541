package jsonwire_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime/jsonwire"
)

// decodeCases are inputs whose decoding is compared with encoding/json. The
// expectations are not written down: checkDecode takes them from
// encoding/json.
var decodeCases = []string{
	// Empty objects, null and whitespace.
	`{}`, ` {} `, "\t\n\r{\t\n\r}\t\n\r", `null`, " null\n", `{ }`,
	``, ` `, "\n", `n`, `nul`, `nulll`, `null x`, `null,`, `Null`, `NULL`,
	"\f{}", "{}\f", "\v{}", "{}\v", "\u00a0{}", "{}\u00a0", "\ufeff{}",
	"{}\x00", "\x00{}", "{\x00}", `{}x`, `{} {}`, `{}}`, `{}]`, `{}{`,
	// Other top-level values.
	`[]`, `[{"a0":"x"}]`, `"x"`, `""`, `1`, `-1`, `0`, `true`, `false`,
	`[`, `"x`, `tru`, `1.`, `[1,]`, `[] x`, `"x" "y"`, `01`,
	// Object syntax.
	`{`, `{"a0"`, `{"a0":`, `{"a0":"x"`, `{"a0":"x",`, `{"a0":"x",}`,
	`{,}`, `{,"a0":"x"}`, `{"a0" "x"}`, `{"a0"::"x"}`, `{'a0':"x"}`,
	`{a0:"x"}`, `{"a0":"x" "a1":true}`, `{"a0":"x";"a1":true}`,
	`{"a0":"x",,"a1":true}`, `{"a0":"x"]`, `{"a0"}`, `{:"x"}`, `{1:2}`,
	`{ "a0" : "x" , "a1" : true , "a2" : 1 }`,
	"{\n\t\"a0\"\r:\n\"x\"\t}",
	// Every fast field.
	`{"a0":"s","a1":true,"a2":-2,"a3":-3,"a4":-4,"a5":-5,"a6":-6,"a7":7,"a8":8,"a9":9,"a10":10,"a11":11,"a12":12,"a13":1.25,"a14":-2.5}`,
	// null into every field.
	`{"a0":null,"a1":null,"a2":null,"a3":null,"a4":null,"a5":null,"a6":null,"a7":null,"a8":null,"a9":null,"a10":null,"a11":null,"a12":null,"a13":null,"a14":null}`,
	`{"a15":null,"a16":null,"a17":null,"a18":null,"a19":null,"a20":null,"r0":null}`,
	`{"a0":nul}`, `{"a0":nulls}`, `{"a1":tru}`, `{"a1":truee}`, `{"a1":fals}`, `{"a1":True}`,
	// Member names: case, escapes, unknown names, Unicode folding.
	`{"A0":"x","A1":true,"A6":6,"A10":10,"A15":{"q":1},"R0":true}`,
	`{"a0":"x","A0":"y"}`, `{"A0":"y","a0":"x"}`, `{"A21":1,"a21":2}`, `{"A2":1,"a2":2}`,
	`{"\u0061\u0030":"x","\u0041\u0031":true,"a\u0036":6}`,
	`{"\u0061\u00300":"x"}`, `{"a0\u0000":"x"}`, `{"a0 ":"x"}`, `{" a0":"x"}`,
	`{"\u212a":1,"\u017f":1,"\u0130":1,"\u0131":1}`,
	`{"aₒ":"x"}`, "{\"a\xff\":\"x\"}", "{\"\xff\":1}",
	`{"":1}`, `{"zz":1}`, `{"a21":1}`, `{"a00":"x"}`, `{"a":"x"}`,
	`{"a0\"":"x"}`, `{"a0\\":"x"}`, `{"\/a0":"x"}`, `{"a0\/":"x"}`,
	`{"\ud800":1}`, `{"\ud83d\ude00":1}`, `{"\x01":1}`, `{"\u00":1}`,
	`{"A` + strings.Repeat("B", 40) + `":1}`,
	`{"\u0041` + strings.Repeat("\\u0042", 40) + `":1}`,
	// Duplicates: the last wins.
	`{"a0":"x","a0":"y"}`, `{"a0":"x","a0":null}`, `{"a6":1,"a6":2}`,
	`{"a6":1,"a6":null}`, `{"a1":true,"a1":false}`, `{"r0":true,"r0":false}`,
	// Strings.
	`{"a0":""}`, `{"a0":"plain ascii"}`, `{"a0":"ünïcödé ☃ 😀"}`,
	`{"a0":"\"\\\/\b\f\n\r\t"}`, `{"a0":"\u0000\u001f\u0020\u007f\u0080\u00ff"}`,
	`{"a0":"\u00e9\u2028\u2029\uffff\ufffd\uFFFE"}`, `{"a0":"\uABCD\uabcd"}`,
	`{"a0":"\ud83d\ude00"}`, `{"a0":"\uD83D\uDE00"}`, `{"a0":"\ud83d"}`,
	`{"a0":"\ude00"}`, `{"a0":"\ude00\ud83d"}`, `{"a0":"\ud83d\u0041"}`,
	`{"a0":"\ud83d\ud83d\ude00"}`, `{"a0":"\ud83dx"}`, `{"a0":"\ud83d\n"}`,
	`{"a0":"\ud83d\\"}`, `{"a0":"\udbff\udfff"}`, `{"a0":"\ud800\udc00"}`,
	`{"a0":"\ud83d\ude"}`, `{"a0":"\ud83d\u"}`, `{"a0":"\ud83d\uzzzz"}`,
	"{\"a0\":\"\xff\"}", "{\"a0\":\"a\xffb\"}", "{\"a0\":\"\xed\xa0\x80\"}",
	"{\"a0\":\"\xe2\x82\"}", "{\"a0\":\"\xe2\x82\xac\"}", "{\"a0\":\"\xc0\xaf\"}",
	"{\"a0\":\"\xf4\x90\x80\x80\"}", "{\"a0\":\"\xf0\x9f\x98\"}", "{\"a0\":\"\x80\x80\"}",
	"{\"a0\":\"\\n\xff\"}", "{\"a0\":\"\xff\\n\"}", "{\"a0\":\"\\u00e9\xe9\"}",
	"{\"a0\":\"\x7f\"}", "{\"a0\":\"\x01\"}", "{\"a0\":\"\x1f\"}", "{\"a0\":\"\t\"}",
	"{\"a0\":\"\n\"}", "{\"a0\":\"\x00\"}",
	`{"a0":"\x41"}`, `{"a0":"\'"}`, `{"a0":"\a"}`, `{"a0":"\U0041"}`, `{"a0":"\u12"}`,
	`{"a0":"\u12G4"}`, `{"a0":"\u"}`, `{"a0":"\`, `{"a0":"\"`, `{"a0":"abc`, `{"a0":'x'}`,
	`{"a0":"` + strings.Repeat("long string without escapes ", 10) + `"}`,
	`{"a0":"` + strings.Repeat("\\u00e9\\n", 50) + `"}`,
	`{"a0":"` + strings.Repeat("\xff", 100) + `"}`,
	`{"a0":"` + strings.Repeat("é\\t", 30) + `"}`,
	// Type mismatches.
	`{"a0":1}`, `{"a0":true}`, `{"a0":{}}`, `{"a0":[]}`, `{"a0":["x"]}`,
	`{"a1":1}`, `{"a1":"true"}`, `{"a1":{}}`, `{"a1":[]}`, `{"a1":0}`,
	`{"a6":"1"}`, `{"a6":true}`, `{"a6":{}}`, `{"a6":[1]}`, `{"a6":""}`,
	`{"a11":"1"}`, `{"a13":"1"}`, `{"a14":"1.5"}`, `{"a14":false}`, `{"a14":[]}`,
	`{"a15":[]}`, `{"a15":"x"}`, `{"a15":{"x":"s"}}`, `{"a15":1}`,
	`{"a18":1}`, `{"a18":[]}`, `{"a18":{"x":"s"}}`, `{"a19":1}`, `{"a19":"!!"}`,
	`{"a20":1}`, `{"a20":"s"}`, `{"a20":{"x":1}}`, `{"a20":[1]}`, `{"a20":true}`,
	`{"r0":1}`, `{"r0":"true"}`,
	// A type error and a syntax error further on: encoding/json reports the
	// syntax error.
	`{"a6":"x",}`, `{"a6":"x","a0":tru}`, `{"a15":[],"zz":[,]}`, `{"a6":1.5} x`,
	`{"a16":false,}`, `{"a6":1e400,"a0":"\x01"}`,
	// Numbers: syntax.
	`{"a6":01}`, `{"a6":-01}`, `{"a6":00}`, `{"a6":1.}`, `{"a6":-}`, `{"a6":.5}`,
	`{"a6":+1}`, `{"a6":1e}`, `{"a6":1e+}`, `{"a6":1E-}`, `{"a6":0x10}`, `{"a6":1_000}`,
	`{"a6":Infinity}`, `{"a6":NaN}`, `{"a6":-Infinity}`, `{"a6":1.5.5}`, `{"a6":1e5e5}`,
	`{"a6":--1}`, `{"a6":-.5}`, `{"a6":1 2}`, `{"a6":1-}`, `{"a6":0.e1}`,
	`{"a14":01}`, `{"a14":1.}`, `{"a14":-}`, `{"a14":.5}`, `{"a14":1e}`, `{"a7":-}`,
	`{"zz":01}`, `{"zz":-}`, `{"zz":1.}`, `{"zz":.5}`, `{"zz":1e}`,
	// Floats.
	`{"a13":0,"a14":0}`, `{"a13":-0,"a14":-0}`, `{"a13":-0.0,"a14":-0.0}`,
	`{"a13":0.1,"a14":0.1}`, `{"a13":1e308,"a14":1e308}`, `{"a14":1e309}`,
	`{"a14":-1e309}`, `{"a14":1.7976931348623157e308}`, `{"a14":1.7976931348623159e308}`,
	`{"a14":1e-400}`, `{"a14":-1e-400}`, `{"a14":5e-324}`, `{"a14":2e-324}`, `{"a14":3e-324}`,
	`{"a13":3.4028234663852886e38}`, `{"a13":3.4028235e38}`, `{"a13":3.4028236e38}`,
	`{"a13":3.5e38}`, `{"a13":-3.5e38}`, `{"a13":1e39}`, `{"a13":1.401298464324817e-45}`,
	`{"a13":1e-46}`, `{"a13":7e-46}`, `{"a13":8e-46}`, `{"a13":16777217}`, `{"a13":1e-7}`,
	`{"a14":0.1000000000000000055511151231257827021181583404541015625}`,
	`{"a13":0.1000000000000000055511151231257827021181583404541015625}`,
	`{"a14":123456789012345678901234567890}`, `{"a14":1E2}`, `{"a14":1e+2}`, `{"a14":1E-2}`,
	`{"a14":` + strings.Repeat("9", 400) + `}`, `{"a14":0.` + strings.Repeat("0", 400) + `1}`,
	`{"a14":1` + strings.Repeat("0", 308) + `}`, `{"a14":1` + strings.Repeat("0", 309) + `}`,
	`{"a14":1e99999999999999999999}`, `{"a14":1e-99999999999999999999}`,
	// Fields of each size at and beyond their limits.
	`{"a6":0}`, `{"a6":-0}`, `{"a11":0}`, `{"a11":-0}`, `{"a7":-0}`, `{"a8":-0}`,
	`{"a12":-0}`, `{"a8":-1}`, `{"a11":-1}`, `{"a6":1.0}`, `{"a6":1e2}`, `{"a6":1E2}`,
	`{"a6":1e+2}`, `{"a6":-1e-2}`, `{"a6":0e0}`, `{"a11":1.0}`, `{"a11":1e2}`, `{"a11":0e0}`,
	`{"a6":` + strings.Repeat("1", 100) + `}`, `{"a11":` + strings.Repeat("1", 100) + `}`,
	`{"a6":-` + strings.Repeat("0", 1) + strings.Repeat("1", 100) + `}`,
}

func init() {
	// Integer fields at, and one past, the limits of their type, and the
	// limits of the other sizes.
	fields := []string{"a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11", "a12"}
	var bounds []string
	for _, bits := range []uint{8, 16, 32, 64} {
		maxInt := uint64(1)<<(bits-1) - 1
		bounds = append(bounds,
			strconv.FormatUint(maxInt, 10), strconv.FormatUint(maxInt+1, 10),
			"-"+strconv.FormatUint(maxInt+1, 10), "-"+strconv.FormatUint(maxInt+2, 10),
			strconv.FormatUint(maxInt*2+1, 10), addOne(strconv.FormatUint(maxInt*2+1, 10)),
		)
	}
	bounds = append(bounds, "18446744073709551616", "-18446744073709551616", "99999999999999999999",
		"184467440737095516150", "100000000000000000000", "-9223372036854775809")
	for _, f := range fields {
		for _, n := range bounds {
			decodeCases = append(decodeCases, `{"`+f+`":`+n+`}`)
		}
	}
	// Fallback fields: merging, null, pointer-receiver UnmarshalJSON.
	decodeCases = append(decodeCases,
		`{"a15":{"x":1},"a15":{"y":2}}`, `{"a15":{"x":1},"a15":null}`, `{"a15":{"x":1},"a15":{"x":2}}`,
		`{"a15":{}}`, `{"a15":{"x":1,"x":2}}`, `{"a15":{"x":null}}`,
		`{"a16":1}`, `{"a16":1,"a16":"x"}`, `{"a16":null}`, `{"a16":false}`, `{"a16":true}`,
		`{"a16":{"calls":5}}`, `{"a16": [1, 2] }`, `{"A16":{ "b" : 1 },"a16":"x"}`,
		`{"a17":5}`, `{"a17":5,"a17":null}`, `{"a17":null,"a17":6}`, `{"a17":"x"}`, `{"a17":1.5}`,
		`{"a18":{"x":1},"a18":{"y":"z"}}`, `{"a18":{"X":1,"Y":"z","q":[]}}`, `{"a18":{"x":1},"a18":null}`,
		`{"a18":{}}`, `{"a18":{"x":null}}`,
		`{"a19":"aGVsbG8="}`, `{"a19":""}`, `{"a19":"aGVsbG8"}`, `{"a19":[1,2]}`,
		`{"a20":{"x":1}}`, `{"a20":null}`, `{"a20":[1,"x",null,true,{"y":{}}]}`, `{"a20":1.5}`,
		`{"a21":1}`, `{"a21":null}`, `{"a21":1,"a21":2}`, `{"a21":false}`, `{"a21":null,"a21":"x"}`,
		`{"a22":"2020-01-02T03:04:05Z"}`, `{"a22":"2020-01-02T03:04:05.123+01:00"}`, `{"a22":null}`,
		`{"a22":"2020-13-02T03:04:05Z"}`, `{"a22":1}`, `{"a22":"x"}`,
		// Skipped members of every kind, nested.
		`{"zz":{"a":[1,2,{"b":null}],"c":{}},"a0":"x","yy":[[],[[]],{}],"xx":"\u00e9"}`,
		`{"zz":[1,2,}`, `{"zz":[1,2,]}`, `{"zz":{"a":1,}}`, `{"zz":{"a" 1}}`, `{"zz":{1:1}}`,
		`{"zz":tru}`, `{"zz":"\x01"}`, `{"zz":"\q"}`, `{"zz":[}`, `{"zz":{]}`, `{"zz":[}]}`,
		`{"zz":{"a":1]}`, `{"zz":[1}`, `{"zz":}`, `{"zz":[,1]}`, `{"zz":{,}}`, `{"zz":{"a":}}`,
		`{"zz":[1 2]}`, `{"zz":{"a":1 "b":2}}`, `{"zz":[[[[]]]]}`, `{"zz":[[[[]]]}`,
		"{\"zz\":[\"\xff\",\"\\ud800\"]}", `{"zz":  [ 1 , { } , [ ] ]  }`,
		// Members after the end.
		`{"a0":"x"}{"a0":"y"}`, `{"a0":"x"},`, `{"a0":"x"}]`, `{"a0":"x"} null`,
	)
}

// addOne adds one to a decimal number.
func addOne(s string) string {
	b := []byte(s)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b)
		}
		b[i] = '0'
	}
	return "1" + string(b)
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, c := range decodeCases {
		checkDecode(t, []byte(c))
	}
}

// TestDecodeEveryByte puts every byte value in turn in the places where a
// byte changes the meaning of the input.
func TestDecodeEveryByte(t *testing.T) {
	templates := []string{
		`{"a0":"x@y"}`, `{"a0":"\@"}`, `{"a0":"\u00@0"}`, `{"a@":1}`, `{"a6":1@}`, `{"a6":@1}`,
		`{"a14":1.@}`, `{"a14":1e@1}`, `@{}`, `{}@`, `{@}`, `{"a0"@:"x"}`, `{"a0":"x"@}`,
		`{"zz":[1@2]}`, `{"zz":@}`, `{"a1":t@ue}`, `{"a0":n@ll}`, `{"a0":"x",@"a1":true}`,
	}
	for _, tmpl := range templates {
		for c := 0; c < 256; c++ {
			checkDecode(t, []byte(strings.Replace(tmpl, "@", string([]byte{byte(c)}), 1)))
		}
	}
}

// TestDecodeDepth checks encoding/json's nesting limit of 10000 open arrays
// and objects, the top-level object included, in every kind of member.
func TestDecodeDepth(t *testing.T) {
	for _, depth := range []int{9998, 9999, 10000, 10001, 10002, 20000} {
		arrays := depth - 1 // inside the top-level object
		for _, key := range []string{"zz", "a20", "a0", "a6"} {
			var b strings.Builder
			b.WriteString(`{"` + key + `":`)
			b.WriteString(strings.Repeat("[", arrays))
			b.WriteString(strings.Repeat("]", arrays))
			b.WriteString(`}`)
			checkDecode(t, []byte(b.String()))

			b.Reset()
			b.WriteString(`{"` + key + `":`)
			b.WriteString(strings.Repeat(`{"q":`, arrays))
			b.WriteString(`1`)
			b.WriteString(strings.Repeat("}", arrays))
			b.WriteString(`}`)
			checkDecode(t, []byte(b.String()))

			b.Reset()
			b.WriteString(`{"` + key + `":`)
			b.WriteString(strings.Repeat(`[{"q":`, arrays/2))
			b.WriteString(strings.Repeat(`[`, arrays%2))
			b.WriteString(strings.Repeat(`]`, arrays%2))
			b.WriteString(strings.Repeat("}]", arrays/2))
			b.WriteString(`}`)
			checkDecode(t, []byte(b.String()))
		}
		// Unclosed.
		checkDecode(t, []byte(`{"zz":`+strings.Repeat("[", arrays)))
		// A non-object at the top level.
		checkDecode(t, []byte(strings.Repeat("[", depth)+strings.Repeat("]", depth)))
	}
}

// TestDecodeNumbersExhaustive decodes a grid of number spellings into every
// numeric field.
func TestDecodeNumbersExhaustive(t *testing.T) {
	mantissas := []string{"0", "-0", "1", "-1", "7", "127", "128", "255", "256", "-128", "-129",
		"32767", "65535", "65536", "2147483647", "2147483648", "4294967295", "4294967296",
		"9223372036854775807", "9223372036854775808", "18446744073709551615", "00", "-", "+1", ""}
	suffixes := []string{"", ".0", ".5", ".", "e0", "e1", "E+1", "e-1", "e", "e+", ".0e0", "x", " ", "0"}
	fields := []string{"a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11", "a12", "a13", "a14"}
	for _, m := range mantissas {
		for _, s := range suffixes {
			for _, f := range fields {
				checkDecode(t, []byte(`{"`+f+`":`+m+s+`}`))
			}
		}
	}
}

// TestDecodeStringsExhaustive decodes every rune, as is and escaped, and
// every escape of a surrogate next to another escape.
func TestDecodeStringsExhaustive(t *testing.T) {
	var b strings.Builder
	for r := rune(0); r <= 0x10FFFF; r += 1 + r/64 {
		b.Reset()
		b.WriteString(`{"a0":"`)
		b.WriteRune(r)
		fmt.Fprintf(&b, `\u%04x`, r&0xFFFF)
		b.WriteString(`"}`)
		checkDecode(t, []byte(b.String()))
	}
	units := []string{`\ud800`, `\udbff`, `\udc00`, `\udfff`, `\ud7ff`, `\ue000`, `\u0041`, `x`, `\n`, "\xff", `é`}
	for _, u1 := range units {
		for _, u2 := range units {
			for _, u3 := range units {
				checkDecode(t, []byte(`{"a0":"`+u1+u2+u3+`"}`))
				checkDecode(t, []byte(`{"\u0061`+u1+u2+u3+`":1}`))
			}
		}
	}
}

// TestKey checks Key against the member names as encoding/json decodes
// them, lower-cased in ASCII, with the two runes outside ASCII that fold to
// an ASCII letter (U+212A to k, U+017F to s) turned into it.
func TestKey(t *testing.T) {
	names := []string{`a0`, `A0`, `a`, ``, `\u0041\u0030`, `\u00e9`, `\u212a`, "\u212a", `\u017f`, "x\u017fy", `É`, "\xff",
		`\ud800`, `\ud83d\ude00`, `\"\\\/\b\f\n\r\t`, `ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_@`,
		strings.Repeat("A", 100), strings.Repeat(`\u0041`, 50), strings.Repeat("a", 31) + "B",
		strings.Repeat("a", 32) + "B", strings.Repeat("a", 33) + `\n`}
	for _, name := range names {
		data := []byte(`{"` + name + `":1,"` + name + `":2}`)
		var want string
		if err := json.Unmarshal([]byte(`"`+name+`"`), &want); err != nil {
			t.Fatal(err)
		}
		want = strings.NewReplacer("\u212a", "k", "\u017f", "s").Replace(asciiLower(want))
		d := jsonwire.NewDecoder(data)
		n := 0
		for d.Next() {
			n++
			if got := string(d.Key()); got != want {
				t.Errorf("Key() for %q = %q, want %q", name, got, want)
			}
			if got := string(d.Key()); got != want {
				t.Errorf("second Key() for %q = %q, want %q", name, got, want)
			}
			d.Skip()
		}
		if err := d.Err(); err != nil || n != 2 {
			t.Errorf("%s: %d members, error %v", data, n, err)
		}
		if d.Key() != nil {
			t.Errorf("Key() after the end = %q, want nil", d.Key())
		}
	}
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TestDecodeProtocol checks the Decoder's behaviour when its methods are
// called out of turn, which generated code does not do.
func TestDecodeProtocol(t *testing.T) {
	t.Run("value twice", func(t *testing.T) {
		d := jsonwire.NewDecoder([]byte(`{"a":"x","b":"y"}`))
		var s string
		if !d.Next() {
			t.Fatal("no member")
		}
		d.String(&s)
		d.String(&s)
		if d.Err() == nil || s != "x" {
			t.Fatalf("second value call: s=%q err=%v, want an error", s, d.Err())
		}
		if d.Next() {
			t.Fatal("Next after an error returned true")
		}
	})
	t.Run("value before Next", func(t *testing.T) {
		d := jsonwire.NewDecoder([]byte(`{"a":"x"}`))
		var s string
		d.String(&s)
		if d.Err() == nil {
			t.Fatal("no error")
		}
	})
	t.Run("value not consumed", func(t *testing.T) {
		d := jsonwire.NewDecoder([]byte(`{"a":[1,{"x":2}],"b":"y"}`))
		var keys []string
		for d.Next() {
			keys = append(keys, string(d.Key()))
		}
		if err := d.Err(); err != nil || strings.Join(keys, ",") != "a,b" {
			t.Fatalf("keys %q, error %v", keys, err)
		}
	})
	t.Run("loop abandoned", func(t *testing.T) {
		for _, c := range []struct {
			data string
			ok   bool
		}{
			{`{"a":1,"b":2}`, true},
			{`{"a":1,"b":[}`, false},
			{`{"a":1} x`, false},
		} {
			d := jsonwire.NewDecoder([]byte(c.data))
			d.Next()
			if err := d.Err(); (err == nil) != c.ok {
				t.Errorf("%s: Err() = %v after one member", c.data, err)
			}
			if err := d.Err(); (err == nil) != c.ok {
				t.Errorf("%s: second Err() = %v", c.data, err)
			}
		}
	})
	t.Run("after error", func(t *testing.T) {
		d := jsonwire.NewDecoder([]byte(`{"a":"x","b":1}`))
		d.Next()
		var n int64
		d.Int64(&n) // a type error
		first := d.Err()
		if first == nil {
			t.Fatal("no error")
		}
		var s string
		d.String(&s)
		d.Skip()
		d.Value(&s)
		if d.Next() || d.Key() != nil || d.Err() != first || s != "" {
			t.Fatal("methods after an error did something")
		}
	})
}

// TestDecodeErrors checks the errors' kinds: encoding/json's own syntax
// errors, and type errors that name the Go type.
func TestDecodeErrors(t *testing.T) {
	var a _S_All_Args
	err := a.DecodeJSON([]byte(`{"a0":"x",}`))
	want := json.Unmarshal([]byte(`{"a0":"x",}`), new(_S_All_Args))
	if _, ok := err.(*json.SyntaxError); !ok || err.Error() != want.Error() {
		t.Errorf("syntax error: %#v, want %#v", err, want)
	}
	err = a.DecodeJSON([]byte(`{"a6":"x"}`))
	if te, ok := err.(*json.UnmarshalTypeError); !ok || te.Type.String() != "int64" || te.Value != "string" {
		t.Errorf("type error: %#v", err)
	}
	err = a.DecodeJSON([]byte(`{"a8":256}`))
	if te, ok := err.(*json.UnmarshalTypeError); !ok || te.Type.String() != "uint8" || te.Value != "number 256" {
		t.Errorf("range error: %#v", err)
	}
	err = a.DecodeJSON([]byte(`{"a16":false}`))
	if err == nil || err.Error() != "counted: false" {
		t.Errorf("UnmarshalJSON error: %v", err)
	}
	if err := a.DecodeJSON([]byte(`[]`)); err == nil || !strings.Contains(err.Error(), "array") {
		t.Errorf("top-level array: %v", err)
	}
}

// TestDecodeFloatBits checks that the values stored are exactly
// strconv.ParseFloat's, sign of zero included, over many random spellings.
func TestDecodeFloatBits(t *testing.T) {
	for i := 0; i < 20000; i++ {
		f := math.Float64frombits(uint64(i) * 0x9E3779B97F4A7C15)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		for _, s := range []string{strconv.FormatFloat(f, 'g', -1, 64), strconv.FormatFloat(f, 'e', 25, 64),
			strconv.FormatFloat(float64(float32(f)), 'g', -1, 32)} {
			checkDecode(t, []byte(`{"a13":`+s+`,"a14":`+s+`}`))
		}
	}
}

// TestDecodeAllocs checks that decoding the fast types allocates nothing but
// the strings stored, that `switch string(d.Key())` does not allocate, and
// that Skip does not allocate.
func TestDecodeAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	cases := []struct {
		data   string
		allocs float64
	}{
		{`{"a0":"` + strings.Repeat("x", 48) + `"}`, 1},
		{`{"a0":"é\u00e9\n"}`, 1},
		{`{"a0":"` + strings.Repeat("x", 48) + `\n"}`, 1},
		{`{"a0":""}`, 0},
		{`{"a1":true,"a2":-2,"a3":-3,"a4":-4,"a5":-5,"a6":-6,"a7":7,"a8":8,"a9":9,"a10":10,"a11":11,"a12":12}`, 0},
		{`{"a13":1.25,"a14":-2.5e-300,"a14":0.1000000000000000055511151}`, 0},
		{`{"A6":1,"\u0061\u0036":2,"` + strings.Repeat("Z", 32) + `":3}`, 0},
		{`{"zz":[1,2,{"q":[true,false,null,"s\n",{"r":{}}]}],"yy":"` + strings.Repeat("y", 100) + `"}`, 0},
		{`null`, 0},
		{`{}`, 0},
	}
	for _, c := range cases {
		data := []byte(c.data)
		var a _S_All_Args
		got := testing.AllocsPerRun(100, func() {
			if err := a.DecodeJSON(data); err != nil {
				t.Fatal(err)
			}
		})
		if got != c.allocs {
			t.Errorf("decode %s: %v allocations, want %v", c.data, got, c.allocs)
		}
	}
}

// TestDecodeSmall is the benchmark's case, checked.
func TestDecodeSmall(t *testing.T) {
	var a _S_Small_Args
	if err := a.DecodeJSON([]byte(smallJSON)); err != nil || a.A0 != smallValue {
		t.Fatalf("%+v %v", a, err)
	}
	checkDecode(t, []byte(smallJSON))
}
