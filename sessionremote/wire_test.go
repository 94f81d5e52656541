package sessionremote

import (
	"testing"

	"github.com/sessionrpc/sessionrpc/internal/wirecheck"
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
