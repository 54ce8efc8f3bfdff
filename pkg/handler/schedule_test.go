package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// failureQueueFake keeps what is sent to a failure queue, or fails.
type failureQueueFake struct {
	mu   sync.Mutex
	sent []*sqs.SendMessageInput
	err  error
}

func (f *failureQueueFake) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	f.sent = append(f.sent, in)
	return &sqs.SendMessageOutput{MessageId: aws.String("fq-1")}, nil
}

func (f *failureQueueFake) messages() []*sqs.SendMessageInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*sqs.SendMessageInput(nil), f.sent...)
}

func sentAttr(in *sqs.SendMessageInput, name string) string {
	v, ok := in.MessageAttributes[name]
	if !ok {
		return ""
	}
	return aws.ToString(v.StringValue)
}

func memoryGuard(t *testing.T) *idempotency.Guard {
	t.Helper()
	g, err := idempotency.NewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), Namespace: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

const schedulerTick = `{"schedule":"nightly-report","scheduledTime":"2026-03-01T06:00:00Z","executionId":"exec-2","attempt":"1"}`

func TestScheduleOutcomes(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("report service down")
	tests := []struct {
		name string
		// deliveries are the payloads, in order; fails[i] is what the job
		// returns on its i-th run.
		deliveries []string
		fails      []error
		idem       bool
		queue      bool
		queueErr   error

		wantRuns     int
		wantOutcomes []handler.Outcome
		wantErrs     []bool // per delivery: does the invocation fail?
		wantQueued   int
	}{
		{
			name: "one tick", deliveries: []string{ruleEvent},
			wantRuns: 1, wantOutcomes: []handler.Outcome{handler.Succeeded}, wantErrs: []bool{false},
		},
		{
			name: "delivered twice without idempotency runs twice", deliveries: []string{ruleEvent, ruleEvent},
			wantRuns: 2, wantOutcomes: []handler.Outcome{handler.Succeeded, handler.Succeeded}, wantErrs: []bool{false, false},
		},
		{
			name: "delivered twice runs once", deliveries: []string{ruleEvent, ruleEvent}, idem: true,
			wantRuns: 1, wantOutcomes: []handler.Outcome{handler.Succeeded, handler.Duplicate}, wantErrs: []bool{false, false},
		},
		{
			name: "same tick by rule and by Scheduler runs once", deliveries: []string{ruleEvent, schedulerTick}, idem: true,
			wantRuns: 1, wantOutcomes: []handler.Outcome{handler.Succeeded, handler.Duplicate}, wantErrs: []bool{false, false},
		},
		{
			name: "retryable failure is returned, the retry runs", deliveries: []string{ruleEvent, ruleEvent}, idem: true, queue: true,
			fails:    []error{errBoom},
			wantRuns: 2, wantOutcomes: []handler.Outcome{handler.Failed, handler.Succeeded}, wantErrs: []bool{true, false},
		},
		{
			name: "permanent failure goes to the failure queue", deliveries: []string{ruleEvent}, queue: true,
			fails:    []error{retry.Permanent(errors.New("report template missing"))},
			wantRuns: 1, wantOutcomes: []handler.Outcome{handler.DeadLettered}, wantErrs: []bool{false}, wantQueued: 1,
		},
		{
			name: "permanent failure without a failure queue is returned", deliveries: []string{ruleEvent},
			fails:    []error{retry.Permanent(errors.New("report template missing"))},
			wantRuns: 1, wantOutcomes: []handler.Outcome{handler.Failed}, wantErrs: []bool{true},
		},
		{
			name: "failure queue send fails: returned", deliveries: []string{ruleEvent}, queue: true, queueErr: errors.New("sqs down"),
			fails:    []error{retry.Permanent(errors.New("bad"))},
			wantRuns: 1, wantOutcomes: []handler.Outcome{handler.Failed}, wantErrs: []bool{true},
		},
		{
			name: "malformed tick goes to the failure queue, the job does not run", deliveries: []string{`{"schedule":"x"}`}, queue: true,
			wantRuns: 0, wantOutcomes: []handler.Outcome{handler.DeadLettered}, wantErrs: []bool{false}, wantQueued: 1,
		},
		{
			name: "malformed tick without a failure queue is returned", deliveries: []string{`"hello"`},
			wantRuns: 0, wantOutcomes: []handler.Outcome{handler.Failed}, wantErrs: []bool{true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var runs atomic.Int32
			job := func(_ context.Context, tick handler.Tick) error {
				n := int(runs.Add(1))
				if tick.Schedule != "nightly-report" {
					t.Errorf("tick for %q", tick.Schedule)
				}
				if n <= len(tt.fails) {
					return tt.fails[n-1]
				}
				return nil
			}
			obs := &reportLog{}
			fq := &failureQueueFake{err: tt.queueErr}
			cfg := handler.ScheduleConfig{Observer: obs}
			if tt.idem {
				cfg.Idempotency = memoryGuard(t)
			}
			if tt.queue {
				cfg.FailureQueue = handler.FailureQueue{URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/ticks-failed", Client: fq}
			}
			f := handler.MustNewSchedule(job, cfg)
			for i, d := range tt.deliveries {
				_, err := f(context.Background(), json.RawMessage(d))
				if (err != nil) != tt.wantErrs[i] {
					t.Errorf("delivery %d: err = %v, want error %v", i+1, err, tt.wantErrs[i])
				}
			}
			if int(runs.Load()) != tt.wantRuns {
				t.Errorf("job ran %d times, want %d", runs.Load(), tt.wantRuns)
			}
			if diff := cmp.Diff(tt.wantOutcomes, obs.outcomes()); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			if got := len(fq.messages()); got != tt.wantQueued {
				t.Errorf("%d messages on the failure queue, want %d", got, tt.wantQueued)
			}
		})
	}
}

func TestScheduleFailureQueueMessage(t *testing.T) {
	t.Parallel()
	fq := &failureQueueFake{}
	obs := &reportLog{}
	now := time.Date(2026, 3, 1, 6, 0, 7, 0, time.UTC)
	f := handler.MustNewSchedule(func(context.Context, handler.Tick) error {
		return retry.Permanent(errors.New("report template missing"))
	}, handler.ScheduleConfig{
		FailureQueue: handler.FailureQueue{URL: "https://sqs/123/ticks-failed", Client: fq},
		Observer:     obs,
		Now:          func() time.Time { return now },
	})
	if _, err := f(context.Background(), json.RawMessage(schedulerTick)); err != nil {
		t.Fatal(err)
	}
	msgs := fq.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if aws.ToString(m.MessageBody) != schedulerTick {
		t.Errorf("body = %s, want the payload as received", aws.ToString(m.MessageBody))
	}
	got := map[string]string{}
	for k := range m.MessageAttributes {
		got[k] = sentAttr(m, k)
	}
	want := map[string]string{
		handler.DLQAttrError:        "report template missing",
		handler.DLQAttrErrorClass:   "permanent",
		handler.DLQAttrFailedAt:     "2026-03-01T06:00:07Z",
		handler.DLQAttrReceiveCount: "1",
		handler.FailureAttrSource:   "aws.scheduler",
		handler.FailureAttrEventID:  "exec-2",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	if m.MessageGroupId != nil {
		t.Errorf("group id on a standard queue: %v", *m.MessageGroupId)
	}
	rep := obs.last(t)
	if rep.Source != "aws.scheduler" || rep.ID != "exec-2" || rep.Attempt != 1 || rep.CorrelationID != "nightly-report@2026-03-01T06:00:00Z" {
		t.Errorf("record = %+v", rep.Delivery)
	}
	if rep.Class != retry.ClassPermanent || rep.Err == nil {
		t.Errorf("report = %+v, want the permanent error", rep)
	}
}

func TestScheduleFIFOFailureQueue(t *testing.T) {
	t.Parallel()
	fq := &failureQueueFake{}
	f := handler.MustNewSchedule(func(context.Context, handler.Tick) error { return retry.Permanent(errors.New("x")) },
		handler.ScheduleConfig{FailureQueue: handler.FailureQueue{URL: "https://sqs/123/ticks-failed.fifo", Client: fq}})
	if _, err := f(context.Background(), json.RawMessage(ruleEvent)); err != nil {
		t.Fatal(err)
	}
	m := fq.messages()[0]
	if aws.ToString(m.MessageGroupId) != "aws.events" || aws.ToString(m.MessageDeduplicationId) != "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa" {
		t.Errorf("group %q dedup %q, want aws.events and the event id", aws.ToString(m.MessageGroupId), aws.ToString(m.MessageDeduplicationId))
	}
}

func TestSchedulePanic(t *testing.T) {
	t.Parallel()
	obs := &reportLog{}
	fq := &failureQueueFake{}
	f := handler.MustNewSchedule(func(context.Context, handler.Tick) error { panic("nil map") },
		handler.ScheduleConfig{Observer: obs, FailureQueue: handler.FailureQueue{URL: "q", Client: fq}, Logger: slog.New(slog.DiscardHandler)})
	_, err := f(context.Background(), json.RawMessage(ruleEvent))
	var pe *handler.PanicError
	if !errors.As(err, &pe) || retry.Classify(err) != retry.ClassRetryable {
		t.Fatalf("err = %v, want a retryable *PanicError", err)
	}
	if len(fq.messages()) != 0 {
		t.Error("a panic went to the failure queue; it is retryable")
	}
	if rep := obs.last(t); rep.Outcome != handler.Failed {
		t.Errorf("outcome %v, want failed", rep.Outcome)
	}
}

func TestScheduleConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fn   func(context.Context, handler.Tick) error
		cfg  handler.ScheduleConfig
		// cause, when set, must match too
		cause error
	}{
		{name: "nil function"},
		{name: "failure queue without client", fn: func(context.Context, handler.Tick) error { return nil },
			cfg: handler.ScheduleConfig{FailureQueue: handler.FailureQueue{URL: "q"}}, cause: handler.ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := handler.NewSchedule(tt.fn, tt.cfg)
			if h != nil || !errors.Is(err, handler.ErrConfig) || (tt.cause != nil && !errors.Is(err, tt.cause)) {
				t.Errorf("err = %v, want ErrConfig (and %v)", err, tt.cause)
			}
		})
	}
}

func TestScheduleSendFailureKeepsBothErrors(t *testing.T) {
	t.Parallel()
	errBad, errDenied := errors.New("bad input"), errors.New("AccessDenied")
	f := handler.MustNewSchedule(func(context.Context, handler.Tick) error { return retry.Permanent(errBad) },
		handler.ScheduleConfig{FailureQueue: handler.FailureQueue{URL: "q", Client: &failureQueueFake{err: errDenied}}})
	_, err := f(context.Background(), json.RawMessage(ruleEvent))
	if !errors.Is(err, errBad) || !errors.Is(err, errDenied) || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("err = %v, want both the failure and the send error, each matching errors.Is", err)
	}
}
