package localcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/latchkit/latch/internal/demo"
	"github.com/latchkit/latch/internal/local"
	"github.com/latchkit/latch/pkg/handler"
)

// Schedules is how the deployed stack's schedule rules reach their
// functions: a demo.Target's Fire.
//
// A rate rule fires by itself in the local cloud, as in AWS: Fire waits for
// the emulator's next invocation of the rule's target (one not handed out
// before, oldest first) and reports whether it failed. A cron rule's time
// is hours away: Fire invokes the target itself with the rule's "Scheduled
// Event" for the tick at, the same event for the same tick, as EventBridge
// delivering one event twice would.
type Schedules struct {
	Stack    *Stack
	Events   *eventbridge.Client
	Lambda   *lambda.Client
	Follower *Follower
	// RateWait bounds the wait for a rate rule's next invocation. Zero:
	// three minutes.
	RateWait time.Duration

	mu     sync.Mutex
	events map[string][]byte // "<rule>@<time>" -> the event sent
}

// Fire delivers the rule's tick at, by the rule itself or by an invoke, and
// waits for the invocation to end; its error is the function's.
func (s *Schedules) Fire(ctx context.Context, logicalID string, at time.Time) error {
	name, err := s.Stack.Resolve(logicalID)
	if err != nil {
		return err
	}
	name = ruleName(name)
	rule, err := s.Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name)})
	if err != nil {
		return fmt.Errorf("localcloud: rule %s: %w", name, err)
	}
	targets, err := s.Events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name)})
	if err != nil {
		return fmt.Errorf("localcloud: targets of rule %s: %w", name, err)
	}
	if len(targets.Targets) != 1 {
		return fmt.Errorf("localcloud: rule %s has %d targets, want one function", name, len(targets.Targets))
	}
	fn := functionName(aws.ToString(targets.Targets[0].Arn))
	if strings.HasPrefix(aws.ToString(rule.ScheduleExpression), "rate(") {
		wait := s.RateWait
		if wait == 0 {
			wait = 3 * time.Minute
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		iv, err := s.Follower.Next(wctx, fn)
		if err != nil {
			return fmt.Errorf("localcloud: rule %s (%s) did not invoke %s: %w", name, aws.ToString(rule.ScheduleExpression), fn, err)
		}
		return invocationError(iv)
	}
	payload, err := s.event(aws.ToString(rule.Arn), at)
	if err != nil {
		return err
	}
	out, err := s.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: payload, InvocationType: lambdatypes.InvocationTypeRequestResponse})
	if err != nil {
		return fmt.Errorf("localcloud: invoke %s: %w", fn, err)
	}
	if out.FunctionError != nil {
		return fmt.Errorf("localcloud: %s: %s: %s", fn, aws.ToString(out.FunctionError), out.Payload)
	}
	return nil
}

// event is the rule's Scheduled Event for the tick at, made once.
func (s *Schedules) event(ruleARN string, at time.Time) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := ruleARN + "@" + at.UTC().Format(time.RFC3339)
	if b, ok := s.events[key]; ok {
		return b, nil
	}
	a, err := arn.Parse(ruleARN)
	if err != nil {
		return nil, fmt.Errorf("localcloud: rule ARN %q: %w", ruleARN, err)
	}
	b, err := json.Marshal(local.NewScheduledEvent(ruleARN, a.AccountID, a.Region, at))
	if err != nil {
		return nil, err
	}
	if s.events == nil {
		s.events = map[string][]byte{}
	}
	s.events[key] = b
	return b, nil
}

// invocationError reads a finished invocation of a rule's target: it
// succeeded when latch logged the tick's own outcome (the line whose source
// is the event's, "aws.events") as succeeded or duplicate. Outcome lines of
// the items a tick handled (a poller's) do not count: a tick that handled
// items and then died failed.
func invocationError(iv Invocation) error {
	var last string
	for _, l := range iv.Lines {
		var oc struct {
			demo.Outcome
			Source string `json:"source"`
		}
		i := strings.IndexByte(l, '{')
		if i < 0 || json.Unmarshal([]byte(l[i:]), &oc) != nil || oc.Outcome.Outcome == "" || oc.Source != tickSource {
			continue
		}
		switch handler.Outcome(oc.Outcome.Outcome) {
		case handler.Succeeded, handler.Duplicate:
			return nil
		}
		last = oc.Error
	}
	if last == "" && len(iv.Lines) > 0 {
		last = iv.Lines[len(iv.Lines)-1]
	}
	if last == "" {
		last = "no output: the process died"
	}
	return errors.New("invocation " + iv.RequestID + " failed: " + last)
}

// tickSource is the source of a schedule tick's outcome line: EventBridge's
// event source.
const tickSource = "aws.events"

// ruleName is a rule's name from its physical id (a name, or an ARN
// "arn:...:rule/[bus/]name").
func ruleName(id string) string {
	if strings.HasPrefix(id, "arn:") {
		return id[strings.LastIndexByte(id, '/')+1:]
	}
	if i := strings.LastIndexByte(id, '|'); i >= 0 {
		return id[i+1:]
	}
	return id
}

// functionName is a function's name from its ARN.
func functionName(a string) string {
	if p, err := arn.Parse(a); err == nil {
		if rest, ok := strings.CutPrefix(p.Resource, "function:"); ok {
			name, _, _ := strings.Cut(rest, ":")
			return name
		}
	}
	return a
}
