package runtime

import (
	"sync"
	"testing"
	"time"
)

func TestWorkersRunEverythingAndReuse(t *testing.T) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	ran := 0
	w := NewWorkers(4, func(n int) {
		defer wg.Done()
		mu.Lock()
		ran += n
		mu.Unlock()
	})
	defer w.Close()
	for range 1000 {
		wg.Add(1)
		w.Go(1)
	}
	wg.Wait()
	if ran != 1000 {
		t.Fatalf("ran %d of 1000", ran)
	}
	// After the burst, at most maxIdle wait; a new function reuses one.
	deadline := time.Now().Add(5 * time.Second)
	for int32(w.Idle()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := int32(w.Idle()); n < 1 || n > 4 {
		t.Fatalf("%d idle workers, want 1..4", n)
	}
}

func TestWorkersCloseEndsIdle(t *testing.T) {
	w := NewWorkers(8, func(f func()) { f() })
	done := make(chan struct{})
	w.Go(func() { close(done) })
	<-done
	deadline := time.Now().Add(5 * time.Second)
	for int32(w.Idle()) != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	w.Close()
	for int32(w.Idle()) != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := int32(w.Idle()); n != 0 {
		t.Fatalf("%d idle workers after Close", n)
	}
	ran := make(chan struct{})
	w.Go(func() { close(ran) }) // still works after Close
	<-ran
}
