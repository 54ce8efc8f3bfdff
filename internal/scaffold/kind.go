package scaffold

import (
	"fmt"
	"strings"
)

// Kind is what triggers a generated function.
type Kind string

// The trigger kinds.
const (
	// SQS is a standard queue with a dead-letter queue, consumed with
	// handler.NewSQS, one side effect per message key.
	SQS Kind = "sqs"
	// FIFO is a FIFO queue, one message group at a time, in order.
	FIFO Kind = "fifo"
	// Schedule is a schedule rule whose ticks run once each
	// (handler.NewSchedule), with a failure queue.
	Schedule Kind = "schedule"
	// Poller is a rate rule driving a poller that reads a paged feed from a
	// durable checkpoint (handler.NewPoller).
	Poller Kind = "poller"
	// Events is an EventBridge rule on a bus of the template's, delivering
	// through a queue (so that failures are retried and dead-lettered)
	// to a handler of typed events.
	Events Kind = "events"
)

// Kinds are the kinds in the order the CLI lists them.
var Kinds = []Kind{SQS, FIFO, Schedule, Poller, Events}

// DefaultSchedule is a Schedule function's expression when none is given:
// every day at 02:00 UTC.
const DefaultSchedule = "cron(0 2 * * ? *)"

// Function is one function to generate.
type Function struct {
	// Name is the function's directory under functions/ and the root of
	// its resources' logical ids: "billing-job" gives functions/billing-job
	// and BillingJobFunction. Lower-case letters, digits and dashes,
	// starting with a letter.
	Name string
	// Kind is its trigger.
	Kind Kind
	// Schedule is a Schedule function's expression (cron(...) or
	// rate(...)). Default DefaultSchedule.
	Schedule string
}

func (f Function) validate() error {
	if !validName(f.Name) {
		return fmt.Errorf("scaffold: function name %q: use lower-case letters, digits and dashes, starting with a letter (billing, order-events)", f.Name)
	}
	for _, k := range Kinds {
		if f.Kind == k {
			if f.Schedule != "" && k != Schedule {
				return fmt.Errorf("scaffold: a schedule expression is for a %s function, not %s", Schedule, k)
			}
			return nil
		}
	}
	return fmt.Errorf("scaffold: unknown trigger kind %q", f.Kind)
}

func validName(s string) bool {
	if s == "" || len(s) > 40 || s[0] < 'a' || s[0] > 'z' || strings.HasSuffix(s, "-") {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// logical is the CamelCase root of the function's logical ids.
func logical(name string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(name, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
