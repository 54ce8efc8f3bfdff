package latchtest

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/handler"
)

// Event describes an EventBridge event to build. Only Source, DetailType
// and Detail matter to most handlers; the rest have stable defaults.
type Event struct {
	// ID is the event id. Default "ev-1".
	ID string
	// Source and DetailType are the envelope's "source" and "detail-type".
	Source     string
	DetailType string
	// Detail is encoded as JSON (a string or []byte is taken as JSON
	// already). Nil means {}.
	Detail any
	// Time is the event's time. Default 2026-01-01T00:00:00Z.
	Time time.Time
	// Resources are the event's resources. Default none.
	Resources []string
}

// EventBridgeEvent returns the event as a rule target receives it.
func EventBridgeEvent(e Event) events.EventBridgeEvent {
	if e.ID == "" {
		e.ID = "ev-1"
	}
	if e.Time.IsZero() {
		e.Time = defaultSentAt
	}
	if e.Resources == nil {
		e.Resources = []string{}
	}
	return events.EventBridgeEvent{
		Version:    "0",
		ID:         e.ID,
		DetailType: e.DetailType,
		Source:     e.Source,
		AccountID:  Account,
		Time:       e.Time.UTC(),
		Region:     Region,
		Resources:  e.Resources,
		Detail:     rawJSON(e.Detail),
	}
}

// EventBridgeMessage returns an SQS message whose body is the event, as a
// rule's SQS target delivers it: for handler.EventBridgeSQS. The message id
// is "m-" plus the event id.
func EventBridgeMessage(e Event) Message {
	ev := EventBridgeEvent(e)
	return Message{ID: "m-" + ev.ID, Body: JSON(ev)}
}

func rawJSON(v any) json.RawMessage {
	switch v := v.(type) {
	case nil:
		return json.RawMessage("{}")
	case string:
		return json.RawMessage(v)
	case []byte:
		return json.RawMessage(v)
	case json.RawMessage:
		return v
	}
	return json.RawMessage(JSON(v))
}

// RuleTick returns the payload a schedule rule (cron or rate) on the
// default bus delivers for the tick at: what handler.NewSchedule's handler receives and
// handler.ParseTick reads as Tick{Schedule: rule, Time: at}.
func RuleTick(rule string, at time.Time) json.RawMessage {
	return json.RawMessage(JSON(events.EventBridgeEvent{
		Version:    "0",
		ID:         "tick-" + strconv.FormatInt(at.Unix(), 10),
		DetailType: handler.ScheduledEventDetailType,
		Source:     handler.SourceScheduleRule,
		AccountID:  Account,
		Time:       at.UTC(),
		Region:     Region,
		Resources:  []string{"arn:aws:events:" + Region + ":" + Account + ":rule/" + rule},
		Detail:     json.RawMessage("{}"),
	}))
}

// SchedulerTick returns the payload an EventBridge Scheduler schedule whose
// input is handler.SchedulerInput(schedule) delivers for the tick at, on
// the given attempt (1 first; Scheduler retries count up).
func SchedulerTick(schedule string, at time.Time, attempt int) json.RawMessage {
	if attempt == 0 {
		attempt = 1
	}
	return json.RawMessage(JSON(map[string]string{
		handler.SchedulerInputSchedule:      schedule,
		handler.SchedulerInputScheduledTime: at.UTC().Format(time.RFC3339),
		handler.SchedulerInputExecutionID:   "exec-" + strconv.FormatInt(at.Unix(), 10) + "-" + strconv.Itoa(attempt),
		handler.SchedulerInputAttempt:       strconv.Itoa(attempt),
	}))
}
