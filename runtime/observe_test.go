package runtime_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/runtime"
)

// startSeen is what an Observer's StartCall was given.
type startSeen struct {
	Route    string
	Unknown  bool
	Metadata string
	Code     runtime.Code
}

type startRecorder struct{ seen []startSeen }

type seenKey struct{}

func (r *startRecorder) StartCall(ctx context.Context, info runtime.CallInfo) context.Context {
	return context.WithValue(ctx, seenKey{}, startSeen{info.Route, info.UnknownRoute, runtime.MetadataFromContext(ctx)["traceparent"], 0})
}

func (r *startRecorder) EndCall(ctx context.Context, _ runtime.CallInfo, end runtime.CallEnd) {
	s := ctx.Value(seenKey{}).(startSeen)
	s.Code = end.Code
	r.seen = append(r.seen, s)
}

// Calls refused before they are served (here: the endpoint is closing) reach
// the Observer with the caller's metadata and whether their route is known,
// as served calls do (runtime/rpctest checks those on every transport).
func TestObserverSeesRefusedCallsMetadataAndUnknownRoutes(t *testing.T) {
	rec := &startRecorder{}
	srv := runtime.NewServer(runtime.WithObserver(rec))
	srv.RegisterService(&benchDesc, nil)
	ep := srv.Endpoint()
	ep.Close()
	for _, route := range []string{"bench.svc.bind", "made.up.route"} {
		data := runtime.AppendRequest(nil, &runtime.Request{Route: route, Metadata: runtime.Metadata{"traceparent": "t-" + route}.Encode(), Payload: []byte("{}")})
		var c runtime.Call
		resp, ok := ep.Begin(&c, data, nil, nil)
		if ok || resp.Code != runtime.Unavailable {
			t.Fatalf("Begin on a closed endpoint = %v, %v; want an Unavailable refusal", resp, ok)
		}
	}
	want := []startSeen{
		{"bench.svc.bind", false, "t-bench.svc.bind", runtime.Unavailable},
		{"made.up.route", true, "t-made.up.route", runtime.Unavailable},
	}
	if diff := cmp.Diff(want, rec.seen); diff != "" {
		t.Errorf("the observer saw (-want +got):\n%s", diff)
	}
}
