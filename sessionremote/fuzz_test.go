package sessionremote_test

import (
	"encoding/json"
	"testing"

	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// FuzzDispatch feeds arbitrary argument payloads to every sys.sessionRemote
// route through the server's codec path, as a hostile backend could: the
// frontend answers each with a response (an error code or success), never
// panics, and its store stays consistent.
func FuzzDispatch(f *testing.F) {
	routes := []string{
		sessionremote.SessionRemoteBindRoute, sessionremote.SessionRemoteUnbindRoute,
		sessionremote.SessionRemotePushRoute, sessionremote.SessionRemotePushAllRoute,
		sessionremote.SessionRemoteGetBackendSessionBySidRoute, sessionremote.SessionRemoteGetBackendSessionsByUidRoute,
		sessionremote.SessionRemoteKickBySidRoute, sessionremote.SessionRemoteKickByUidRoute,
		sessionremote.SessionRemotePushIfRoute, sessionremote.SessionRemoteUpdateSettingsRoute,
	}
	for i := range routes {
		for _, seed := range []string{
			`{"a0":1,"a1":"u1"}`, `{"a0":1,"a1":"k","a2":{"json":{"x":[1,2]}}}`, `{"a0":1,"a1":{"k":"v","n":null}}`,
			`{"a0":"u1","a1":"bye"}`, `{"a0":-1}`, `{"a0":18446744073709551616}`, `{"a0":1,"a1":"k","a2":{"json":"{"}}`, `[`, ``, `null`,
			`{"a0":1,"a1":"k","a2":"[1]","a3":2}`, `{"a0":1,"a1":"k","a2":"{","a3":0}`, `{"a0":1,"a1":"k","a2":"","a3":2}`,
			`{"a0":1,"a1":{"k":1},"a2":["x"],"a3":1}`, `{"a0":1,"a1":{"k":1},"a2":["k"],"a3":0}`, `{"a0":1,"a2":["x","x"],"a3":99}`,
		} {
			f.Add(uint8(i), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, payload []byte) {
		store := session.NewStore("connector-1")
		s := store.Create(nil)
		s.Bind("u1")
		srv := runtime.NewServer()
		sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
		resp := srv.Endpoint().Handle(runtime.Request{Route: routes[int(route)%len(routes)], Payload: payload}, nil)
		if resp.Code == runtime.OK && resp.Key != "" {
			t.Fatalf("success with an error key %q", resp.Key)
		}
		// Every value the store holds can be read back, and the revision
		// moved only with a change.
		store.Range(func(s *session.Session) bool {
			info := s.Export()
			for k, v := range info.Settings {
				if !json.Valid(v) {
					t.Fatalf("store holds invalid JSON for %q: %q", k, v)
				}
			}
			if changed := info.UID != "u1" || len(info.Settings) > 0; changed != (info.Revision > 2) {
				t.Fatalf("session %+v: revision %d for changed = %v", info, info.Revision, changed)
			}
			return true
		})
	})
}
