package handler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Tick is one firing of a schedule: which schedule, and the time it was
// scheduled for (not the time it arrived, which varies with retries).
type Tick struct {
	// Schedule is the schedule's name: the rule name of a schedule rule
	// ("nightly-report"; "bus/rule" for a rule on a custom bus), or the
	// name given in a Scheduler input ("group/name" when the input gives
	// the schedule's ARN).
	Schedule string
	// Time is the scheduled time, in UTC.
	Time time.Time
	// Source is "aws.events" for a schedule rule, "aws.scheduler" for an
	// EventBridge Scheduler invocation.
	Source string
	// ID is the rule event's id, or the Scheduler execution id when the
	// input carries one; it identifies a delivery, not the tick.
	ID string
	// Attempt is the Scheduler's attempt number when the input carries one
	// (1 first); 0 when unknown, as for schedule rules.
	Attempt int
	// Detail is the Scheduler input's "detail" member, or the rule event's
	// detail ({} for schedule rules); nil when absent.
	Detail json.RawMessage
}

// Key returns the tick's idempotency key: the schedule and its scheduled
// time, so that a tick delivered twice is the same request and a retry of
// the same tick is too, while the next tick is a new one.
func (t Tick) Key() string {
	return t.Schedule + "@" + t.Time.UTC().Format(time.RFC3339Nano)
}

// Event sources of ticks.
const (
	SourceScheduleRule = "aws.events"
	SourceScheduler    = "aws.scheduler"
)

// ScheduledEventDetailType is the detail-type of a schedule rule's event.
const ScheduledEventDetailType = "Scheduled Event"

// Members of the input an EventBridge Scheduler schedule passes to the
// function. Scheduler fills the placeholders in when it invokes; a schedule
// whose target input is SchedulerInput(name) delivers ticks ParseTick reads:
//
//	{"schedule":"nightly-report","scheduledTime":"<aws.scheduler.scheduled-time>",
//	 "executionId":"<aws.scheduler.execution-id>","attempt":"<aws.scheduler.attempt-number>"}
//
// "schedule" may instead be "<aws.scheduler.schedule-arn>"; the tick's
// Schedule is then "group/name" from the ARN. Only schedule and
// scheduledTime are required; "detail" (any JSON) is passed on as
// Tick.Detail.
const (
	SchedulerInputSchedule      = "schedule"
	SchedulerInputScheduledTime = "scheduledTime"
	SchedulerInputExecutionID   = "executionId"
	SchedulerInputAttempt       = "attempt"
	SchedulerInputDetail        = "detail"
)

// SchedulerInput returns the target input for an EventBridge Scheduler
// schedule named name, with Scheduler's placeholders for the scheduled
// time, execution id and attempt. Put it in the schedule's Target.Input.
func SchedulerInput(name string) string {
	// By hand rather than json.Marshal, which escapes "<" and ">" and so
	// would hide the placeholders from Scheduler.
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(name) // a string always encodes
	quoted := strings.TrimSuffix(b.String(), "\n")
	return `{"` + SchedulerInputSchedule + `":` + quoted +
		`,"` + SchedulerInputScheduledTime + `":"<aws.scheduler.scheduled-time>"` +
		`,"` + SchedulerInputExecutionID + `":"<aws.scheduler.execution-id>"` +
		`,"` + SchedulerInputAttempt + `":"<aws.scheduler.attempt-number>"}`
}

// TickError says why a payload is not a schedule tick. It is permanent:
// the same payload fails the same way every time. Its name is stable.
type TickError struct {
	Reason string
}

func (e *TickError) Error() string { return "handler: not a schedule tick: " + e.Reason }

// Permanent reports true: retrying a malformed tick cannot help.
func (e *TickError) Permanent() bool { return true }

// Is matches any *TickError.
func (e *TickError) Is(target error) bool {
	_, ok := target.(*TickError)
	return ok
}

func tickErrorf(format string, args ...any) error {
	return &TickError{Reason: fmt.Sprintf(format, args...)}
}

