package session_test

// One test per pomelo bug from SESSIONS.md (at the repository root) that concerns the
// store, proving it is not copied. Bug 9 (lost updates between backends) is answered by
// revisions and conditional writes (revision_test.go, and sessionremote's tests); the
// merge semantics it rests on are tested by TestPushAllMerges.

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/session"
)

// Pomelo bug 1: BackendSession.export returned every field undefined.
func TestExportFieldsPopulated(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	if err := s.Bind("u1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("room", 7); err != nil {
		t.Fatal(err)
	}
	want := session.Info{
		ID:         s.ID(),
		FrontendID: fid,
		UID:        "u1",
		Revision:   3, // created, bound, set
		Settings:   session.Settings{"room": json.RawMessage(`7`)},
	}
	if diff := cmp.Diff(want, s.Export()); diff != "" {
		t.Errorf("Session.Export (-want +got):\n%s", diff)
	}
	got, err := st.Export(s.ID())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Store.Export (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]session.Info{want}, st.ExportByUID("u1")); diff != "" {
		t.Errorf("Store.ExportByUID (-want +got):\n%s", diff)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"id":1,"frontendId":"frontend-server-1","uid":"u1","revision":3,"settings":{"room":7}}`
	if string(b) != wantJSON {
		t.Errorf("JSON export = %s, want %s", b, wantJSON)
	}
}

// Pomelo bug 2: Session.remove(key) deleted the session's own field instead of the setting.
func TestRemoveDeletesSetting(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	if err := s.Bind("u1"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"uid", "id", "other"} {
		if err := s.Set(k, k+"-value"); err != nil {
			t.Fatal(err)
		}
	}
	s.Remove("uid")
	s.Remove("id")
	s.Remove("missing") // removing an absent key is harmless
	if _, ok := s.Raw("uid"); ok {
		t.Error(`setting "uid" survived Remove`)
	}
	if _, ok := s.Raw("id"); ok {
		t.Error(`setting "id" survived Remove`)
	}
	if s.UID() != "u1" || s.ID() != 1 {
		t.Errorf("Remove changed the session itself: uid %q id %d", s.UID(), s.ID())
	}
	if list := st.GetByUID("u1"); len(list) != 1 {
		t.Errorf("Remove(\"uid\") unindexed the session: GetByUID = %v", ids(list))
	}
	want := session.Settings{"other": json.RawMessage(`"other-value"`)}
	if diff := cmp.Diff(want, s.Export().Settings); diff != "" {
		t.Errorf("settings after Remove (-want +got):\n%s", diff)
	}
	s.Remove("other")
	if got := s.Export().Settings; len(got) != 0 {
		t.Errorf("settings after removing every key = %s", got)
	}
}

// Pomelo bug 3: uid 0 or "" broke bind and unbind through truthiness checks.
// "" is rejected cleanly; "0" is an ordinary uid.
func TestEmptyUIDRejectedZeroUIDBinds(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	hooks := 0
	st.OnBind(func(*session.Session, string) { hooks++ })
	st.OnUnbind(func(*session.Session, string) { hooks++ })

	for name, err := range map[string]error{
		"Store.Bind":     st.Bind(s.ID(), ""),
		"Session.Bind":   s.Bind(""),
		"Store.Unbind":   st.Unbind(s.ID(), ""),
		"Session.Unbind": s.Unbind(""),
	} {
		if !errors.Is(err, session.ErrInvalidUID) {
			t.Errorf("%s(\"\") = %v, want ErrInvalidUID", name, err)
		}
	}
	if hooks != 0 || s.UID() != "" {
		t.Fatalf("rejected empty uid still ran %d hooks / left uid %q", hooks, s.UID())
	}
	if uids, _ := session.UIDIndexSize(st); uids != 0 {
		t.Fatalf("empty uid left %d uid-index entries", uids)
	}

	if err := s.Bind("0"); err != nil {
		t.Fatalf(`Bind("0"): %v`, err)
	}
	if list := st.GetByUID("0"); len(list) != 1 {
		t.Fatalf(`GetByUID("0") = %v`, ids(list))
	}
	if err := s.Unbind("0"); err != nil {
		t.Fatalf(`Unbind("0"): %v`, err)
	}
	if hooks != 2 {
		t.Fatalf(`bind+unbind of "0" ran %d hooks, want 2`, hooks)
	}
}

// Pomelo bug 4: mixing "5" and 5 left stale uid-index entries.
// Keys are typed here; bind, unbind, rebind and close cycles, including a uid that spells
// a sid, leave the index holding exactly the live bindings.
func TestNoStaleUIDIndexEntries(t *testing.T) {
	st := session.NewStore(fid)
	a := st.Create(nil)
	b := st.Create(nil)
	sidUID := "1" // the uid that spells a's sid

	steps := []func() error{
		func() error { return st.Bind(a.ID(), sidUID) },
		func() error { return st.Bind(b.ID(), sidUID) },
		func() error { return st.Unbind(a.ID(), sidUID) },
		func() error { return st.Bind(a.ID(), "x") },
		func() error { return a.Unbind("x") },
		func() error { return a.Bind(sidUID) },
		func() error { return st.Unbind(b.ID(), sidUID) },
		func() error { return b.Bind("y") },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	check := func(want map[string][]session.ID) {
		t.Helper()
		entries := 0
		for uid, w := range want {
			if got := ids(st.GetByUID(uid)); !cmp.Equal(got, w, cmpEmpty) {
				t.Errorf("GetByUID(%q) = %v, want %v", uid, got, w)
			}
			entries += len(w)
		}
		nonEmpty := 0
		for _, w := range want {
			if len(w) > 0 {
				nonEmpty++
			}
		}
		if u, e := session.UIDIndexSize(st); u != nonEmpty || e != entries {
			t.Errorf("uid index holds %d uids / %d entries, want %d / %d", u, e, nonEmpty, entries)
		}
	}
	check(map[string][]session.ID{sidUID: {a.ID()}, "x": nil, "y": {b.ID()}})
	a.Close("")
	check(map[string][]session.ID{sidUID: nil, "x": nil, "y": {b.ID()}})
	st.KickByUID("y", "")
	check(map[string][]session.ID{sidUID: nil, "x": nil, "y": nil})
}

// Pomelo bug 6: the settings "deep copy" was shallow.
// No snapshot, copy or pushed buffer may alias the store, nested values included.
func TestSnapshotNeverAliases(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	if err := s.Bind("u"); err != nil {
		t.Fatal(err)
	}
	nested := map[string]any{"a": map[string]any{"b": []any{1, "two", map[string]any{"c": true}}}}
	if err := s.Set("nested", nested); err != nil {
		t.Fatal(err)
	}
	pushed := []byte(`{"list":[1,2,3]}`)
	if err := st.Push(s.ID(), "pushed", pushed); err != nil {
		t.Fatal(err)
	}
	all := session.Settings{"merged": []byte(`[{"x":1}]`)}
	if err := st.PushAll(s.ID(), all); err != nil {
		t.Fatal(err)
	}
	want := s.Export()

	// Scribble over every way a caller can hold the store's bytes or maps.
	scribble := func(info session.Info) {
		for k, v := range info.Settings {
			for i := range v {
				v[i] = 'X'
			}
			info.Settings[k] = append(v, "tail"...)
		}
		info.Settings["added"] = json.RawMessage(`1`)
	}
	scribble(s.Export())
	exported, err := st.Export(s.ID())
	if err != nil {
		t.Fatal(err)
	}
	scribble(exported)
	byUID := st.ExportByUID("u")
	if len(byUID) != 1 {
		t.Fatalf("ExportByUID = %d infos, want 1", len(byUID))
	}
	scribble(byUID[0])
	fill(pushed)
	fill(all["merged"])
	all["merged2"] = json.RawMessage(`2`)
	raw, _ := s.Raw("nested")
	fill(raw)
	var decoded map[string]any
	if _, err := s.Get("nested", &decoded); err != nil {
		t.Fatal(err)
	}
	decoded["a"].(map[string]any)["b"] = nil

	if diff := cmp.Diff(want, s.Export()); diff != "" {
		t.Fatalf("store changed through a copy (-before +after):\n%s", diff)
	}
	var again map[string]any
	if _, err := s.Get("nested", &again); err != nil {
		t.Fatal(err)
	}
	if b := again["a"].(map[string]any)["b"]; b == nil {
		t.Fatal("decoded value aliases the store")
	}
}

// Settings.Clone is deep, and appending to one cloned value cannot spill into another
// that shares its backing array.
func TestSettingsCloneDeep(t *testing.T) {
	if session.Settings(nil).Clone() != nil {
		t.Fatal("Clone of nil Settings is not nil")
	}
	orig := session.Settings{"a": json.RawMessage(`1`), "b": json.RawMessage(`[2]`), "del": nil}
	c := orig.Clone()
	if diff := cmp.Diff(orig, c); diff != "" {
		t.Fatalf("Clone differs (-orig +clone):\n%s", diff)
	}
	if v, ok := c["del"]; !ok || v != nil {
		t.Fatalf("Clone turned a nil value into %q (present %v)", v, ok)
	}
	c["a"] = append(c["a"], '9', '9', '9')
	fill(c["b"])
	if string(orig["a"]) != "1" || string(orig["b"]) != "[2]" {
		t.Fatalf("original changed through clone: %s", orig)
	}
	if d := orig.Clone(); string(append(d["a"], 'x')) != "1x" || string(d["b"]) != "[2]" {
		t.Fatalf("append to one cloned value changed another: %s", d)
	}
}

// Pomelo bug 8: numbers went through float64.
// Every value round-trips Set → Get exactly, and also through a JSON-encoded Info, as it
// would over the wire.
func TestValuesRoundTripLosslessly(t *testing.T) {
	type inner struct {
		N uint64         `json:"n"`
		M map[string]any `json:"m"`
	}
	type outer struct {
		I   int64             `json:"i"`
		F   float64           `json:"f"`
		S   []inner           `json:"s"`
		Ptr *string           `json:"ptr"`
		Raw json.RawMessage   `json:"raw"`
		Map map[string]uint64 `json:"map"`
	}
	str := "ptr"
	cases := map[string]any{
		"int64 max":    int64(math.MaxInt64),
		"int64 min":    int64(math.MinInt64),
		"uint64 max":   uint64(math.MaxUint64),
		"2^53+1":       int64(1<<53 + 1),
		"-(2^53+1)":    -int64(1<<53 + 1),
		"float":        0.1,
		"float max":    math.MaxFloat64,
		"float tiny":   math.SmallestNonzeroFloat64,
		"float neg":    -1.5e-300,
		"string":       "héllo \"quoted\" \u2028 \x00 <tag>",
		"empty string": "",
		"true":         true,
		"false":        false,
		"nested slice": []any{[]any{json.Number("18446744073709551615"), "x"}, nil},
		"nested map":   map[string]any{"a": map[string]any{"b": json.Number("-9223372036854775808")}},
		"struct": outer{
			I: math.MinInt64, F: 1e-7,
			S:   []inner{{N: math.MaxUint64, M: map[string]any{"k": json.Number("9007199254740993")}}},
			Ptr: &str, Raw: json.RawMessage(`{"z":[1,2]}`), Map: map[string]uint64{"u": math.MaxUint64},
		},
	}
	st := session.NewStore(fid)
	s := st.Create(nil)
	for name, v := range cases {
		if err := s.Set(name, v); err != nil {
			t.Fatalf("Set(%s): %v", name, err)
		}
		into := reflect.New(reflect.TypeOf(v))
		if ok, err := s.Get(name, into.Interface()); !ok || err != nil {
			t.Fatalf("Get(%s) = %v, %v", name, ok, err)
		}
		if diff := cmp.Diff(v, into.Elem().Interface()); diff != "" {
			t.Errorf("%s: Set→Get (-set +got):\n%s", name, diff)
		}
	}

	// Through the wire shape: Info → JSON → Info, then decode.
	b, err := json.Marshal(s.Export())
	if err != nil {
		t.Fatal(err)
	}
	var info session.Info
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	for name, v := range cases {
		into := reflect.New(reflect.TypeOf(v))
		if _, err := info.Settings.Get(name, into.Interface()); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v, into.Elem().Interface()); diff != "" {
			t.Errorf("%s: over JSON (-set +got):\n%s", name, diff)
		}
	}

	// Untyped reads keep the exact digits as json.Number.
	for name, digits := range map[string]string{
		"int64 max": "9223372036854775807", "int64 min": "-9223372036854775808",
		"uint64 max": "18446744073709551615", "2^53+1": "9007199254740993",
	} {
		var got any
		if _, err := s.Get(name, &got); err != nil {
			t.Fatal(err)
		}
		if got != json.Number(digits) {
			t.Errorf("%s into *any = %#v, want json.Number(%s)", name, got, digits)
		}
	}

	// JSON null is a value, distinct from an absent key.
	if err := st.Push(s.ID(), "null", json.RawMessage(`null`)); err != nil {
		t.Fatal(err)
	}
	if raw, ok := s.Raw("null"); !ok || string(raw) != "null" {
		t.Errorf("null setting = %q, %v; want null, true", raw, ok)
	}
	p := &str
	if ok, err := s.Get("null", &p); !ok || err != nil || p != nil {
		t.Errorf("Get(null) into *string = %v, %v, %v; want nil pointer, true", p, ok, err)
	}

	// Raw JSON pushed by a backend keeps its exact bytes.
	exact := json.RawMessage(`{"big":18446744073709551615,"f":1.000000000000000000001}`)
	if err := st.Push(s.ID(), "exact", exact); err != nil {
		t.Fatal(err)
	}
	if raw, _ := s.Raw("exact"); !bytes.Equal(raw, exact) {
		t.Errorf("pushed raw JSON changed: %s", raw)
	}
}

// Values that JSON cannot carry are refused, not stored half-way.
func TestInvalidValues(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	for name, v := range map[string]any{"NaN": math.NaN(), "+Inf": math.Inf(1), "chan": make(chan int)} {
		if err := s.Set(name, v); !errors.Is(err, session.ErrInvalidValue) {
			t.Errorf("Set(%s) = %v, want ErrInvalidValue", name, err)
		}
	}
	if err := st.Push(s.ID(), "k", json.RawMessage(`{"a":`)); !errors.Is(err, session.ErrInvalidValue) {
		t.Errorf("Push of truncated JSON = %v, want ErrInvalidValue", err)
	}
	if err := st.Push(s.ID(), "k", json.RawMessage(`1 2`)); !errors.Is(err, session.ErrInvalidValue) {
		t.Errorf("Push of two JSON values = %v, want ErrInvalidValue", err)
	}
	err := st.PushAll(s.ID(), session.Settings{"good": json.RawMessage(`1`), "bad": json.RawMessage(`nope`)})
	if !errors.Is(err, session.ErrInvalidValue) {
		t.Errorf("PushAll with a bad value = %v, want ErrInvalidValue", err)
	}
	if got := s.Export().Settings; len(got) != 0 {
		t.Errorf("failed writes left settings behind: %s", got)
	}
	var n int
	if err := session.DecodeValue(json.RawMessage(`1 2`), &n); !errors.Is(err, session.ErrInvalidValue) {
		t.Errorf("DecodeValue with trailing data = %v, want ErrInvalidValue", err)
	}
}

// PushAll merges (absent keys kept, nil deletes) and Push with a nil value deletes,
// where pomelo stored null and could never delete.
func TestPushAllMerges(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	if err := st.PushAll(s.ID(), session.Settings{"a": json.RawMessage(`1`), "b": json.RawMessage(`2`), "c": json.RawMessage(`3`)}); err != nil {
		t.Fatal(err)
	}
	if err := st.PushAll(s.ID(), session.Settings{"b": json.RawMessage(`20`), "c": nil, "d": json.RawMessage(`4`)}); err != nil {
		t.Fatal(err)
	}
	if err := st.Push(s.ID(), "d", nil); err != nil {
		t.Fatal(err)
	}
	if err := st.PushAll(s.ID(), nil); err != nil {
		t.Fatalf("PushAll(nil) on a live session: %v", err)
	}
	want := session.Settings{"a": json.RawMessage(`1`), "b": json.RawMessage(`20`)}
	if diff := cmp.Diff(want, s.Export().Settings); diff != "" {
		t.Fatalf("settings after merges (-want +got):\n%s", diff)
	}
}

// fill overwrites b in place, as a careless caller reusing a buffer would.
func fill(b []byte) {
	for i := range b {
		b[i] = '#'
	}
}

// cmpEmpty treats nil and empty slices as equal.
var cmpEmpty = cmp.Comparer(func(a, b []session.ID) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
})
