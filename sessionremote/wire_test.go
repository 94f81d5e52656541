package sessionremote

import (
	"testing"

	"github.com/sessionrpc/sessionrpc/internal/wirecheck"
	"github.com/sessionrpc/sessionrpc/session"
)

// wireDecoders checks, for every wire struct of sys.sessionRemote, that its
// generated JSON methods decode (and re-encode) data as encoding/json does.
var wireDecoders = []func(*testing.T, []byte){
	func(t *testing.T, data []byte) { wirecheck.Decode(t, newOf[_SessionRemote_Bind_Args], data) },
	func(t *testing.T, data []byte) { wirecheck.Decode(t, newOf[_SessionRemote_Unbind_Args], data) },
	func(t *testing.T, data []byte) { wirecheck.Decode(t, newOf[_SessionRemote_Push_Args], data) },
	func(t *testing.T, data []byte) { wirecheck.Decode(t, newOf[_SessionRemote_PushAll_Args], data) },
	func(t *testing.T, data []byte) {
		wirecheck.Decode(t, newOf[_SessionRemote_GetBackendSessionBySid_Args], data)
	},
	func(t *testing.T, data []byte) {
		wirecheck.Decode(t, newOf[_SessionRemote_GetBackendSessionBySid_Result], data)
	},
	func(t *testing.T, data []byte) {
		wirecheck.Decode(t, newOf[_SessionRemote_GetBackendSessionsByUid_Args], data)
	},
	func(t *testing.T, data []byte) {
		wirecheck.Decode(t, newOf[_SessionRemote_GetBackendSessionsByUid_Result], data)
	},
	func(t *testing.T, data []byte) { wirecheck.Decode(t, newOf[_SessionRemote_KickBySid_Args], data) },
	func(t *testing.T, data []byte) { wirecheck.Decode(t, newOf[_SessionRemote_KickByUid_Args], data) },
	func(t *testing.T, data []byte) { wirecheck.Decode(t, newOf[_SessionRemote_PushIf_Args], data) },
	func(t *testing.T, data []byte) { wirecheck.Decode(t, newOf[_SessionRemote_PushIf_Result], data) },
	func(t *testing.T, data []byte) { wirecheck.Decode(t, newOf[_SessionRemote_UpdateSettings_Args], data) },
	func(t *testing.T, data []byte) {
		wirecheck.Decode(t, newOf[_SessionRemote_UpdateSettings_Result], data)
	},
}

func newOf[T any]() *T { return new(T) }