// tickPayload has the members of both shapes.
type tickPayload struct {
	// Schedule rule event.
	ID         string          `json:"id"`
	DetailType *string         `json:"detail-type"`
	Source     *string         `json:"source"`
	Time       string          `json:"time"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
	// Scheduler input.
	Schedule      *string         `json:"schedule"`
	ScheduledTime string          `json:"scheduledTime"`
	ExecutionID   string          `json:"executionId"`
	Attempt       json.RawMessage `json:"attempt"`
}

// ParseTick reads a schedule tick from either shape it arrives in:
//
//   - a schedule rule's event: source "aws.events", detail-type
//     "Scheduled Event", the rule's ARN in resources, the scheduled time in
//     time;
//   - an EventBridge Scheduler invocation whose input is SchedulerInput's
//     shape: schedule and scheduledTime (RFC 3339).
//
// Anything else is a *TickError that says what is missing or wrong.
func ParseTick(payload []byte) (Tick, error) {
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Tick{}, tickErrorf("payload is not a JSON object: %s", snippet(trimmed))
	}
	var p tickPayload
	if err := json.Unmarshal(trimmed, &p); err != nil {
		return Tick{}, tickErrorf("payload does not decode: %v", err)
	}
	switch {
	case p.Source != nil || p.DetailType != nil:
		return p.ruleTick()
	case p.Schedule != nil || p.ScheduledTime != "":
		return p.schedulerTick()
	}
	return Tick{}, tickErrorf("neither a schedule rule event (source, detail-type, resources, time) nor a Scheduler input (%s, %s): %s",
		SchedulerInputSchedule, SchedulerInputScheduledTime, snippet(trimmed))
}

func (p tickPayload) ruleTick() (Tick, error) {
	source, detailType := deref(p.Source), deref(p.DetailType)
	if source != SourceScheduleRule || detailType != ScheduledEventDetailType {
		return Tick{}, tickErrorf("event from source %q with detail-type %q is not a schedule rule's %q from %q",
			source, detailType, ScheduledEventDetailType, SourceScheduleRule)
	}
	name, err := ruleName(p.Resources)
	if err != nil {
		return Tick{}, err
	}
	at, err := tickTime("time", p.Time)
	if err != nil {
		return Tick{}, err
	}
	return Tick{Schedule: name, Time: at, Source: SourceScheduleRule, ID: p.ID, Detail: p.Detail}, nil
}

// ruleName finds the rule's ARN in resources and returns what follows
// "rule/": the rule name, prefixed by its bus on a custom bus.
func ruleName(resources []string) (string, error) {
	for _, r := range resources {
		if !strings.HasPrefix(r, "arn:") {
			continue
		}
		parts := strings.SplitN(r, ":", 6)
		if len(parts) == 6 && parts[2] == "events" {
			if name, ok := strings.CutPrefix(parts[5], "rule/"); ok && name != "" {
				return name, nil
			}
		}
	}
	return "", tickErrorf("no rule ARN (arn:...:events:...:rule/<name>) in resources %q", resources)
}

func (p tickPayload) schedulerTick() (Tick, error) {
	name := strings.TrimSpace(deref(p.Schedule))
	switch {
	case name == "":
		return Tick{}, tickErrorf("Scheduler input has an empty %q", SchedulerInputSchedule)
	case isPlaceholder(name):
		return Tick{}, tickErrorf("Scheduler input's %q is the unfilled placeholder %s", SchedulerInputSchedule, name)
	case strings.HasPrefix(name, "arn:"):
		parts := strings.SplitN(name, ":", 6)
		rest, ok := "", false
		if len(parts) == 6 && parts[2] == "scheduler" {
			rest, ok = strings.CutPrefix(parts[5], "schedule/")
		}
		if !ok || rest == "" {
			return Tick{}, tickErrorf("Scheduler input's %q %q is not a schedule ARN (arn:...:scheduler:...:schedule/<group>/<name>)", SchedulerInputSchedule, name)
		}
		name = rest
	}
	at, err := tickTime(SchedulerInputScheduledTime, p.ScheduledTime)
	if err != nil {
		return Tick{}, err
	}
	t := Tick{Schedule: name, Time: at, Source: SourceScheduler, Detail: p.Detail}
	if !isPlaceholder(p.ExecutionID) {
		t.ID = p.ExecutionID
	}
	if t.ID == "" {
		t.ID = t.Key()
	}
	if len(p.Attempt) > 0 {
		n, err := attemptNumber(p.Attempt)
		if err != nil {
			return Tick{}, err
		}
		t.Attempt = n
	}
	return t, nil
}

// attemptNumber reads the attempt as Scheduler fills it in: a string
// inside the JSON input ("2"), or a number if the input template has none.
func attemptNumber(raw json.RawMessage) (int, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(raw)
	}
	if s == "" || s == "null" || isPlaceholder(s) {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, tickErrorf("Scheduler input's %q %s is not a non-negative integer", SchedulerInputAttempt, raw)
	}
	return n, nil
}

func tickTime(member, s string) (time.Time, error) {
	switch {
	case s == "":
		return time.Time{}, tickErrorf("no scheduled time: %q is missing or empty", member)
	case isPlaceholder(s):
		return time.Time{}, tickErrorf("%q is the unfilled placeholder %s: the payload was not sent by Scheduler", member, s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, tickErrorf("%q %q is not an RFC 3339 time", member, s)
	}
	return t.UTC(), nil
}

func isPlaceholder(s string) bool {
	return strings.HasPrefix(s, "<aws.scheduler.") && strings.HasSuffix(s, ">")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// snippet shortens a payload for an error message.
func snippet(b []byte) string {
	const limit = 120
	if len(b) <= limit {
		return string(b)
	}
	return string(b[:limit]) + "…"
}
