package session_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/sessionrpc/sessionrpc/session"
)

// A session's revision starts at 1 and moves by one with each change, through
// the frontend's handle and the store alike; calls that change nothing leave
// it. Every snapshot carries it.
func TestRevisionCountsChanges(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	steps := []struct {
		what string
		do   func() error
		rev  uint64
	}{
		{"create", func() error { return nil }, 1},
		{"Bind", func() error { return s.Bind("u") }, 2},
		{"Bind again", func() error { return s.Bind("u") }, 2},
		{"Set", func() error { return s.Set("k", 1) }, 3},
		{"Set the same value", func() error { return s.Set("k", 1) }, 3},
		{"Push of the same value, spaced", func() error { return st.Push(s.ID(), "k", json.RawMessage(` 1 `)) }, 3},
		{"Remove of an absent key", func() error { s.Remove("nope"); return nil }, 3},
		{"PushAll of two keys", func() error {
			return st.PushAll(s.ID(), session.Settings{"k": json.RawMessage(`2`), "l": json.RawMessage(`2`)})
		}, 4},
		{"PushAll deleting an absent key", func() error { return st.PushAll(s.ID(), session.Settings{"nope": nil}) }, 4},
		{"a refused Push", func() error { st.Push(s.ID(), "k", json.RawMessage(`{`)); return nil }, 4},
		{"Remove", func() error { s.Remove("l"); return nil }, 5},
		{"Unbind", func() error { return st.Unbind(s.ID(), "u") }, 6},
	}
	for _, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
		shared, _ := st.ExportShared(s.ID())
		if s.Revision() != step.rev || s.Export().Revision != step.rev || shared.Revision != step.rev {
			t.Fatalf("after %s: revision %d (export %d, shared %d), want %d",
				step.what, s.Revision(), s.Export().Revision, shared.Revision, step.rev)
		}
	}
	s.Kick("")
	if s.Revision() != 6 {
		t.Fatalf("a closed session's revision moved to %d", s.Revision())
	}
}

// PushIf and PushAllIf write only at the revision they name (or with 0, at
// any); otherwise they change nothing and return ErrRevisionConflict with the
// session's current revision.
func TestConditionalPush(t *testing.T) {
	st := session.NewStore(fid)
	s := st.Create(nil)
	rev, err := st.PushIf(s.ID(), "k", json.RawMessage(`1`), 1)
	if err != nil || rev != 2 {
		t.Fatalf("PushIf at the session's revision = %d, %v; want 2", rev, err)
	}
	rev, err = st.PushIf(s.ID(), "k", json.RawMessage(`9`), 1)
	if !errors.Is(err, session.ErrRevisionConflict) || rev != 2 {
		t.Fatalf("PushIf at an old revision = %d, %v; want 2, ErrRevisionConflict", rev, err)
	}
	rev, err = st.PushAllIf(s.ID(), session.Settings{"k": json.RawMessage(`9`), "l": json.RawMessage(`9`)}, 3)
	if !errors.Is(err, session.ErrRevisionConflict) || rev != 2 {
		t.Fatalf("PushAllIf at a future revision = %d, %v; want 2, ErrRevisionConflict", rev, err)
	}
	if raw, _ := s.Raw("k"); string(raw) != "1" || s.Revision() != 2 {
		t.Fatalf("refused writes changed the session: k = %s, revision %d", raw, s.Revision())
	}
	rev, err = st.PushAllIf(s.ID(), session.Settings{"k": nil, "l": json.RawMessage(`3`)}, 2)
	if err != nil || rev != 3 {
		t.Fatalf("PushAllIf at the session's revision = %d, %v; want 3", rev, err)
	}
	if rev, err := st.PushIf(s.ID(), "l", json.RawMessage(`4`), 0); err != nil || rev != 4 {
		t.Fatalf("PushIf with no condition = %d, %v; want 4", rev, err)
	}
	s.Close("")
	if rev, err := st.PushIf(s.ID(), "l", json.RawMessage(`5`), 4); !errors.Is(err, session.ErrSessionNotFound) || rev != 0 {
		t.Fatalf("PushIf on a closed session = %d, %v; want ErrSessionNotFound", rev, err)
	}
}
