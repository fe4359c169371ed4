package authorizer

import (
	"context"
	"sync"
	"time"
)

// budget is the context of one decision call: its parent with the
// function's timeout as deadline. It is context.WithDeadline made lazily:
// the timer and the link to the parent are set up only when something
// waits on Done or asks Err. The embedded decision service answers a
// request with a cached token without ever doing either, so most decisions
// cost neither the timer nor the allocations of a context.WithTimeout; a
// remote call (the sideband client) or a token verification that fetches
// keys waits on Done and gets the real thing, bounded as before.
type budget struct {
	parent   context.Context
	deadline time.Time

	once   sync.Once
	ctx    context.Context // set once; after stop, an already canceled context
	cancel context.CancelFunc
}

func newBudget(parent context.Context, timeout time.Duration) *budget {
	return &budget{parent: parent, deadline: time.Now().Add(timeout)}
}

func (b *budget) real() context.Context {
	b.once.Do(func() { b.ctx, b.cancel = context.WithDeadline(b.parent, b.deadline) })
	return b.ctx
}

// stop ends the budget, as the CancelFunc of context.WithDeadline does:
// anything still holding the context sees it canceled.
func (b *budget) stop() {
	b.once.Do(func() { b.ctx = canceled })
	if b.cancel != nil {
		b.cancel()
	}
}

// Deadline implements context.Context: the earlier of the parent's deadline
// and the budget's.
func (b *budget) Deadline() (time.Time, bool) {
	if d, ok := b.parent.Deadline(); ok && d.Before(b.deadline) {
		return d, true
	}
	return b.deadline, true
}

// Done implements context.Context.
func (b *budget) Done() <-chan struct{} { return b.real().Done() }

// Err implements context.Context.
func (b *budget) Err() error { return b.real().Err() }

// AfterFunc arranges for f to run once the budget is done, as
// context.AfterFunc(b, f) does. context.AfterFunc looks for this method:
// without it, a context it does not recognise as its own costs a
// goroutine per call to watch (the sideband client registers one per
// call, to stop a call whose viewer went away).
func (b *budget) AfterFunc(f func()) (stop func() bool) {
	return context.AfterFunc(b.real(), f)
}

// Value implements context.Context.
func (b *budget) Value(key any) any { return b.parent.Value(key) }

// canceled is the context of a stopped budget that never set up its own.
// It is never changed after it is made.
var canceled = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

var _ context.Context = (*budget)(nil)
