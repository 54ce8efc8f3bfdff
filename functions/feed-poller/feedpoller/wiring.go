package feedpoller

import (
	"context"
	"encoding/json"

	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/handler"
)

// Environment variables of the function's own; the checkpoint and the
// items' idempotency records go to the convention's idempotency table.
const (
	// EnvFeedURL is the feed's address (required).
	EnvFeedURL = "FEED_URL"
	// EnvFeedTable names the table the items' effects go to (required).
	EnvFeedTable = "FEED_TABLE"
	// EnvTransientFaultPercent above 0 turns the crash injection on.
	EnvTransientFaultPercent = "TRANSIENT_FAULT_PERCENT"
)

// Build is the function's own part: the feed's poller, behind latch's
// Schedule handler. The schedule has no idempotency of its own: the
// checkpoint's lease keeps ticks apart, and a tick that stopped early must
// not make the next one a duplicate. main runs it with function.Main.
func Build(_ context.Context, fn *function.Function) (handler.Func[json.RawMessage, struct{}], error) {
	p, err := NewPoller(Config{
		Source:         HTTPSource{URL: fn.Vars.Required(EnvFeedURL)},
		Checkpoints:    fn.Checkpoints(),
		Guard:          fn.Guard(),
		DynamoDB:       fn.DynamoDB,
		FeedTable:      fn.Vars.Required(EnvFeedTable),
		CrashInjection: fn.Vars.Int(EnvTransientFaultPercent, 0, 0, 100) > 0,
		Observer:       fn.Telemetry,
	})
	if err != nil {
		return nil, err
	}
	return handler.NewPollSchedule(p, handler.ScheduleConfig{Observer: fn.Telemetry})
}
