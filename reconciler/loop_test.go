package reconciler_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/amigo-gitops/amigo/cmd/amigo-bench/estate"
	"github.com/amigo-gitops/amigo/reconciler"
)

// TestRunFoldsBurst: triggers that arrive while a pass runs fold into one
// more pass, which waits for MinGap; a trigger that finds the loop idle
// runs at once.
func TestRunFoldsBurst(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	scene, err := estate.AtRest(ctx, estate.Spec{Stacks: 2, Strategy: "bluegreen", Version: "v1.5"})
	if err != nil {
		t.Fatal(err)
	}
	triggers := make(chan reconciler.Trigger, 1)
	send := func(r string) {
		select {
		case triggers <- r:
		default:
		}
	}
	release := make(chan struct{})
	var mu sync.Mutex
	var passes []string
	var starts []time.Time
	done := make(chan struct{})
	const gap = 150 * time.Millisecond
	go func() {
		defer close(done)
		_ = scene.Rec.Run(ctx, reconciler.LoopOptions{
			Interval: func() time.Duration { return time.Hour },
			Triggers: triggers,
			MinGap:   gap,
			OnPass: func(trigger string, _ reconciler.PassResult, _ error, took time.Duration) {
				mu.Lock()
				passes = append(passes, trigger)
				starts = append(starts, time.Now().Add(-took))
				n := len(passes)
				mu.Unlock()
				if n == 1 {
					<-release // the burst arrives while the first pass "runs"
				}
			},
		})
	}()
	for i := 0; i < 100; i++ {
		send("webhook")
	}
	close(release)
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(passes) }
	waitFor(t, func() bool { return count() >= 2 })
	time.Sleep(3 * gap) // room for a wrong third pass
	if got := count(); got != 2 {
		t.Fatalf("a burst during the first pass caused %d passes in all, want 2 (%v)", got, passes)
	}
	mu.Lock()
	held := starts[1].Sub(starts[0])
	mu.Unlock()
	if held < gap {
		t.Errorf("second pass started %s after the first, want at least the gap %s", held, gap)
	}
	send("webhook") // the loop is idle now: this runs without holding
	waitFor(t, func() bool { return count() == 3 })
	cancel()
	<-done
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met within 5s")
}
