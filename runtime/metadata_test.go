package runtime

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEncodedMetadata(t *testing.T) {
	many := Metadata{}
	for i := range 200 { // a count and lengths of more than one varint byte
		many[fmt.Sprintf("key-%d", i)] = strings.Repeat("v", i)
	}
	for _, md := range []Metadata{nil, {}, {"traceparent": "00-1-2-01"}, {"": "empty key", "k": ""}, many} {
		e := md.Encode()
		if e.Len() != len(md) {
			t.Errorf("Len = %d, want %d", e.Len(), len(md))
		}
		got := e.Map()
		if len(md) == 0 {
			if got != nil {
				t.Errorf("Map of no metadata = %v, want nil", got)
			}
			continue
		}
		if diff := cmp.Diff(md, got); diff != "" {
			t.Errorf("Map (-encoded +decoded):\n%s", diff)
		}
		for k, v := range md {
			if got, ok := e.Get(k); !ok || got != v {
				t.Errorf("Get(%q) = %q, %v; want %q", k, got, ok, v)
			}
		}
		if v, ok := e.Get("absent"); ok {
			t.Errorf("Get(absent) = %q, true", v)
		}
	}
	if got := (Metadata{"b": "2", "a": "1"}).Encode().String(); got != "map[a:1 b:2]" {
		t.Errorf("String = %q", got)
	}
	if (EncodedMetadata{}) != (Metadata{}).Encode() {
		t.Error("empty metadata does not encode to the zero value")
	}
}

// A key sent twice has its last value, read either way, as the map the
// server built before metadata was kept encoded.
func TestEncodedMetadataDuplicateKey(t *testing.T) {
	data := AppendRequest(nil, &Request{Route: "a.b.c"})
	// version, route, timeout, then two entries of the same key.
	i := 1 + 1 + len("a.b.c") + 1
	dup := append(append([]byte{}, data[:i]...), 2, 1, 'k', 1, '1', 1, 'k', 1, '2')
	r, err := ParseRequest(dup)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Metadata.Get("k"); v != "2" {
		t.Errorf("Get = %q, want the last value", v)
	}
	if diff := cmp.Diff(Metadata{"k": "2"}, r.Metadata.Map()); diff != "" {
		t.Errorf("Map:\n%s", diff)
	}
}

// Metadata in wire form that is not well formed (the parser never makes it,
// and no caller can) is read up to where it goes wrong, never past its end.
func TestEncodedMetadataNotWellFormed(t *testing.T) {
	for _, wire := range []string{
		"\x05\x01k\x01v", // claims five entries, has one
		"\x01\x09k",      // a key longer than what is left
		"\x01\x01k",      // a key without its value
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", // a count of more than 64 bits
		"\x80", // a count cut short
	} {
		e := EncodedMetadata{wire: wire}
		if v, ok := e.Get("k"); ok && v != "v" {
			t.Errorf("%q: Get = %q", wire, v)
		}
		if m := e.Map(); len(m) > 1 {
			t.Errorf("%q: Map = %v", wire, m)
		}
	}
}

func TestWithMetadataMerges(t *testing.T) {
	ctx := context.Background()
	if WithMetadata(ctx, nil) != ctx {
		t.Error("no metadata made a new context")
	}
	first := Metadata{"trace": "t1", "user": "u0"}
	ctx = WithMetadata(ctx, first)
	second := Metadata{"user": "u1", "room": "r"}
	ctx = WithMetadata(ctx, second)
	first["trace"], second["user"] = "changed", "changed" // copied: no effect
	want := Metadata{"trace": "t1", "user": "u1", "room": "r"}
	if diff := cmp.Diff(want, outgoingMetadata(ctx).Map()); diff != "" {
		t.Errorf("merged metadata (-want +got):\n%s", diff)
	}
	if n := outgoingMetadata(ctx).Len(); n != 3 {
		t.Errorf("%d entries, want 3: a replaced key is sent once", n)
	}
	// Outgoing metadata is not incoming: a handler that calls on does not
	// forward what it was sent unless it says so.
	if md := MetadataFromContext(ctx); md != nil {
		t.Errorf("outgoing metadata read as incoming: %v", md)
	}
	in := withIncomingMetadata(context.Background(), Metadata{"k": "v"}.Encode())
	if v, ok := MetadataValue(in, "k"); !ok || v != "v" {
		t.Errorf("MetadataValue = %q, %v", v, ok)
	}
	if md := outgoingMetadata(in); md.Len() != 0 {
		t.Errorf("incoming metadata sent on: %v", md.Map())
	}
}

// What metadata costs: one allocation for the encoded entries and one for
// the context, on each side, whatever the number of keys; reading a key
// costs none.
func TestMetadataAllocations(t *testing.T) {
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() {
		_ = WithMetadata(ctx, Metadata{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", "k": "v"})
	}); n != 2 {
		t.Errorf("WithMetadata: %v allocations, want 2", n)
	}
	srv := NewServer()
	srv.RegisterService(&parseTestDesc, nil)
	data := AppendRequest(nil, &Request{Route: "bench.svc.bind", Timeout: time.Second,
		Metadata: Metadata{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", "k": "v"}.Encode()})
	if n := testing.AllocsPerRun(100, func() { _, _ = srv.parseRequest(data) }); n != 1 {
		t.Errorf("parsing a request with metadata: %v allocations, want 1", n)
	}
	r, _ := srv.parseRequest(data)
	in := withIncomingMetadata(ctx, r.Metadata)
	if n := testing.AllocsPerRun(100, func() { _, _ = MetadataValue(in, "k") }); n != 0 {
		t.Errorf("MetadataValue: %v allocations, want 0", n)
	}
}
