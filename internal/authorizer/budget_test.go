package authorizer

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

// TestBudget_IsAContextWithDeadline pins that the lazy budget behaves as
// context.WithDeadline would: deadline, expiry, the parent's cancellation,
// values, and stop as the CancelFunc.
func TestBudget_IsAContextWithDeadline(t *testing.T) {
	t.Run("deadline is the earlier of the budget's and the parent's", func(t *testing.T) {
		b := newBudget(context.Background(), time.Hour)
		defer b.stop()
		if d, ok := b.Deadline(); !ok || time.Until(d) < 59*time.Minute {
			t.Errorf("Deadline() = %v, %v; want about an hour from now", d, ok)
		}
		parent, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		b2 := newBudget(parent, time.Hour)
		defer b2.stop()
		pd, _ := parent.Deadline()
		if d, _ := b2.Deadline(); !d.Equal(pd) {
			t.Errorf("Deadline() = %v, want the parent's %v", d, pd)
		}
	})
	t.Run("expires", func(t *testing.T) {
		b := newBudget(context.Background(), time.Millisecond)
		defer b.stop()
		<-b.Done() // bounded by the budget itself: a hang here is the bug
		if !errors.Is(b.Err(), context.DeadlineExceeded) {
			t.Errorf("Err() = %v, want DeadlineExceeded", b.Err())
		}
	})
	t.Run("the parent's cancellation reaches it", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		b := newBudget(parent, time.Hour)
		defer b.stop()
		if b.Err() != nil {
			t.Fatalf("Err() = %v before anything happened", b.Err())
		}
		cancel()
		<-b.Done()
		if !errors.Is(b.Err(), context.Canceled) {
			t.Errorf("Err() = %v, want Canceled", b.Err())
		}
	})
	t.Run("stop cancels, whether or not it was waited on", func(t *testing.T) {
		for _, waited := range []bool{false, true} {
			b := newBudget(context.Background(), time.Hour)
			if waited {
				_ = b.Done()
			}
			b.stop()
			select {
			case <-b.Done():
			default:
				t.Fatalf("waited=%v: Done not closed after stop", waited)
			}
			if !errors.Is(b.Err(), context.Canceled) {
				t.Errorf("waited=%v: Err() = %v, want Canceled", waited, b.Err())
			}
		}
	})
	t.Run("values and derived contexts", func(t *testing.T) {
		parent := context.WithValue(context.Background(), ctxKey{}, "v")
		b := newBudget(parent, time.Hour)
		if got := b.Value(ctxKey{}); got != "v" {
			t.Errorf("Value = %v, want v", got)
		}
		child, cancel := context.WithCancel(b)
		defer cancel()
		b.stop()
		<-child.Done() // a derived context sees the stop
	})
}

// context.AfterFunc on a budget (which takes the budget's AfterFunc,
// without a watching goroutine) runs f when the budget ends: its parent
// cancelled, its deadline passed or stop.
func TestBudget_AfterFunc(t *testing.T) {
	tests := []struct {
		name string
		end  func(b *budget, cancelParent context.CancelFunc)
	}{
		{"parent cancelled", func(_ *budget, cancel context.CancelFunc) { cancel() }},
		{"deadline", func(*budget, context.CancelFunc) {}},
		{"stop", func(b *budget, _ context.CancelFunc) { b.stop() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			timeout := time.Hour
			if tt.name == "deadline" {
				timeout = time.Millisecond
			}
			b := newBudget(parent, timeout)
			defer b.stop()
			ran := make(chan struct{})
			context.AfterFunc(b, func() { close(ran) })
			tt.end(b, cancel)
			select {
			case <-ran:
			case <-time.After(5 * time.Second):
				t.Fatal("f did not run when the budget ended")
			}
		})
	}
}
