//go:build integration

package emulator_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
	"github.com/latchkit/latch/pkg/retry"
)

// Drain settles every message: successes deleted, a retryable failure
// back after its (short) backoff and then through, a permanent failure in
// the DLQ with its reason.
func TestDrain(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 3})
	var flaky atomic.Int32
	h := handler.MustNewSQS(func(_ context.Context, m handler.Message[string]) error {
		switch m.Body {
		case "bad":
			return retry.Permanent(errors.New("bad body"))
		case "flaky":
			if flaky.Add(1) == 1 {
				return errors.New("try again")
			}
		}
		return nil
	}, handler.SQSConfig{Client: env.SQS, Backoff: retry.Backoff{Base: time.Second, Max: time.Second, Jitter: -1}})

	for _, body := range []string{"ok", "flaky", "bad"} {
		env.Send(t, q.URL, body)
	}
	batches := env.Drain(t, q, h, emulator.Mapping{})
	if got := flaky.Load(); got != 2 {
		t.Errorf("flaky ran %d times, want 2 (a retry)", got)
	}
	var deleted int
	for _, b := range batches {
		deleted += len(b.Deleted)
	}
	if deleted != 3 {
		t.Errorf("%d deletes over %d batches, want 3", deleted, len(batches))
	}
	d := env.AssertDeadLettered(t, q.DLQ.URL, "bad", "bad body")
	if d.Class != retry.ClassPermanent.String() {
		t.Errorf("class %q", d.Class)
	}
	env.AssertQueueEmpty(t, q.URL)
}

// Run feeds the handler in the background until the test ends.
func TestRun(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{})
	got := make(chan string, 1)
	env.Run(t, q.QueueRef, handler.MustNewSQS(func(_ context.Context, m handler.Message[string]) error {
		got <- m.Body
		return nil
	}, handler.SQSConfig{Client: env.SQS}), emulator.Mapping{})
	env.Send(t, q.URL, "hello")
	select {
	case b := <-got:
		if b != "hello" {
			t.Fatalf("body %q", b)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the handler did not run within 20s")
	}
}
