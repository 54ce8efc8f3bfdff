package local

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/provision"
	"github.com/latchkit/latch/internal/runtimeapi"
	"github.com/latchkit/latch/internal/schedule"
)

// RetryDelays are the pauses before the first and the second async retry
// of a function error. Lambda waits about one and then two minutes; local
// runs wait seconds so a failing tick shows its fate while one watches.
var RetryDelays = [2]time.Duration{1 * time.Second, 2 * time.Second}

// ScheduledEvent is the event EventBridge sends a schedule rule's targets.
type ScheduledEvent struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// NewScheduledEvent returns the "Scheduled Event" of the rule's tick at.
func NewScheduledEvent(ruleARN, account, region string, at time.Time) ScheduledEvent {
	return ScheduledEvent{
		Version: "0", ID: newUUID(), DetailType: "Scheduled Event", Source: "aws.events",
		Account: account, Time: at.UTC().Format(time.RFC3339), Region: region,
		Resources: []string{ruleARN}, Detail: json.RawMessage(`{}`),
	}
}

// Rules returns the logical ids of the rules that target functions.
func (s *Stack) Rules() []string {
	var ids []string
	for _, rule := range s.res.Rules {
		if len(rule.Functions) > 0 {
			ids = append(ids, rule.LogicalID)
		}
	}
	return ids
}

// startSchedules starts a timer per enabled schedule rule with function
// targets; each fires at the rule's next time, then the one after.
func (s *Stack) startSchedules(ctx context.Context) error {
	for _, rule := range s.res.Rules {
		if rule.ScheduleExpression == "" || len(rule.Functions) == 0 || !rule.Enabled {
			continue
		}
		sched, err := schedule.Parse(rule.ScheduleExpression)
		if err != nil {
			return fmt.Errorf("local: rule %s: %w", rule.LogicalID, err)
		}
		next := sched.Next(time.Now())
		s.log.Info("scheduled", "rule", rule.LogicalID, "expression", rule.ScheduleExpression, "next", next.Format(time.RFC3339))
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.runSchedule(ctx, rule, sched)
		}()
	}
	return nil
}

func (s *Stack) runSchedule(ctx context.Context, rule provision.Rule, sched schedule.Schedule) {
	var last time.Time
	for {
		// The timer runs on the monotonic clock, ticks are wall-clock
		// times: after a wall-clock step back, now can still be before the
		// tick just fired, and it must not fire again.
		from := time.Now()
		if from.Before(last) {
			from = last
		}
		at := sched.Next(from)
		last = at
		if at.IsZero() {
			return
		}
		timer := time.NewTimer(time.Until(at))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		// Invocations are asynchronous: a slow tick does not hold the next.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.Fire(ctx, rule.LogicalID, at); err != nil && ctx.Err() == nil {
				s.log.Error("schedule tick failed", "rule", rule.LogicalID, "time", at.Format(time.RFC3339), "error", err)
			}
		}()
	}
}

// Fire delivers the schedule rule's event for the tick at to each of its
// function targets, as EventBridge does, and waits until each invocation
// has ended: succeeded, or failed after the async retries and gone to the
// function's OnFailure destination. rule is the rule's logical id (or its
// physical name). The error tells of a failed invocation or of a delivery
// that could not be made.
func (s *Stack) Fire(ctx context.Context, rule string, at time.Time) error {
	r, ok := s.rules[rule]
	if !ok {
		for _, cand := range s.res.Rules {
			if cand.Name == rule {
				r, ok = cand, true
			}
		}
	}
	if !ok {
		return fmt.Errorf("local: no rule %s targets a function (rules: %s)", rule, strings.Join(s.Rules(), ", "))
	}
	if r.ScheduleExpression == "" {
		return fmt.Errorf("local: rule %s has no ScheduleExpression; only schedule rules are fired", rule)
	}
	p := s.res.Resolver.Pseudo()
	var errs []error
	for _, t := range r.Functions {
		f, ok := s.funcs[t.Function]
		if !ok {
			return fmt.Errorf("local: rule %s targets %s, which is not running", rule, t.Function)
		}
		event, err := json.Marshal(NewScheduledEvent(r.ARN, p.AccountID, p.Region, at))
		if err != nil {
			return err
		}
		payload, err := targetInput(event, t)
		if err != nil {
			return fmt.Errorf("local: rule %s target %s: %w", rule, t.ID, err)
		}
		s.log.Info("firing", "rule", r.LogicalID, "function", t.Function, "time", at.UTC().Format(time.RFC3339))
		if err := s.invokeAsync(ctx, f, payload); err != nil {
			errs = append(errs, fmt.Errorf("rule %s → %s: %w", r.LogicalID, t.Function, err))
		}
	}
	return errors.Join(errs...)
}

