package callctx

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

type key struct{}

func TestValuesAndDeadline(t *testing.T) {
	parent := context.WithValue(context.Background(), key{}, "v")
	c := New(parent, time.Hour)
	defer c.Cancel()
	if got := c.Value(key{}); got != "v" {
		t.Errorf("Value = %v, want the parent's v", got)
	}
	dl, ok := c.Deadline()
	if !ok || time.Until(dl) < 59*time.Minute || time.Until(dl) > time.Hour {
		t.Errorf("Deadline = %v, %v; want about an hour from now", dl, ok)
	}
	if _, ok := New(parent, 0).Deadline(); ok {
		t.Error("a call without a timeout has a deadline")
	}
	if err := c.Err(); err != nil {
		t.Errorf("Err before the end = %v", err)
	}
}

func TestCancel(t *testing.T) {
	for _, doneFirst := range []bool{false, true} {
		c := New(context.Background(), time.Hour)
		var done <-chan struct{}
		if doneFirst {
			done = c.Done()
		}
		c.Cancel()
		if !doneFirst {
			done = c.Done()
		}
		select {
		case <-done:
		default:
			t.Fatalf("Done not closed after Cancel (Done called first: %v)", doneFirst)
		}
		if err := c.Err(); err != context.Canceled {
			t.Errorf("Err = %v, want context.Canceled", err)
		}
		c.Cancel() // again: nothing changes
		if err := c.Err(); err != context.Canceled {
			t.Errorf("Err after a second Cancel = %v", err)
		}
	}
}

// Err reports the deadline even when nobody called Done, so that no timer
// was running.
func TestErrAfterDeadlineWithoutDone(t *testing.T) {
	c := New(context.Background(), time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	if c.timer != nil {
		t.Fatal("a timer started without Done")
	}
	if err := c.Err(); err != context.DeadlineExceeded {
		t.Fatalf("Err = %v, want context.DeadlineExceeded", err)
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed after the deadline")
	}
	c.Cancel()
	if err := c.Err(); err != context.DeadlineExceeded {
		t.Errorf("Cancel after the deadline changed Err to %v", err)
	}
}

func TestDoneAtDeadline(t *testing.T) {
	c := New(context.Background(), 10*time.Millisecond)
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed at the deadline")
	}
	if err := c.Err(); err != context.DeadlineExceeded {
		t.Errorf("Err = %v, want context.DeadlineExceeded", err)
	}
}

func TestNoDeadlineNeverEnds(t *testing.T) {
	c := New(context.Background(), 0)
	select {
	case <-c.Done():
		t.Fatal("Done closed without a deadline or Cancel")
	case <-time.After(10 * time.Millisecond):
	}
	c.Cancel()
	<-c.Done()
}

// Contexts derived from a call's context end with it: cancelled with it, and
// at its deadline.
func TestDerivedContexts(t *testing.T) {
	c := New(context.Background(), time.Hour)
	child, stop := context.WithCancel(c)
	defer stop()
	timed, stop2 := context.WithTimeout(c, time.Hour)
	defer stop2()
	c.Cancel()
	for _, d := range []context.Context{child, timed} {
		select {
		case <-d.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("derived context not cancelled with its parent")
		}
		if !errors.Is(d.Err(), context.Canceled) || context.Cause(d) != context.Canceled {
			t.Errorf("derived Err = %v, Cause = %v", d.Err(), context.Cause(d))
		}
	}

	c = New(context.Background(), 10*time.Millisecond)
	child, stop = context.WithCancel(c)
	defer stop()
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("derived context did not end at the parent's deadline")
	}
	if child.Err() != context.DeadlineExceeded {
		t.Errorf("derived Err = %v, want context.DeadlineExceeded", child.Err())
	}
}

func TestAfterFunc(t *testing.T) {
	c := New(context.Background(), time.Hour)
	ran := make(chan struct{})
	context.AfterFunc(c, func() { close(ran) })
	stopped := context.AfterFunc(c, func() { t.Error("a stopped func ran") })
	if !stopped() {
		t.Error("stop reported that it did not stop a func that had not run")
	}
	c.Cancel()
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("AfterFunc's func did not run after Cancel")
	}

	// On a context that has ended, the func runs at once.
	late := make(chan struct{})
	stop := context.AfterFunc(c, func() { close(late) })
	<-late
	if stop() {
		t.Error("stop reported stopping a func that ran")
	}

	// A deadline that passed without a timer also runs it.
	c = New(context.Background(), time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	expired := make(chan struct{})
	c.AfterFunc(func() { close(expired) })
	<-expired
	if c.Err() != context.DeadlineExceeded {
		t.Errorf("Err = %v, want context.DeadlineExceeded", c.Err())
	}
}

// The reason for the package: a call's context that nobody waits on costs
// one allocation.
func TestOneAllocation(t *testing.T) {
	parent := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		c := New(parent, time.Minute)
		_ = c.Err()
		c.Cancel()
	})
	if allocs != 1 {
		t.Errorf("New, Err, Cancel: %v allocations, want 1", allocs)
	}
}

// Run with -race: Done, Err, Cancel and the deadline from many goroutines.
func TestConcurrentUse(t *testing.T) {
	for range 100 {
		c := New(context.Background(), time.Duration(1+time.Now().UnixNano()%3)*time.Millisecond)
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				switch i {
				case 0:
					<-c.Done()
				case 1:
					for c.Err() == nil {
						time.Sleep(100 * time.Microsecond)
					}
				case 2:
					child, stop := context.WithCancel(c)
					<-child.Done()
					stop()
				case 3:
					c.Cancel()
				}
			})
		}
		wg.Wait()
		if err := c.Err(); err != context.Canceled && err != context.DeadlineExceeded {
			t.Fatalf("Err = %v", err)
		}
	}
}

// A value of the context's own is found without asking the parent, and the
// parent's values are still there.
func TestOwnValue(t *testing.T) {
	type other struct{}
	parent := context.WithValue(context.Background(), other{}, "parent's")
	c := NewWithValue(parent, time.Minute, key{}, "own")
	defer c.Cancel()
	if got := c.Value(key{}); got != "own" {
		t.Errorf("Value(key) = %v, want own", got)
	}
	if got := c.Value(other{}); got != "parent's" {
		t.Errorf("Value(other) = %v, want the parent's", got)
	}
	child, stop := context.WithCancel(c)
	defer stop()
	if got := child.Value(key{}); got != "own" {
		t.Errorf("a derived context's Value(key) = %v", got)
	}
	if got := New(parent, 0).Value(key{}); got != nil {
		t.Errorf("without a value of its own, Value(key) = %v", got)
	}
}
