package session

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// String returns the settings as fmt prints a map, map[key:value ...], with
// the keys sorted and each value shown as its JSON text (7, "red",
// {"x":1}) rather than as the bytes it is kept in. A value with no bytes,
// which [Store.PushAll] reads as "delete this key", shows as <nil>.
//
// It makes %v and %+v of a Settings, or of an [Info] holding one, readable
// in logs and test failures.
func (s Settings) String() string {
	var b strings.Builder
	b.WriteString("map[")
	for i, k := range slices.Sorted(maps.Keys(s)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte(':')
		writeValue(&b, s[k])
	}
	b.WriteByte(']')
	return b.String()
}

// writeValue writes raw as compact JSON text, so that a value pushed with
// spaces or newlines still prints on one line; its digits and strings are
// unchanged. Bytes that are not valid JSON, which the store never holds but
// a hand-built Settings might, are written as they are.
func writeValue(b *strings.Builder, raw json.RawMessage) {
	if len(raw) == 0 {
		b.WriteString("<nil>")
		return
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		b.Write(raw)
		return
	}
	b.Write(buf.Bytes())
}
