package natsrpc

import (
	"strconv"
	"testing"
	"unsafe"

	"github.com/sessionrpc/sessionrpc/runtime"
)

// Call subjects are built once per server id, up to a bound; beyond it they
// are still right, only built anew; invalid ids are refused, not kept.
func TestSubjectOfCaches(t *testing.T) {
	tr := &Transport{prefix: "p", subjects: make(map[string]*target)}
	first, err := tr.subjectOf("srv-1")
	if err != nil || first != "p.srv-1" {
		t.Fatalf("subjectOf(srv-1) = %q, %v", first, err)
	}
	if again, _ := tr.subjectOf("srv-1"); unsafe.StringData(again) != unsafe.StringData(first) {
		t.Fatal("the subject of a server called before was built anew")
	}
	if _, err := tr.subjectOf("a.b"); runtime.CodeOf(err) != runtime.InvalidArgument {
		t.Fatalf("subjectOf(a.b) = %v, want InvalidArgument", err)
	}
	for i := range maxCachedSubjects + 10 {
		id := "s" + strconv.Itoa(i)
		if got, err := tr.subjectOf(id); err != nil || got != "p."+id {
			t.Fatalf("subjectOf(%s) = %q, %v", id, got, err)
		}
	}
	if n := len(tr.subjects); n != maxCachedSubjects {
		t.Fatalf("%d subjects kept, want the bound, %d", n, maxCachedSubjects)
	}
}
