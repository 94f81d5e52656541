package runtime

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRequestRoundTrip(t *testing.T) {
	for _, r := range []*Request{
		{Route: "a.b.c"},
		{Route: "sys.sessionRemote.bind", Timeout: 1500 * time.Millisecond, Payload: []byte(`{"a0":1}`)},
		{Route: "x", Metadata: Metadata{"trace": "t1", "": "empty key"}.Encode(), Payload: []byte{0, 1, 2}},
	} {
		got, err := ParseRequest(AppendRequest(nil, r))
		if err != nil {
			t.Fatalf("ParseRequest: %v", err)
		}
		if diff := cmp.Diff(*r, got, cmp.Comparer(bytes.Equal), cmpMetadata); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

// cmpMetadata compares encoded metadata by its entries.
var cmpMetadata = cmp.Transformer("Map", EncodedMetadata.Map)

func TestResponseRoundTrip(t *testing.T) {
	for _, r := range []*Response{
		{Payload: []byte(`{"r0":true}`)},
		{Code: NotFound, Key: "session not found", Message: "session not found: sid 3"},
	} {
		got, err := ParseResponse(AppendResponse(nil, r))
		if err != nil {
			t.Fatalf("ParseResponse: %v", err)
		}
		if diff := cmp.Diff(*r, got, cmp.Comparer(bytes.Equal)); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

// Every prefix of a valid envelope that cuts into its header must be refused
// with ErrMalformed, never accepted and never a panic.
func TestTruncatedEnvelopesAreMalformed(t *testing.T) {
	req := AppendRequest(nil, &Request{Route: "sys.x.y", Timeout: time.Second, Metadata: Metadata{"k": "v"}.Encode()})
	for i := range len(req) {
		if _, err := ParseRequest(req[:i]); !errors.Is(err, ErrMalformed) {
			t.Errorf("request cut at %d of %d: err = %v, want ErrMalformed", i, len(req), err)
		}
	}
	resp := AppendResponse(nil, &Response{Code: Internal, Key: "k", Message: "m"})
	for i := range len(resp) {
		if _, err := ParseResponse(resp[:i]); !errors.Is(err, ErrMalformed) {
			t.Errorf("response cut at %d of %d: err = %v, want ErrMalformed", i, len(resp), err)
		}
	}
}

func TestHostileEnvelopes(t *testing.T) {
	huge := []byte{envelopeVersion, 0xff, 0xff, 0xff, 0xff, 0x0f} // route length 4 GiB
	for name, data := range map[string][]byte{
		"bad version":       {9, 0},
		"huge route":        huge,
		"bad varint":        {envelopeVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"too much metadata": append([]byte{envelopeVersion, 1, 'r', 0}, 0xff, 0x01),
	} {
		if _, err := ParseRequest(data); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}
