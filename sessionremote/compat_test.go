package sessionremote_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sessionrpc/sessionrpc/runtime"
	"github.com/sessionrpc/sessionrpc/session"
	"github.com/sessionrpc/sessionrpc/sessionremote"
)

// Frames recorded from the generated client and server before revisions and
// UpdateSettings existed (commit cac21a2): what a backend or a frontend of
// that version sends.
var (
	oldRequests = []struct {
		name  string
		frame string
	}{
		{"bind", "\x01\x16sys.sessionRemote.bind\x80\xe4\x97\xd0\x12\x00{\"a0\":1,\"a1\":\"user-42\"}"},
		{"push", "\x01\x16sys.sessionRemote.push\x80\xe4\x97\xd0\x12\x00{\"a0\":1,\"a1\":\"room\",\"a2\":{\"json\":7}}"},
		{"push absent", "\x01\x16sys.sessionRemote.push\x80\xe4\x97\xd0\x12\x00{\"a0\":1,\"a1\":\"gone\",\"a2\":{}}"},
		{"pushAll", "\x01\x19sys.sessionRemote.pushAll\x80\xe4\x97\xd0\x12\x00{\"a0\":1,\"a1\":{\"level\":3,\"name\":\"ada\"}}"},
		{"getBackendSessionBySid", "\x01(sys.sessionRemote.getBackendSessionBySid\x80\xe4\x97\xd0\x12\x00{\"a0\":1}"},
		{"getBackendSessionsByUid", "\x01)sys.sessionRemote.getBackendSessionsByUid\x80\xe4\x97\xd0\x12\x00{\"a0\":\"user-42\"}"},
	}
	oldBySid = "\x01\x00\x00\x00{\"r0\":{\"id\":1,\"frontendId\":\"connector-1\",\"uid\":\"user-42\",\"settings\":{\"room\":7}}}"
	oldByUid = "\x01\x00\x00\x00{\"r0\":[{\"id\":1,\"frontendId\":\"connector-1\",\"uid\":\"user-42\",\"settings\":{\"room\":7}}]}"
)

// A backend of the old version drives a frontend of this one: every frame
// it sends parses and does what it did then (pushes are unconditional), and
// the snapshots it gets back decode into its Info, the revision ignored.
func TestOldBackendFrames(t *testing.T) {
	store := session.NewStore(fid)
	s := store.Create(&conn{})
	s.Set("gone", 1)
	srv := runtime.NewServer()
	sessionremote.RegisterSessionRemoteServer(srv, sessionremote.NewFrontend(store))
	answers := map[string]runtime.Response{}
	for _, r := range oldRequests {
		req, err := runtime.ParseRequest([]byte(r.frame))
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		resp := srv.Endpoint().Handle(req, nil)
		if err := resp.Err(); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		answers[r.name] = resp
	}
	want := session.Info{ID: 1, FrontendID: fid, UID: "user-42", Revision: 6,
		Settings: session.Settings{"room": json.RawMessage(`7`), "level": json.RawMessage(`3`), "name": json.RawMessage(`"ada"`)}}
	if diff := cmp.Diff(want, s.Export()); diff != "" {
		t.Fatalf("session after the old frames (-want +got):\n%s", diff)
	}
	// The old Info had no revision; encoding/json, which the old client's
	// generated code matches, skips the new field.
	type oldInfo struct {
		ID         session.ID       `json:"id"`
		FrontendID string           `json:"frontendId"`
		UID        string           `json:"uid,omitempty"`
		Settings   session.Settings `json:"settings,omitempty"`
	}
	var bySid struct {
		R0 *oldInfo `json:"r0"`
	}
	if err := json.Unmarshal(answers["getBackendSessionBySid"].Payload, &bySid); err != nil {
		t.Fatal(err)
	}
	var byUid struct {
		R0 []oldInfo `json:"r0"`
	}
	if err := json.Unmarshal(answers["getBackendSessionsByUid"].Payload, &byUid); err != nil {
		t.Fatal(err)
	}
	old := oldInfo{ID: want.ID, FrontendID: want.FrontendID, UID: want.UID, Settings: want.Settings}
	if diff := cmp.Diff(&old, bySid.R0); diff != "" {
		t.Fatalf("old client's view of getBackendSessionBySid (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]oldInfo{old}, byUid.R0); diff != "" {
		t.Fatalf("old client's view of getBackendSessionsByUid (-want +got):\n%s", diff)
	}
}

// A backend of this version reads from a frontend of the old one: the
// recorded answers decode through the generated client, with revision 0,
// "unknown", from which no conditional write is sent
// (TestConditionalWriteNeedsARevision).
func TestOldFrontendFrames(t *testing.T) {
	old := recorded{sessionremote.SessionRemoteGetBackendSessionBySidRoute: oldBySid, sessionremote.SessionRemoteGetBackendSessionsByUidRoute: oldByUid}
	svc := sessionremote.NewBackendSessionService(runtime.NewClient(old))
	want := session.Info{ID: 1, FrontendID: "connector-1", UID: "user-42", Settings: session.Settings{"room": json.RawMessage(`7`)}}
	ctx := bg(t)
	bs, err := svc.Get(ctx, "connector-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, bs.Export()); diff != "" {
		t.Fatalf("Get from an old frontend (-want +got):\n%s", diff)
	}
	list, err := svc.GetByUID(ctx, "connector-1", "user-42")
	if err != nil || len(list) != 1 {
		t.Fatalf("GetByUID from an old frontend = %d sessions, %v", len(list), err)
	}
	if diff := cmp.Diff(want, list[0].Export()); diff != "" {
		t.Fatalf("GetByUID from an old frontend (-want +got):\n%s", diff)
	}
}

// recorded is a transport that answers each route with a recorded response
// frame.
type recorded map[string]string

func (r recorded) RoundTrip(ctx context.Context, serverID string, req *runtime.Request) (runtime.Response, error) {
	frame, ok := r[req.Route]
	if !ok {
		return runtime.ErrorResponse(runtime.Errorf(runtime.Unimplemented, "no recording of %s", req.Route)), nil
	}
	return runtime.ParseResponse([]byte(frame))
}
