package handler_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/retry"
)

const ruleEvent = `{
  "version": "0",
  "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
  "detail-type": "Scheduled Event",
  "source": "aws.events",
  "account": "123456789012",
  "time": "2026-03-01T06:00:00Z",
  "region": "eu-west-1",
  "resources": ["arn:aws:events:eu-west-1:123456789012:rule/nightly-report"],
  "detail": {}
}`

func TestParseTick(t *testing.T) {
	t.Parallel()
	six := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		payload string
		want    handler.Tick
		// wantErr is a fragment of the error text; the error must be a
		// permanent *TickError.
		wantErr string
	}{
		{
			name:    "schedule rule",
			payload: ruleEvent,
			want: handler.Tick{Schedule: "nightly-report", Time: six, Source: "aws.events",
				ID: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", Detail: json.RawMessage(`{}`)},
		},
		{
			name: "schedule rule on a custom bus, offset time",
			payload: `{"id":"e1","detail-type":"Scheduled Event","source":"aws.events","time":"2026-03-01T08:00:00+02:00",
				"resources":["arn:aws:events:eu-west-1:123456789012:rule/ops-bus/hourly"]}`,
			want: handler.Tick{Schedule: "ops-bus/hourly", Time: six, Source: "aws.events", ID: "e1"},
		},
		{
			name:    "scheduler input with every member",
			payload: `{"schedule":"nightly-report","scheduledTime":"2026-03-01T06:00:00Z","executionId":"exec-1","attempt":"2","detail":{"region":"eu"}}`,
			want: handler.Tick{Schedule: "nightly-report", Time: six, Source: "aws.scheduler", ID: "exec-1", Attempt: 2,
				Detail: json.RawMessage(`{"region":"eu"}`)},
		},
		{
			name:    "scheduler input with the schedule ARN and a numeric attempt",
			payload: `{"schedule":"arn:aws:scheduler:eu-west-1:123456789012:schedule/default/nightly","scheduledTime":"2026-03-01T06:00:00Z","attempt":1}`,
			want:    handler.Tick{Schedule: "default/nightly", Time: six, Source: "aws.scheduler", ID: "default/nightly@2026-03-01T06:00:00Z", Attempt: 1},
		},
		{
			name:    "scheduler input, minimal",
			payload: `{"schedule":"s","scheduledTime":"2026-03-01T06:00:00.5Z"}`,
			want:    handler.Tick{Schedule: "s", Time: six.Add(500 * time.Millisecond), Source: "aws.scheduler", ID: "s@2026-03-01T06:00:00.5Z"},
		},
		{name: "not JSON", payload: `tick`, wantErr: "not a JSON object"},
		{name: "JSON array", payload: `[1,2]`, wantErr: "not a JSON object"},
		{name: "empty", payload: ``, wantErr: "not a JSON object"},
		{name: "truncated", payload: `{"schedule":"s",`, wantErr: "does not decode"},
		{name: "empty object", payload: `{}`, wantErr: "neither a schedule rule event"},
		{name: "some other event", payload: `{"id":"x","source":"shop.orders","detail-type":"OrderPlaced","time":"2026-03-01T06:00:00Z"}`,
			wantErr: `source "shop.orders" with detail-type "OrderPlaced"`},
		{name: "rule event without resources", payload: `{"id":"x","source":"aws.events","detail-type":"Scheduled Event","time":"2026-03-01T06:00:00Z"}`,
			wantErr: "no rule ARN"},
		{name: "rule event with a non-rule ARN", payload: `{"source":"aws.events","detail-type":"Scheduled Event","time":"2026-03-01T06:00:00Z","resources":["arn:aws:events:eu-west-1:1:event-bus/default"]}`,
			wantErr: "no rule ARN"},
		{name: "rule event without time", payload: `{"source":"aws.events","detail-type":"Scheduled Event","resources":["arn:aws:events:eu-west-1:1:rule/r"]}`,
			wantErr: `"time" is missing`},
		{name: "rule event with a bad time", payload: `{"source":"aws.events","detail-type":"Scheduled Event","time":"yesterday","resources":["arn:aws:events:eu-west-1:1:rule/r"]}`,
			wantErr: "not an RFC 3339 time"},
		{name: "rule event with a time of the wrong type", payload: `{"source":"aws.events","detail-type":"Scheduled Event","time":12,"resources":["arn:aws:events:eu-west-1:1:rule/r"]}`,
			wantErr: "does not decode"},
		{name: "scheduler input without time", payload: `{"schedule":"s"}`, wantErr: `"scheduledTime" is missing`},
		{name: "scheduler input without schedule", payload: `{"scheduledTime":"2026-03-01T06:00:00Z"}`, wantErr: `empty "schedule"`},
		{name: "unfilled time placeholder", payload: `{"schedule":"s","scheduledTime":"<aws.scheduler.scheduled-time>"}`,
			wantErr: "unfilled placeholder"},
		{name: "unfilled schedule placeholder", payload: `{"schedule":"<aws.scheduler.schedule-arn>","scheduledTime":"2026-03-01T06:00:00Z"}`,
			wantErr: "unfilled placeholder"},
		{name: "not a schedule ARN", payload: `{"schedule":"arn:aws:sqs:eu-west-1:1:q","scheduledTime":"2026-03-01T06:00:00Z"}`,
			wantErr: "not a schedule ARN"},
		{name: "bad attempt", payload: `{"schedule":"s","scheduledTime":"2026-03-01T06:00:00Z","attempt":"first"}`,
			wantErr: "not a non-negative integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := handler.ParseTick([]byte(tt.payload))
			if tt.wantErr != "" {
				var te *handler.TickError
				if !errors.As(err, &te) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a *TickError saying %q", err, tt.wantErr)
				}
				if retry.Classify(err) != retry.ClassPermanent {
					t.Errorf("a malformed tick classifies as %v, want permanent", retry.Classify(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tick (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTickKey(t *testing.T) {
	t.Parallel()
	rule, err := handler.ParseTick([]byte(ruleEvent))
	if err != nil {
		t.Fatal(err)
	}
	// The same tick delivered by Scheduler (a different execution id and
	// attempt) has the same key; the next tick does not.
	again, err := handler.ParseTick([]byte(`{"schedule":"nightly-report","scheduledTime":"2026-03-01T08:00:00+02:00","executionId":"x","attempt":"3"}`))
	if err != nil {
		t.Fatal(err)
	}
	next, err := handler.ParseTick([]byte(`{"schedule":"nightly-report","scheduledTime":"2026-03-02T06:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if rule.Key() != "nightly-report@2026-03-01T06:00:00Z" || again.Key() != rule.Key() {
		t.Errorf("keys %q and %q, want both nightly-report@2026-03-01T06:00:00Z", rule.Key(), again.Key())
	}
	if next.Key() == rule.Key() {
		t.Errorf("the next tick has the same key %q", next.Key())
	}
}

func TestSchedulerInputRoundTrip(t *testing.T) {
	t.Parallel()
	in := handler.SchedulerInput("nightly-report")
	// What Scheduler does: fill in the placeholders.
	filled := strings.NewReplacer(
		"<aws.scheduler.scheduled-time>", "2026-03-01T06:00:00Z",
		"<aws.scheduler.execution-id>", "exec-9",
		"<aws.scheduler.attempt-number>", "1",
	).Replace(in)
	tick, err := handler.ParseTick([]byte(filled))
	if err != nil {
		t.Fatalf("%s: %v", filled, err)
	}
	want := handler.Tick{Schedule: "nightly-report", Time: time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC), Source: "aws.scheduler", ID: "exec-9", Attempt: 1}
	if diff := cmp.Diff(want, tick); diff != "" {
		t.Errorf("tick (-want +got):\n%s", diff)
	}
	// Unfilled, the template is a clear error, not a tick at the zero time.
	if _, err := handler.ParseTick([]byte(in)); !errors.Is(err, &handler.TickError{}) {
		t.Errorf("unfilled template: err = %v, want *TickError", err)
	}
}

func ExampleSchedulerInput() {
	fmt.Println(handler.SchedulerInput("nightly-report"))
	// Output: {"schedule":"nightly-report","scheduledTime":"<aws.scheduler.scheduled-time>","executionId":"<aws.scheduler.execution-id>","attempt":"<aws.scheduler.attempt-number>"}
}
