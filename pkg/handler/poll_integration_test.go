//go:build integration

package handler_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// TestPollOnDynamoDB runs overlapping ticks and a mid-page crash on the
// real stores: checkpoints and idempotency records share one table, as in
// the template.
func TestPollOnDynamoDB(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	table := env.Table(t)
	store, err := checkpoint.NewDynamoDBStore(env.DynamoDB, checkpoint.DynamoDBConfig{Table: table})
	if err != nil {
		t.Fatal(err)
	}
	guard, err := idempotency.NewGuard(idempotency.Config{
		Store: idempotency.MustNewDynamoDBStore(env.DynamoDB, idempotency.DynamoDBConfig{Table: table}), Namespace: "feed",
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &feed{items: 60, size: 7}
	var eff itemEffects
	var mu sync.Mutex
	crashed := false
	p, err := handler.NewPoller[string](f, handler.PollConfig[string]{
		Checkpoints: store, Name: "feed", MaxPages: 2, Logger: quiet,
		Idempotency: guard, Key: itemKey,
		Handle: func(_ context.Context, s string) error {
			mu.Lock()
			defer mu.Unlock()
			if s == "i17" && !crashed {
				crashed = true
				return errors.New("killed mid-page")
			}
			eff.add(s)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 3 {
		wg.Go(func() {
			for range 200 {
				res, err := p.Poll(context.Background())
				if err != nil {
					failed.Add(1)
					t.Logf("tick failed: %v", err)
					continue // the crash: the next tick resumes
				}
				if res.Held {
					continue
				}
				if !res.StoppedEarly {
					return
				}
			}
		})
	}
	wg.Wait()
	eff.exactlyOnce(t, 60)
	cp, ok, err := store.Get(context.Background(), "feed")
	if err != nil || !ok || cp.Cursor != "60" {
		t.Errorf("checkpoint %+v %v %v, want cursor 60", cp, ok, err)
	}
	if n := failed.Load(); n != 1 {
		t.Errorf("%d ticks failed, want 1 (the injected crash)", n)
	}
}
