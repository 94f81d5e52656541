// Package jsonwire encodes and decodes the argument and result structs that
// rpcgen generates, without reflection.
//
// It exists for generated code only. For every method rpcgen emits wire
// structs such as
//
//	type _S_M_Args struct {
//		A0 string         `json:"a0"`
//		A1 int64          `json:"a1"`
//		A2 map[string]int `json:"a2"`
//	}
//
// and for each of them an AppendJSON method (see [Marshaler]) built from the
// Append functions of this package, and a DecodeJSON method (see
// [Unmarshaler]) built from a [Decoder]. Fields of other types go through
// [AppendValue] and [Decoder.Value], which call encoding/json.
//
// The contract is that the generated methods behave exactly like
// encoding/json: AppendJSON produces the bytes json.Marshal(&s) produces,
// byte for byte, and fails exactly when it fails; DecodeJSON accepts exactly
// the inputs json.Unmarshal(data, &s) accepts and, when both succeed, leaves s
// exactly as json.Unmarshal would (null leaves a string, bool or number field
// unchanged, the last of duplicate members wins, members are matched to fields
// case-insensitively, and so on). A peer may therefore use either. Only the
// text of error messages may differ.
//
// The fast paths assume the shape rpcgen generates: JSON names made of
// lower-case ASCII letters other than k and s and of digits (see
// [Decoder.Key]), no omitempty or string options, and fields of the basic
// kinds the functions name. A type with a MarshalJSON, MarshalText,
// UnmarshalJSON or UnmarshalText method (on the value or the pointer) must go
// through [AppendValue] and [Decoder.Value], as encoding/json calls those
// methods; so must every type that is not a bool, string, integer or float.
// A named type of such a kind without those methods may use the fast path,
// converted: AppendInt takes any ~int64, and the Decoder methods take
// pointers, so (*int64)(&a.A1) serves for a field of type
// `type ID int64`. The exception is json.Number, a string type that
// encoding/json writes and reads as a number: it must go through the
// fallback.
//
// This mirrors encoding/json as built without GOEXPERIMENT=jsonv2.
package jsonwire