// targetInput applies a target's Input or InputPath ($ or $.a.b) to the
// event.
func targetInput(event []byte, t provision.FunctionTarget) ([]byte, error) {
	switch {
	case t.Input != "":
		return []byte(t.Input), nil
	case t.InputPath == "" || t.InputPath == "$":
		return event, nil
	case !strings.HasPrefix(t.InputPath, "$."):
		return nil, fmt.Errorf("InputPath %q: only $ and $.field.field are supported locally", t.InputPath)
	}
	var v any
	if err := json.Unmarshal(event, &v); err != nil {
		return nil, err
	}
	for _, k := range strings.Split(strings.TrimPrefix(t.InputPath, "$."), ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("InputPath %q: no field %q in the event", t.InputPath, k)
		}
		if v, ok = m[k]; !ok {
			return nil, fmt.Errorf("InputPath %q: no field %q in the event", t.InputPath, k)
		}
	}
	return json.Marshal(v)
}

// invokeAsync is Lambda's asynchronous invocation: on a function error it
// retries up to the function's MaximumRetryAttempts, then sends an
// invocation record to the OnFailure destination.
func (s *Stack) invokeAsync(ctx context.Context, f *function, payload []byte) error {
	requestID := newUUID()
	var last *runtimeapi.FunctionError
	attempts := 0
	for attempt := 0; attempt <= f.maxRetries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(RetryDelays[min(attempt-1, len(RetryDelays)-1)]):
			}
		}
		attempts++
		// Lambda keeps the request id across the retries of one event.
		_, err := f.proc.InvokeRequest(ctx, runtimeapi.Request{Payload: payload, RequestID: requestID})
		if err == nil {
			return nil
		}
		if !errors.As(err, &last) {
			return err // stopped or cancelled: not the function's failure
		}
		s.log.Warn("async invocation failed", "function", f.id, "attempt", attempts, "error", last.Message)
	}
	if f.onFailure == "" {
		return fmt.Errorf("failed after %d attempts, no OnFailure destination: %w", attempts, last)
	}
	record, err := json.Marshal(invocationRecord(f, requestID, payload, last, attempts))
	if err != nil {
		return err
	}
	if _, err := s.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f.onFailure), MessageBody: aws.String(string(record))}); err != nil {
		return fmt.Errorf("failed after %d attempts, and sending to OnFailure %s failed: %w (function error: %v)", attempts, f.onFailure, err, last)
	}
	return fmt.Errorf("failed after %d attempts, sent to OnFailure %s: %w", attempts, f.onFailure, last)
}

// invocationRecord is the document Lambda sends to a destination.
func invocationRecord(f *function, requestID string, payload []byte, fe *runtimeapi.FunctionError, attempts int) map[string]any {
	var req, resp any = json.RawMessage(payload), json.RawMessage(fe.Payload)
	if !json.Valid(payload) {
		req = string(payload)
	}
	if !json.Valid(fe.Payload) {
		resp = map[string]string{"errorType": fe.Type, "errorMessage": fe.Message}
	}
	return map[string]any{
		"version":   "1.0",
		"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"requestContext": map[string]any{
			"requestId": requestID, "functionArn": f.arn + ":$LATEST",
			"condition": "RetriesExhausted", "approximateInvokeCount": attempts,
		},
		"requestPayload": req,
		"responseContext": map[string]any{
			"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled",
		},
		"responsePayload": resp,
	}
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
