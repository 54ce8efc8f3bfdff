package handler

import (
	"context"
	"encoding/json"
)

// NewPollSchedule returns the Lambda handler of a schedule whose every tick
// runs p.Poll: the target of a schedule rule or an EventBridge Scheduler
// schedule. It is NewSchedule with Poll as the tick function (see
// NewSchedule for what an invocation answers); Poll is the one way to run a
// poller, so a test or a local run calls it directly and reads its
// PollResult, and the schedule's outcome line and metrics carry the same.
//
// cfg.Idempotency must be nil (ErrConfig otherwise): the
// checkpoint's lease already keeps two ticks from reading the same pages,
// and a tick that stopped early must not make the next one a duplicate.
func NewPollSchedule[T any](p *Poller[T], cfg ScheduleConfig) (Func[json.RawMessage, struct{}], error) {
	switch {
	case p == nil:
		return nil, configError("the Poller given to NewPollSchedule is nil")
	case cfg.Idempotency != nil:
		return nil, configError("ScheduleConfig.Idempotency must be nil for a poll schedule: the checkpoint's lease keeps ticks apart, and a tick that stopped early must not make the next a duplicate")
	}
	return NewSchedule(func(ctx context.Context, _ Tick) error {
		_, err := p.Poll(ctx)
		return err
	}, cfg)
}

// MustNewPollSchedule is NewPollSchedule for package-level initialisation:
// it panics on the error NewPollSchedule would return.
func MustNewPollSchedule[T any](p *Poller[T], cfg ScheduleConfig) Func[json.RawMessage, struct{}] {
	h, err := NewPollSchedule(p, cfg)
	if err != nil {
		panic(err)
	}
	return h
}
