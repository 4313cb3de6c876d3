package webhook

import "testing"

func TestCoalescerBurstWhileBusy(t *testing.T) {
	c := NewCoalescer()
	received := make(chan string, 10)
	busy := make(chan struct{})
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		first := <-c.C()
		received <- first
		close(busy)
		<-release // the pass is running
		for {
			select {
			case r := <-c.C():
				received <- r
			default:
				return
			}
		}
	}()

	c.Trigger("first")
	<-busy
	for i := 0; i < 1000; i++ {
		c.Trigger("burst")
	}
	close(release)
	<-done
	close(received)

	var got []string
	for r := range received {
		got = append(got, r)
	}
	if len(got) != 2 {
		t.Fatalf("got %d receipts %v, want 2 (the first and one coalesced)", len(got), got)
	}
	if got[0] != "first" || got[1] != "burst" {
		t.Errorf("got reasons %v, want [first burst]", got)
	}
}

func TestCoalescerNothingPending(t *testing.T) {
	c := NewCoalescer()
	select {
	case r := <-c.C():
		t.Fatalf("got pending trigger %q on a new Coalescer, want none", r)
	default:
	}
	c.Trigger("a")
	c.Trigger("b")
	if got := <-c.C(); got != "a" {
		t.Errorf("got reason %q, want the first pending %q", got, "a")
	}
	select {
	case r := <-c.C():
		t.Errorf("got second trigger %q, want the burst coalesced into one", r)
	default:
	}
}
