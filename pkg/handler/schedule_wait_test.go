package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// fakeClock is a clock that moves only when told: Sleep advances it.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept += d
}

// TestScheduleConcurrentDuplicate runs two deliveries of one tick at once
// (issue 15): the second finds the first holding the tick. Whatever the
// first does, the second must not fail while it can still wait (a false
// function error and alarm), and the tick must not be lost.
func TestScheduleConcurrentDuplicate(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("report service down")
	tests := []struct {
		name string
		// winner is what the first delivery's job returns once the second
		// has started waiting; nil error means success.
		winner error
		// winnerDeadline, when set, is the first delivery's deadline: its
		// lock dies then. The job then never returns while the test waits
		// (a crashed or hung holder).
		winnerDeadline time.Duration
		loserDeadline  time.Duration

		wantRuns     int32
		wantOutcomes []handler.Outcome // winner, loser
		wantWinErr   bool
		wantLoseErr  bool // and then it must be retryable and in progress
	}{
		{
			name: "winner succeeds: the loser is a duplicate and succeeds", loserDeadline: time.Minute,
			wantRuns: 1, wantOutcomes: []handler.Outcome{handler.Succeeded, handler.Duplicate},
		},
		{
			name: "winner fails: the loser runs the tick itself", winner: errBoom, loserDeadline: time.Minute,
			wantRuns: 2, wantOutcomes: []handler.Outcome{handler.Failed, handler.Succeeded}, wantWinErr: true,
		},
		{
			name: "winner hangs until its lock dies: the loser takes the tick", winnerDeadline: 20 * time.Second, loserDeadline: time.Minute,
			wantRuns: 2, wantOutcomes: []handler.Outcome{handler.Succeeded},
		},
		{
			name: "winner outlasts the loser's deadline: retryable in-progress error", winnerDeadline: 10 * time.Minute, loserDeadline: 30 * time.Second,
			wantRuns: 1, wantOutcomes: []handler.Outcome{handler.Failed}, wantLoseErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The fake clock starts at the real time: context deadlines are
			// real, and the waiter compares them with its clock.
			clock := &fakeClock{t: time.Now()}
			guard := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), Now: clock.Now})
			var (
				runs      atomic.Int32
				started   = make(chan struct{})
				release   = make(chan error, 1)
				hang      = make(chan struct{})
				winnerOut = make(chan error, 1)
				once      sync.Once
			)
			defer close(hang)
			job := func(ctx context.Context, _ handler.Tick) error {
				if runs.Add(1) > 1 {
					return nil // the loser's own run
				}
				close(started)
				if tt.winnerDeadline > 0 {
					<-hang
					return nil
				}
				return <-release
			}
			obs := &reportLog{}
			f := handler.MustNewSchedule(job, handler.ScheduleConfig{
				Idempotency: guard, Observer: obs, Now: clock.Now,
				Sleep: func(ctx context.Context, d time.Duration) error {
					if d <= 0 {
						t.Errorf("asked to sleep %v", d)
					}
					clock.advance(d)
					// The first pause lets the winner finish, and waits until
					// it has: the loser's next try sees what it left.
					once.Do(func() {
						if tt.winnerDeadline == 0 {
							release <- tt.winner
							<-winnerDone(winnerOut)
						}
					})
					return ctx.Err()
				},
			})

			winCtx := context.Background()
			if tt.winnerDeadline > 0 {
				var cancel context.CancelFunc
				winCtx, cancel = context.WithDeadline(winCtx, clock.Now().Add(tt.winnerDeadline))
				defer cancel()
			}
			go func() {
				_, err := f(winCtx, json.RawMessage(ruleEvent))
				winnerOut <- err
			}()
			<-started

			loseCtx, cancel := context.WithDeadline(context.Background(), clock.Now().Add(tt.loserDeadline))
			defer cancel()
			_, loseErr := f(loseCtx, json.RawMessage(ruleEvent))
			// A loser that never waited has not let the winner finish yet.
			once.Do(func() {
				if tt.winnerDeadline == 0 {
					release <- tt.winner
				}
			})

			if tt.wantLoseErr {
				var held *idempotency.InProgressError
				if !errors.As(loseErr, &held) || retry.Classify(loseErr) != retry.ClassRetryable {
					t.Errorf("loser error %v, want a retryable in-progress error", loseErr)
				}
				if clock.slept > tt.loserDeadline {
					t.Errorf("loser waited %v past its deadline %v", clock.slept, tt.loserDeadline)
				}
				if clock.slept < tt.loserDeadline-5*time.Second {
					t.Errorf("loser gave up after %v of its %v", clock.slept, tt.loserDeadline)
				}
			} else if loseErr != nil {
				t.Errorf("loser error %v, want success", loseErr)
			}
			if tt.winnerDeadline == 0 {
				if winErr := <-winnerDone(winnerOut); (winErr != nil) != tt.wantWinErr {
					t.Errorf("winner error %v, want error %v", winErr, tt.wantWinErr)
				}
			}
			if runs.Load() != tt.wantRuns {
				t.Errorf("job ran %d times, want %d", runs.Load(), tt.wantRuns)
			}
			if diff := cmp.Diff(tt.wantOutcomes, obs.outcomes()); diff != "" {
				t.Errorf("outcomes, in finishing order (-want +got):\n%s", diff)
			}
		})
	}
}

// winnerDone returns a channel that yields the winner's result, and keeps it
// for the next reader.
func winnerDone(out chan error) <-chan error {
	res := make(chan error, 1)
	err := <-out
	out <- err
	res <- err
	return res
}
