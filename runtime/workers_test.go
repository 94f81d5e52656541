package runtime

import (
	"sync"
	"testing"
	"time"
)

func TestWorkersRunEverythingAndReuse(t *testing.T) {
	w := NewWorkers(4)
	defer w.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ran := 0
	for range 1000 {
		wg.Add(1)
		w.Go(func() {
			defer wg.Done()
			mu.Lock()
			ran++
			mu.Unlock()
		})
	}
	wg.Wait()
	if ran != 1000 {
		t.Fatalf("ran %d of 1000", ran)
	}
	// After the burst, at most maxIdle wait; a new function reuses one.
	deadline := time.Now().Add(5 * time.Second)
	for w.idle.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := w.idle.Load(); n < 1 || n > 4 {
		t.Fatalf("%d idle workers, want 1..4", n)
	}
}

func TestWorkersCloseEndsIdle(t *testing.T) {
	w := NewWorkers(8)
	done := make(chan struct{})
	w.Go(func() { close(done) })
	<-done
	deadline := time.Now().Add(5 * time.Second)
	for w.idle.Load() != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	w.Close()
	for w.idle.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := w.idle.Load(); n != 0 {
		t.Fatalf("%d idle workers after Close", n)
	}
	ran := make(chan struct{})
	w.Go(func() { close(ran) }) // still works after Close
	<-ran
}
