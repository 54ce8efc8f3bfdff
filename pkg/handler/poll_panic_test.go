package handler_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/handler"
)

// TestPollPanicReleasesTheLease panics in Handle, in Fetch and in Sink:
// the poll recovers, reports the panic with its stack as a retryable
// failure, releases the lease (the next poll is not Held) and leaves the
// cursor where it was.
func TestPollPanicReleasesTheLease(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		where string
	}{
		{"handle", "handle"},
		{"fetch", "fetch"},
		{"sink", "sink"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &feed{items: 3, size: 3}
			src := handler.SourceFunc[string](func(ctx context.Context, cursor string) (handler.Page[string], error) {
				if tc.where == "fetch" {
					panic("feed client is nil")
				}
				return f.Fetch(ctx, cursor)
			})
			var logs bytes.Buffer
			cfg := handler.PollConfig[string]{
				Checkpoints: checkpoint.NewMemoryStore(checkpoint.MemoryConfig{}), Name: "feed",
				Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
			}
			obs := &recorder{}
			if tc.where == "sink" {
				cfg.Sink = func(context.Context, []string) error { panic("queue client is nil") }
			} else {
				cfg.Observer = obs
				cfg.Handle = func(_ context.Context, s string) error {
					if s == "i1" {
						panic("nil map in " + s)
					}
					return nil
				}
			}
			p, err := handler.NewPoller[string](src, cfg)
			if err != nil {
				t.Fatal(err)
			}
			res, err := poll(p)
			var pe *handler.PanicError
			if !errors.As(err, &pe) || len(pe.Stack) == 0 {
				t.Fatalf("poll returned %v; want the recovered *PanicError with its stack", err)
			}
			if res.Pages != 0 || res.Cursor != "" {
				t.Errorf("result %+v; want no page committed", res)
			}
			if !strings.Contains(logs.String(), "panicked") || !strings.Contains(logs.String(), "goroutine") {
				t.Errorf("the panic was not logged with its stack:\n%s", logs.String())
			}
			if tc.where == "handle" {
				if r := obs.report("feed#1"); r.Outcome != handler.RetryScheduled || !errors.As(r.Err, &pe) {
					t.Errorf("item i1 reported %s (%v); want retry_scheduled with the panic, as the SQS processor reports one", r.Outcome, r.Err)
				}
			}
			again, err := poll(p)
			if again.Held {
				t.Errorf("the next poll found the lease held: the panicking poll did not release it")
			}
			if err == nil {
				t.Errorf("the next poll succeeded; it should meet the same panic")
			}
		})
	}
}

// poll runs p.Poll and turns a panic that escapes it into an error, so a
// test can fail on it instead of crashing the test binary.
func poll(p *handler.Poller[string]) (res handler.PollResult, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic escaped Poll: %v", v)
		}
	}()
	return p.Poll(context.Background())
}

// TestPollPagesRunUnderTheBudget: without a deadline of its own, a poll's
// Fetch, Handle and Sink still run under one: the budget (MaxDuration)
// plus Margin, which the lease outlasts by LeaseSlack, so a page can never
// outlive the lease.
func TestPollPagesRunUnderTheBudget(t *testing.T) {
	t.Parallel()
	var fetchDeadline, handleDeadline time.Time
	f := &feed{items: 2, size: 2}
	src := handler.SourceFunc[string](func(ctx context.Context, cursor string) (handler.Page[string], error) {
		fetchDeadline, _ = ctx.Deadline()
		return f.Fetch(ctx, cursor)
	})
	p, err := handler.NewPoller[string](src, handler.PollConfig[string]{
		Checkpoints: checkpoint.NewMemoryStore(checkpoint.MemoryConfig{}), Name: "feed", Logger: quiet,
		MaxDuration: time.Minute, Margin: 5 * time.Second,
		Handle: func(ctx context.Context, _ string) error { handleDeadline, _ = ctx.Deadline(); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if _, err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	for name, d := range map[string]time.Time{"fetch": fetchDeadline, "handle": handleDeadline} {
		if d.Before(before.Add(65*time.Second)) || d.After(after.Add(65*time.Second)) {
			t.Errorf("%s ran with deadline %v; want the poll's start plus MaxDuration plus Margin (65 s)", name, d)
		}
	}
}

// TestPollScheduleOneName: the schedule runs the same Poll a caller and a
// test call, and refuses an idempotency guard of its own (the lease
// already keeps ticks apart, and a tick that stopped early must not make
// the next one a duplicate).
func TestPollScheduleOneName(t *testing.T) {
	t.Parallel()
	f := &feed{items: 4, size: 2}
	store := checkpoint.NewMemoryStore(checkpoint.MemoryConfig{})
	var handled []string
	p, err := handler.NewPoller[string](f, handler.PollConfig[string]{
		Checkpoints: store, Name: "feed", Logger: quiet,
		Handle: func(_ context.Context, s string) error { handled = append(handled, s); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	job, err := handler.NewPollSchedule(p, handler.ScheduleConfig{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job(context.Background(), []byte(`{"source":"aws.events","detail-type":"Scheduled Event","time":"2026-03-01T12:00:00Z","resources":["arn:aws:events:us-east-1:123456789012:rule/feed"],"detail":{}}`)); err != nil {
		t.Fatal(err)
	}
	if cp, _, _ := store.Get(context.Background(), "feed"); cp.Cursor != "4" || len(handled) != 4 {
		t.Errorf("cursor %q, %d items handled; want the tick to have polled the feed to 4", cp.Cursor, len(handled))
	}
	if _, err := handler.NewPollSchedule(p, handler.ScheduleConfig{Idempotency: newPollGuard(t)}); err == nil {
		t.Error("NewPollSchedule took an Idempotency guard")
	}
}
