package cluster

import (
	"reflect"
	"testing"
)

// FuzzParseMessage feeds any bytes to what a view parses off a member
// subject: it never panics, and what it accepts survives a round trip.
func FuzzParseMessage(f *testing.F) {
	inc := "0123456789abcdef0123456789abcdef"
	f.Add("room", "room-1", []byte("hb "+inc+" 3 1700000000000000000"))
	f.Add("room", "room-1", []byte(`{"op":"join","id":"room-1","type":"room","addr":"10.0.0.7:3150","incarnation":"`+inc+
		`","started_unix_ns":1,"state":"draining","version":2,"leave_bound_ms":3000,"routes":["a","b"],"metadata":{"k":"v"}}`))
	f.Add("room", "room-1", []byte(`{"op":"leave","id":"room-1","type":"room","incarnation":"`+inc+`","state":"serving","version":1,"leave_bound_ms":300}`))
	f.Add("", "", []byte(`{"id":"x","type":"t","incarnation":"`+inc+`","state":"serving","version":1,"leave_bound_ms":3000}`))
	f.Add("room", "room-1", []byte("hb "+inc+" 18446744073709551615 -1"))
	f.Add("room", "room-1", []byte(`{"metadata":{"":""}}`))
	f.Add("", "", []byte(`{"id":"x","type":"t","incarnation":"`+inc+`","state":"serving","version":1,"leave_bound_ms":3000,"routes":[],"metadata":{}}`))
	f.Fuzz(func(t *testing.T, typ, id string, data []byte) {
		m, err := parseMessage(typ, id, data)
		if err != nil {
			return
		}
		if m.hb {
			again, err := parseMessage(typ, id, appendHeartbeat(nil, m.beat.inc, m.beat.version, m.beat.started))
			if err != nil || again.beat != m.beat {
				t.Fatalf("heartbeat %q: round trip gave %+v, %v", data, again.beat, err)
			}
			return
		}
		if id != "" && (m.rec.ID != id || m.rec.Type != typ) {
			t.Fatalf("record of %s/%s accepted on the subject of %s/%s", m.rec.Type, m.rec.ID, typ, id)
		}
		again, err := parseMessage(typ, id, m.rec.encode(m.rec.Op))
		if err != nil || !reflect.DeepEqual(again.rec, m.rec) {
			t.Fatalf("record %q: round trip gave %+v, %v", data, again.rec, err)
		}
		mem := m.rec.member()
		if mem.ID != m.rec.ID || mem.LeaveBound < MinLeaveBound {
			t.Fatalf("member %+v of record %+v", mem, m.rec)
		}
	})
}
