// Package wirecheck tests that the JSON methods rpcgen generates on wire
// structs (AppendJSON and DecodeJSON) behave exactly as encoding/json does on
// the same struct: the same bytes out, the same values in, an error exactly
// when encoding/json has one.
//
// encoding/json is run on a twin of the struct: a type made with
// reflect.StructOf from the same fields and tags, which has no methods, so
// encoding/json reflects over it as it did before the methods existed.
package wirecheck

import (
	"encoding/json"
	"reflect"
	"testing"
)

// Wire is what rpcgen generates on a pointer to a wire struct.
type Wire interface {
	AppendJSON(b []byte) ([]byte, error)
	DecodeJSON(data []byte) error
}

// twin returns a pointer to a zero value of the method-less twin of the
// struct v points to.
func twin(v Wire) reflect.Value {
	t := reflect.TypeOf(v).Elem()
	fields := make([]reflect.StructField, t.NumField())
	for i := range fields {
		f := t.Field(i)
		fields[i] = reflect.StructField{Name: f.Name, Type: f.Type, Tag: f.Tag}
	}
	return reflect.New(reflect.StructOf(fields))
}

// Encode fails t unless v.AppendJSON appends what encoding/json encodes for
// the same value (and fails when encoding/json fails), also after bytes
// already in the buffer.
func Encode(t testing.TB, v Wire) {
	t.Helper()
	tw := twin(v)
	tw.Elem().Set(reflect.ValueOf(v).Elem().Convert(tw.Elem().Type()))
	want, wantErr := json.Marshal(tw.Interface())
	got, err := v.AppendJSON([]byte("prefix"))
	switch {
	case (err != nil) != (wantErr != nil):
		t.Fatalf("%T AppendJSON error %v, encoding/json error %v", v, err, wantErr)
	case err == nil && string(got) != "prefix"+string(want):
		t.Fatalf("%T AppendJSON = %s, encoding/json = prefix%s", v, got, want)
	}
}

// Decode fails t unless newWire().DecodeJSON(data) stores what
// encoding/json's Unmarshal stores into a zero struct, with an error exactly
// when Unmarshal has one. Values are compared only on success (after an
// error neither is used); then the value must also [Encode] as
// encoding/json encodes it.
func Decode[W Wire](t testing.TB, newWire func() W, data []byte) {
	t.Helper()
	v := newWire()
	err := v.DecodeJSON(data)
	tw := twin(v)
	wantErr := json.Unmarshal(data, tw.Interface())
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%T DecodeJSON(%q) error %v, encoding/json error %v", v, data, err, wantErr)
	}
	if err != nil {
		return
	}
	got := reflect.ValueOf(v).Elem().Convert(tw.Elem().Type()).Interface()
	if want := tw.Elem().Interface(); !reflect.DeepEqual(got, want) {
		t.Fatalf("%T DecodeJSON(%q) = %+v, encoding/json = %+v", v, data, got, want)
	}
	Encode(t, v)
}
