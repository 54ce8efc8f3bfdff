package handler

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/latchkit/latch/internal/clock"
	"github.com/latchkit/latch/pkg/idempotency"
)

// DefaultScheduleTTL is how long a tick that ran is remembered when
// ScheduleConfig.TTL is zero (unless the guard's own TTL is longer). A tick
// can be delivered again long after it ran: Lambda retries a failed
// asynchronous invocation for up to 6 hours (MaximumEventAgeInSeconds),
// and an EventBridge rule or Scheduler retries a delivery it could not
// make for up to 24 hours. A guard's default of 1 hour would let such a
// retry run the tick a second time; 48 hours covers both windows with a
// margin. Keys name the scheduled time, so a long TTL costs only storage:
// the next tick is a new key.
const DefaultScheduleTTL = 48 * time.Hour

// ScheduleConfig configures NewSchedule. The zero value runs every delivery
// of a tick, returns every failure to Lambda and observes nothing.
type ScheduleConfig struct {
	// Idempotency runs each tick at most once across deliveries, under the
	// key Tick.Key() (schedule name plus scheduled time). Default nil: no
	// idempotency. Schedule rules and Scheduler both deliver at least once,
	// so set it for any job whose effect must not happen twice. A delivery
	// that finds the tick running in another invocation waits for it (see
	// NewSchedule) instead of failing.
	Idempotency *idempotency.Guard
	// TTL is how long a tick that ran is remembered, so that a later
	// delivery of it is a duplicate; it replaces the guard's TTL for ticks
	// only. Default: the longer of DefaultScheduleTTL (48 h, which outlasts
	// Lambda's 6-hour async retry window and EventBridge's 24-hour delivery
	// retries) and the guard's own TTL, so that schedule idempotency is safe
	// with a guard left at its 1-hour default. Negative is an error.
	TTL time.Duration
	// FailureQueue receives ticks that failed permanently (including
	// payloads that are not ticks), with the reason; the invocation then
	// succeeds. Default none: permanent failures are returned to Lambda like
	// retryable ones.
	FailureQueue FailureQueue
	// Observer is told about every tick. Default NopObserver.
	Observer Observer
	// Logger receives recovered panics with their stack. Default: the
	// Observer's logger when it has one (a *telemetry.Telemetry has), else
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock for durations, failure timestamps and the wait for a
	// tick another delivery is running. Default time.Now.
	Now func() time.Time
	// Sleep pauses between tries while another delivery runs the tick; it
	// returns early with ctx's error when ctx ends. Default a timer. Tests
	// inject one that advances their Now, so that they never sleep.
	Sleep func(ctx context.Context, d time.Duration) error
}

// NewSchedule returns a Lambda handler for schedule ticks: the target of a
// schedule rule (cron or rate) or of an EventBridge Scheduler schedule
// whose input is SchedulerInput(name). Both arrive as asynchronous
// invocations, so the payload is taken raw and read by ParseTick.
//
// fn runs once per tick, or once per tick across deliveries with
// cfg.Idempotency. What the invocation answers:
//
//   - success, or a duplicate of a tick that already ran: success;
//   - a permanent failure (retry.Permanent, a payload that is not a tick)
//     with cfg.FailureQueue: the payload goes to the queue with the reason
//     and the invocation succeeds, so Lambda's async retries are not spent
//     on it;
//   - a tick another invocation is running (with cfg.Idempotency): this
//     one waits, trying the claim again every few seconds, until the tick
//     is done (a duplicate: success), or released or abandoned by the other
//     (this one runs it), or until its own deadline less a margin; only
//     then is idempotency's in-progress error returned, to be retried. So
//     two deliveries of one tick at once raise no false function error and
//     spend no async retry, and the tick still runs if the first fails;
//   - any other failure: returned, so Lambda retries the invocation (twice
//     by default) and then sends it to the function's on-failure
//     destination.
//   - a panic in fn: recovered, logged with its stack, returned as a
//     retryable *PanicError.
//
// An unusable config or a nil fn is an error here (ErrConfig).
func NewSchedule(fn func(ctx context.Context, t Tick) error, cfg ScheduleConfig) (Func[json.RawMessage, struct{}], error) {
	if err := asyncConfigError("ScheduleConfig", fn == nil, "tick", cfg.FailureQueue); err != nil {
		return nil, err
	}
	guard, err := scheduleGuard(cfg)
	if err != nil {
		return nil, err
	}
	return schedule(cfg, guard != nil, func(ctx context.Context, tick Tick) (bool, string, error) {
		if guard == nil {
			return false, "", fn(ctx, tick)
		}
		res, err := idempotency.Do(ctx, guard, idempotency.Key{ID: tick.Key()},
			func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx, tick) })
		return res.Replayed, res.KeyHash, err
	}), nil
}

// MustNewSchedule is NewSchedule for package-level initialisation: it
// panics on the error NewSchedule would return.
func MustNewSchedule(fn func(ctx context.Context, t Tick) error, cfg ScheduleConfig) Func[json.RawMessage, struct{}] {
	h, err := NewSchedule(fn, cfg)
	if err != nil {
		panic(err)
	}
	return h
}

// scheduleGuard is the guard ticks run under: cfg.Idempotency with the
// tick TTL (see ScheduleConfig.TTL), or nil without idempotency.
func scheduleGuard(cfg ScheduleConfig) (*idempotency.Guard, error) {
	if cfg.TTL < 0 {
		return nil, configError("ScheduleConfig.TTL is negative (%s): use 0 for the default", cfg.TTL)
	}
	if cfg.Idempotency == nil {
		return nil, nil
	}
	ttl := cfg.TTL
	if ttl == 0 {
		ttl = max(DefaultScheduleTTL, cfg.Idempotency.TTL())
	}
	return cfg.Idempotency.WithTTL(ttl), nil
}

// schedule is the handler of NewSchedule and NewScheduleTx: run runs one
// parsed tick and says whether it was a duplicate, under which key. With
// idempotent set, a tick another delivery is running is waited for (see
// tickWaiter).
func schedule(cfg ScheduleConfig, idempotent bool, run func(ctx context.Context, tick Tick) (replayed bool, keyHash string, err error)) Func[json.RawMessage, struct{}] {
	runner := newAsyncRunner(cfg.Observer, cfg.FailureQueue, cfg.Logger, cfg.Now)
	waiter := tickWaiter{now: runner.now, sleep: cfg.Sleep}
	if waiter.sleep == nil {
		waiter.sleep = clock.Sleep
	}
	return func(ctx context.Context, payload json.RawMessage) (struct{}, error) {
		tick, perr := ParseTick(payload)
		rec := Delivery{Source: tick.Source, ID: tick.ID, Attempt: tick.Attempt}
		if perr == nil {
			rec.CorrelationID = tick.Key()
			if len(tick.Detail) > 0 {
				rec.Body = string(tick.Detail)
			}
		} else {
			rec.Body = string(payload)
		}
		err := runner.run(ctx, rec, func() []byte { return payload }, func(ctx context.Context, rep *Report) (replayed bool, err error) {
			if perr != nil {
				return false, perr
			}
			if !idempotent {
				replayed, rep.KeyHash, err = run(ctx, tick)
			} else {
				replayed, rep.KeyHash, err = waiter.do(ctx, func() (bool, string, error) { return run(ctx, tick) })
			}
			return replayed, err
		})
		return struct{}{}, err
	}
}
