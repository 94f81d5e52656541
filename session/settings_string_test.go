package session_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sessionrpc/sessionrpc/session"
)

// Settings print as a map of JSON texts, keys sorted, not as byte slices.
func TestSettingsString(t *testing.T) {
	settings := session.Settings{
		"team":   json.RawMessage(`"red"`),
		"room":   json.RawMessage(`7`),
		"big":    json.RawMessage(`18446744073709551615`),
		"pos":    json.RawMessage("{\n  \"x\": 1,\n  \"tags\": [\"a\", \"b\"]\n}"),
		"null":   json.RawMessage(`null`),
		"delete": nil,
		"empty":  json.RawMessage{},
		"broken": json.RawMessage(`{"x":`),
	}
	want := `map[big:18446744073709551615 broken:{"x": delete:<nil> empty:<nil> null:null pos:{"x":1,"tags":["a","b"]} room:7 team:"red"]`
	for _, format := range []string{"%v", "%+v", "%s"} {
		if got := fmt.Sprintf(format, settings); got != want {
			t.Errorf("Sprintf(%q) =\n%s\nwant\n%s", format, got, want)
		}
	}
	if got := settings.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
	for name, s := range map[string]session.Settings{"nil": nil, "empty": {}} {
		if got := fmt.Sprint(s); got != "map[]" {
			t.Errorf("%s Settings prints %q, want map[]", name, got)
		}
	}
}

// An Info printed with %+v, as a failing test or a log line does, shows its
// settings as JSON text, from a store's export and from a value alike.
func TestInfoPrintsSettingsAsJSON(t *testing.T) {
	st := session.NewStore("connector-1", session.WithIncarnation("run-1"))
	s := st.Create(nil)
	if err := s.Bind("user-42"); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"room": 7, "name": "ada", "seat": []int{1, 2}} {
		if err := s.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	info, err := st.Export(s.ID())
	if err != nil {
		t.Fatal(err)
	}
	want := `{ID:1 FrontendID:connector-1 Incarnation:run-1 UID:user-42 Revision:5 Settings:map[name:"ada" room:7 seat:[1,2]]}`
	if got := fmt.Sprintf("%+v", info); got != want {
		t.Errorf("%%+v of Info =\n%s\nwant\n%s", got, want)
	}
	if got := fmt.Sprintf("%+v", &info); got != "&"+want {
		t.Errorf("%%+v of *Info =\n%s\nwant\n&%s", got, want)
	}
	wantV := `{1 connector-1 run-1 user-42 5 map[name:"ada" room:7 seat:[1,2]]}`
	if got := fmt.Sprintf("%v", info); got != wantV {
		t.Errorf("%%v of Info =\n%s\nwant\n%s", got, wantV)
	}
}
