package session

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Reads of a whole session do not queue behind its lock: once a version of the session
// is published, every export of it (shared or copied, by sid or by uid) completes while
// a writer holds the lock. Before, each export cloned the settings under the lock, so
// concurrent reads of a session with 1 MiB of settings queued on it by the thousand.
func TestExportsDoNotWaitForTheLock(t *testing.T) {
	st := NewStore("connector-1")
	s := st.Create(nil)
	if err := s.Bind("u"); err != nil {
		t.Fatal(err)
	}
	big := json.RawMessage(`"` + strings.Repeat("x", 256<<10) + `"`)
	if err := st.Push(s.ID(), "big", big); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ExportShared(s.ID()); err != nil { // publishes the current version
		t.Fatal(err)
	}

	s.mu.Lock() // a writer in the middle of a change
	done := make(chan struct{})
	go func() {
		defer close(done)
		if info, err := st.ExportShared(s.ID()); err != nil || len(info.Settings["big"]) != len(big) {
			t.Errorf("ExportShared = %v", err)
		}
		if info, err := st.Export(s.ID()); err != nil || len(info.Settings["big"]) != len(big) {
			t.Errorf("Export = %v", err)
		}
		if n := len(st.ExportSharedByUID("u")); n != 1 {
			t.Errorf("ExportSharedByUID: %d sessions", n)
		}
		if n := len(st.ExportByUID("u")); n != 1 {
			t.Errorf("ExportByUID: %d sessions", n)
		}
		if info := s.Export(); info.UID != "u" {
			t.Errorf("Session.Export = %+v", info)
		}
	}()
	waited := false
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		waited = true
	}
	s.mu.Unlock()
	<-done
	if waited {
		t.Fatal("an export of an unchanged session waited for the session's lock")
	}
}
