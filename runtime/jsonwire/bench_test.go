package jsonwire_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// The benchmarks compare the generated-shape methods with encoding/json for
// a small struct: one string field of 48 bytes.

var (
	smallValue = strings.Repeat("0123456789abcdef", 3)
	smallJSON  = `{"a0":"` + smallValue + `"}`
	sink       []byte
)

func BenchmarkEncodeSmall(b *testing.B) {
	s := &_S_Small_Args{A0: smallValue}
	b.Run("jsonwire", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = s.AppendJSON(buf[:0])
		}
	})
	b.Run("jsonwire-nilbuf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink, _ = s.AppendJSON(nil)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(s)
		}
	})
}

func BenchmarkDecodeSmall(b *testing.B) {
	data := []byte(smallJSON)
	b.Run("jsonwire", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s _S_Small_Args
			if err := s.DecodeJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s _S_Small_Args
			if err := json.Unmarshal(data, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// allJSON sets every fast field of _S_All_Args.
const allJSON = `{"a0":"s","a1":true,"a2":-2,"a3":-3,"a4":-4,"a5":-5,"a6":-6,"a7":7,"a8":8,"a9":9,"a10":10,"a11":11,"a12":12,"a13":1.25,"a14":-2.5}`

func BenchmarkDecodeFastFields(b *testing.B) {
	data := []byte(allJSON)
	b.Run("jsonwire", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s _S_All_Args
			if err := s.DecodeJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s _S_All_Args
			if err := json.Unmarshal(data, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
