package runtime

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzParseRequest: any bytes either parse into a request that re-encodes to
// a request equal to it, or fail with ErrMalformed; never a panic.
func FuzzParseRequest(f *testing.F) {
	f.Add(AppendRequest(nil, &Request{Route: "sys.sessionRemote.bind", Timeout: time.Second, Payload: []byte(`{"a0":1,"a1":"u"}`)}))
	f.Add(AppendRequest(nil, &Request{Route: "x", Metadata: Metadata{"k": "v", "trace": "t"}.Encode()}))
	f.Add([]byte{envelopeVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRequest(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not match ErrMalformed", err)
			}
			return
		}
		again, err := ParseRequest(AppendRequest(nil, &r))
		if err != nil {
			t.Fatalf("re-encoded request does not parse: %v", err)
		}
		if again.Route != r.Route || again.Timeout != r.Timeout || !bytes.Equal(again.Payload, r.Payload) || again.Metadata != r.Metadata {
			t.Fatalf("round trip changed the request: %+v vs %+v", r, again)
		}
		// The entries read one by one are those of the map, the last
		// value of a key sent twice.
		md := r.Metadata.Map()
		if len(md) > r.Metadata.Len() || (len(md) == 0) != (r.Metadata.Len() == 0) {
			t.Fatalf("%d entries in the map, %d sent", len(md), r.Metadata.Len())
		}
		for k, v := range md {
			if got, ok := r.Metadata.Get(k); !ok || got != v {
				t.Fatalf("metadata %q: Get %q %v, Map %q", k, got, ok, v)
			}
		}
	})
}

// FuzzParseResponse: as FuzzParseRequest, for responses.
func FuzzParseResponse(f *testing.F) {
	f.Add(AppendResponse(nil, &Response{Payload: []byte(`{"r0":{"id":1}}`)}))
	f.Add(AppendResponse(nil, &Response{Code: NotFound, Key: "session not found", Message: "session not found: sid 1"}))
	f.Add([]byte{envelopeVersion, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseResponse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not match ErrMalformed", err)
			}
			return
		}
		again, err := ParseResponse(AppendResponse(nil, &r))
		if err != nil {
			t.Fatalf("re-encoded response does not parse: %v", err)
		}
		if again.Code != r.Code || again.Key != r.Key || again.Message != r.Message || !bytes.Equal(again.Payload, r.Payload) {
			t.Fatalf("round trip changed the response: %+v vs %+v", r, again)
		}
		// Whatever the code, the error a caller sees is a valid one.
		if err := r.Err(); err != nil && !CodeOf(err).valid() {
			t.Fatalf("invalid code %v reached a caller", CodeOf(err))
		}
	})
}
