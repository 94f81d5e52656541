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
// Fields that hold structs, pointers, slices, maps with string keys and
// json.RawMessage values, built of the basic kinds all the way down, are
// encoded and decoded without encoding/json too: generated code loops over
// a nested struct's members with [Decoder.Object] and [Decoder.Next] as over
// the top-level ones, and [AppendSlice], [AppendMap], [AppendRawMessage],
// [Slice], [Map] and [Decoder.RawMessage] hold what every such type shares.
//
// The fast paths assume the shape rpcgen generates: JSON names of ASCII
// letters, digits, '_', '-' and '.', no two the same in lower case (see
// [Decoder.Key]), no options but omitempty (and that not on floats), and
// fields of the kinds the functions name. A type with a MarshalJSON, MarshalText,
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
