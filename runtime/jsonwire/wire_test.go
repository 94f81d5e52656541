package jsonwire_test

// The structs and methods in this file are written by hand in exactly the
// shape rpcgen generates.

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/sessionrpc/sessionrpc/runtime/jsonwire"
)

type _S_M_Args struct {
	A0 string         `json:"a0"`
	A1 int64          `json:"a1"`
	A2 map[string]int `json:"a2"`
}

func (a *_S_M_Args) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"a0":`...)
	b = jsonwire.AppendString(b, a.A0)
	b = append(b, `,"a1":`...)
	b = jsonwire.AppendInt(b, a.A1)
	b = append(b, `,"a2":`...)
	var err error
	if b, err = jsonwire.AppendValue(b, &a.A2); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

func (a *_S_M_Args) DecodeJSON(data []byte) error {
	d := jsonwire.NewDecoder(data)
	for d.Next() {
		switch string(d.Key()) {
		case "a0":
			d.String(&a.A0)
		case "a1":
			d.Int64(&a.A1)
		case "a2":
			d.Value(&a.A2)
		default:
			d.Skip()
		}
	}
	return d.Err()
}

type _S_M_Result struct {
	R0 bool `json:"r0"`
}

func (a *_S_M_Result) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"r0":`...)
	b = jsonwire.AppendBool(b, a.R0)
	return append(b, '}'), nil
}

func (a *_S_M_Result) DecodeJSON(data []byte) error {
	d := jsonwire.NewDecoder(data)
	for d.Next() {
		switch string(d.Key()) {
		case "r0":
			d.Bool(&a.R0)
		default:
			d.Skip()
		}
	}
	return d.Err()
}

type _S_Empty_Args struct{}

func (a *_S_Empty_Args) AppendJSON(b []byte) ([]byte, error) {
	return append(b, "{}"...), nil
}

func (a *_S_Empty_Args) DecodeJSON(data []byte) error {
	d := jsonwire.NewDecoder(data)
	for d.Next() {
		switch string(d.Key()) {
		default:
			d.Skip()
		}
	}
	return d.Err()
}

// _S_Small_Args is the benchmark struct: one string field.
type _S_Small_Args struct {
	A0 string `json:"a0"`
}