// wireSeeds are payloads each wire struct is tried with: what clients send,
// and what encoding/json treats in its own ways.
var wireSeeds = []string{
	`{"a0":7,"a1":"u1"}`,
	`{"a0":18446744073709551615,"a1":"room","a2":{"x":[1,2]}}`,
	`{"a0":18446744073709551616}`,
	`{"a0":-1}`,
	`{"a0":1.5}`,
	`{"a0":"7"}`,
	`{"A0":3,"A1":"upper-case names match"}`,
	`{"a0":1,"a0":2}`,
	`{"a1":null,"a2":null}`,
	`{"a1":"\u00e9\ud83d\ude00\ud800 \"q\" <&>"}`,
	"{\"a1\":\"\xff\xfe\"}",
	`{"a1":"x","a2":{"k":1},"a2":{"l":2}}`,
	`{"r0":{"id":1,"frontendId":"f","uid":"u","settings":{"k":[1]}}}`,
	`{"r0":{"id":1,"frontendId":"f","uid":"u","revision":18446744073709551615,"settings":{"k":[1]}}}`,
	`{"r0":{"revision":-1}}`,
	`{"a0":3,"a1":{"k":1,"n":null},"a2":["gone","x"],"a3":7}`,
	`{"a0":3,"a1":null,"a2":null,"a3":0}`,
	`{"a2":[1],"a3":"7"}`,
	`{"a2":"k","a3":18446744073709551616}`,
	`{"r0":15}`,
	`{"a0":3,"a1":"room","a2":"{\"a\":[1,\"\u003c\"]}","a3":4}`,
	`{"a0":3,"a1":"room","a2":"","a3":0}`,
	`{"a2":7}`,
	`{"r0":-2}`,
	`{"r0":[{"id":1},{"id":2}]}`,
	`{"unknown":[{"deep":[1,2,{"x":null}]}],"a0":1}`,
	`null`,
	` {} `,
	`{}x`,
	`[]`,
	`{"a0":01}`,
	`{"a0":1,}`,
	``,
	// Nested values: Setting, *session.Info, []session.Info, Settings.
	`{"a2":{"json":{ "x" : [1, 2] , "y":"<&>\u2028"}}}`,
	"{\"a2\":{\"json\":\"\u2028\xe2\x80\xa9 <\"}}",
	`{"a2":{"JSON":1,"jſon":2,"json":null}}`,
	`{"a2":{"json":1},"a2":{"x":2}}`,
	`{"a2":null}`,
	`{"a2":[]}`,
	`{"a2":{"json":}}`,
	`{"a1":{"k":" 1 ","":null,"\u006b":[],"ſ":{}}}`,
	`{"a1":{"b":1,"a":2},"a1":{"c":3,"a":4}}`,
	`{"a1":[]}`,
	`{"r0":{"ID":9,"FRONTENDID":"f","Uid":"u","ſettings":{"a":{"b":[true,false,null]}},"Settings":{}}}`,
	`{"r0":{"id":1},"r0":{"uid":"x"}}`,
	`{"r0":{"id":1},"r0":null}`,
	`{"r0":{"settings":null,"revision":3}}`,
	`{"r0":{"settings":[]}}`,
	`{"r0":[{"id":1,"settings":{"a":1}},null,{"id":2}]}`,
	`{"r0":[{"id":1},{"id":2},{"id":3}],"r0":[{"uid":"u"}],"r0":[{},{}]}`,
	`{"r0":[],"r0":null}`,
	`{"r0":[1]}`,
	`{"r0":{"id":"1"}}`,
	`{"r0":[{"id":1,}]}`,
	`{"r0":[[[[[[[[[[]]]]]]]]]]}`,
}

func TestWireJSONMatchesEncodingJSON(t *testing.T) {
	for _, decode := range wireDecoders {
		for _, seed := range wireSeeds {
			decode(t, []byte(seed))
		}
	}
}

func FuzzWireJSON(f *testing.F) {
	for i := range wireDecoders {
		for _, seed := range wireSeeds {
			f.Add(uint8(i), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		wireDecoders[int(which)%len(wireDecoders)](t, data)
	})
}

// TestSettingEncodesAsEncodingJSON checks the generated encoding of
// Setting, whose value is a json.RawMessage, against encoding/json for
// values no decoding produces: invalid JSON, values with spaces and with
// characters that encoding/json escapes.
func TestSettingEncodesAsEncodingJSON(t *testing.T) {
	for _, raw := range settingSeeds {
		checkSettingEncoding(t, []byte(raw))
	}
}

var settingSeeds = []string{"", " ", "1", " 1 ", "1 2", `{"a" : [ 1 , "<>&" ] }`, "\"\u2028\xe2\x80\xa9\"", "\"\xff\"",
	`"\u003c"`, `[`, `{"a":1}x`, "\t\n\r\"\\\"\"", `nul`, `null`, `{"a":{"b":{"c":[[]]}}}`}

func checkSettingEncoding(t *testing.T, raw []byte) {
	t.Helper()
	v := &_SessionRemote_Push_Args{A0: 7, A1: "k", A2: Setting{JSON: raw}}
	wirecheck.Encode(t, v)
	v.A2.JSON = nil
	wirecheck.Encode(t, v)
	info := &_SessionRemote_GetBackendSessionBySid_Result{R0: &session.Info{ID: 1, Settings: session.Settings{"k": raw, "a<": raw}}}
	wirecheck.Encode(t, info)
	all := &_SessionRemote_PushAll_Args{A1: session.Settings{"k": raw}}
	wirecheck.Encode(t, all)
}

// FuzzSettingEncoding is [TestSettingEncodesAsEncodingJSON] for any bytes.
func FuzzSettingEncoding(f *testing.F) {
	for _, raw := range settingSeeds {
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkSettingEncoding(t, raw)
	})
}