func (a *_S_Small_Args) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"a0":`...)
	b = jsonwire.AppendString(b, a.A0)
	return append(b, '}'), nil
}

func (a *_S_Small_Args) DecodeJSON(data []byte) error {
	d := jsonwire.NewDecoder(data)
	for d.Next() {
		switch string(d.Key()) {
		case "a0":
			d.String(&a.A0)
		default:
			d.Skip()
		}
	}
	return d.Err()
}

// counted has pointer-receiver JSON methods, which json.Marshal(&s) and
// json.Unmarshal(data, &s) use for a field of s. UnmarshalJSON counts its
// calls and keeps the raw bytes it was given, and fails for false.
type counted struct {
	Calls int
	Raw   string
}

func (c *counted) UnmarshalJSON(b []byte) error {
	if string(b) == "false" {
		return errors.New("counted: false")
	}
	c.Calls++
	c.Raw = string(b)
	return nil
}

// MarshalJSON returns JSON that json.Marshal compacts and HTML-escapes.
func (c *counted) MarshalJSON() ([]byte, error) {
	if c.Calls < 0 {
		return nil, errors.New("counted: negative")
	}
	return []byte(` { "calls" : ` + strconv.Itoa(c.Calls) + `, "raw": ` + strconv.Quote(c.Raw) + ` } `), nil
}

type inner struct {
	X int    `json:"x"`
	Y string `json:"y"`
}

// _S_All_Args has one field of every type jsonwire has a fast path for and
// fields of several types that go through the fallback.
type _S_All_Args struct {
	A0  string         `json:"a0"`
	A1  bool           `json:"a1"`
	A2  int            `json:"a2"`
	A3  int8           `json:"a3"`
	A4  int16          `json:"a4"`
	A5  int32          `json:"a5"`
	A6  int64          `json:"a6"`
	A7  uint           `json:"a7"`
	A8  uint8          `json:"a8"`
	A9  uint16         `json:"a9"`
	A10 uint32         `json:"a10"`
	A11 uint64         `json:"a11"`
	A12 uintptr        `json:"a12"`
	A13 float32        `json:"a13"`
	A14 float64        `json:"a14"`
	A15 map[string]int `json:"a15"`
	A16 counted        `json:"a16"`
	A17 *int           `json:"a17"`
	A18 inner          `json:"a18"`
	A19 []byte         `json:"a19"`
	A20 any            `json:"a20"`
	A21 *counted       `json:"a21"`
	A22 time.Time      `json:"a22"`
}

func (a *_S_All_Args) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"a0":`...)
	b = jsonwire.AppendString(b, a.A0)
	b = append(b, `,"a1":`...)
	b = jsonwire.AppendBool(b, a.A1)
	b = append(b, `,"a2":`...)
	b = jsonwire.AppendInt(b, a.A2)
	b = append(b, `,"a3":`...)
	b = jsonwire.AppendInt(b, a.A3)
	b = append(b, `,"a4":`...)
	b = jsonwire.AppendInt(b, a.A4)
	b = append(b, `,"a5":`...)
	b = jsonwire.AppendInt(b, a.A5)
	b = append(b, `,"a6":`...)
	b = jsonwire.AppendInt(b, a.A6)
	b = append(b, `,"a7":`...)
	b = jsonwire.AppendUint(b, a.A7)
	b = append(b, `,"a8":`...)
	b = jsonwire.AppendUint(b, a.A8)
	b = append(b, `,"a9":`...)
	b = jsonwire.AppendUint(b, a.A9)
	b = append(b, `,"a10":`...)
	b = jsonwire.AppendUint(b, a.A10)
	b = append(b, `,"a11":`...)
	b = jsonwire.AppendUint(b, a.A11)
	b = append(b, `,"a12":`...)
	b = jsonwire.AppendUint(b, a.A12)
	b = append(b, `,"a13":`...)
	var err error
	if b, err = jsonwire.AppendFloat32(b, a.A13); err != nil {
		return b, err
	}
	b = append(b, `,"a14":`...)
	if b, err = jsonwire.AppendFloat64(b, a.A14); err != nil {
		return b, err
	}
	b = append(b, `,"a15":`...)
	if b, err = jsonwire.AppendValue(b, &a.A15); err != nil {
		return b, err
	}
	b = append(b, `,"a16":`...)
	if b, err = jsonwire.AppendValue(b, &a.A16); err != nil {
		return b, err
	}
	b = append(b, `,"a17":`...)
	if b, err = jsonwire.AppendValue(b, &a.A17); err != nil {
		return b, err
	}
	b = append(b, `,"a18":`...)
	if b, err = jsonwire.AppendValue(b, &a.A18); err != nil {
		return b, err
	}
	b = append(b, `,"a19":`...)
	if b, err = jsonwire.AppendValue(b, &a.A19); err != nil {
		return b, err
	}
	b = append(b, `,"a20":`...)
	if b, err = jsonwire.AppendValue(b, &a.A20); err != nil {
		return b, err
	}
	b = append(b, `,"a21":`...)
	if b, err = jsonwire.AppendValue(b, &a.A21); err != nil {
		return b, err
	}
	b = append(b, `,"a22":`...)
	if b, err = jsonwire.AppendValue(b, &a.A22); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

func (a *_S_All_Args) DecodeJSON(data []byte) error {
	d := jsonwire.NewDecoder(data)
	for d.Next() {
		switch string(d.Key()) {
		case "a0":
			d.String(&a.A0)
		case "a1":
			d.Bool(&a.A1)
		case "a2":
			d.Int(&a.A2)
		case "a3":
			d.Int8(&a.A3)
		case "a4":
			d.Int16(&a.A4)
		case "a5":
			d.Int32(&a.A5)
		case "a6":
			d.Int64(&a.A6)
		case "a7":
			d.Uint(&a.A7)
		case "a8":
			d.Uint8(&a.A8)
		case "a9":
			d.Uint16(&a.A9)
		case "a10":
			d.Uint32(&a.A10)
		case "a11":
			d.Uint64(&a.A11)
		case "a12":
			d.Uintptr(&a.A12)
		case "a13":
			d.Float32(&a.A13)
		case "a14":
			d.Float64(&a.A14)
		case "a15":
			d.Value(&a.A15)
		case "a16":
			d.Value(&a.A16)
		case "a17":
			d.Value(&a.A17)
		case "a18":
			d.Value(&a.A18)
		case "a19":
			d.Value(&a.A19)
		case "a20":
			d.Value(&a.A20)
		case "a21":
			d.Value(&a.A21)
		case "a22":
			d.Value(&a.A22)
		default:
			d.Skip()
		}
	}
	return d.Err()
}

// Compile-time checks that the generated shape implements the interfaces.
var (
	_ jsonwire.Marshaler   = (*_S_All_Args)(nil)
	_ jsonwire.Unmarshaler = (*_S_All_Args)(nil)
	_ json.Marshaler       = (*counted)(nil)
)
