package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

type shipment struct {
	OrderID string `json:"order_id"`
	Items   int    `json:"items"`
}

func orderEvent(id, detail string) events.EventBridgeEvent {
	return events.EventBridgeEvent{
		Version: "0", ID: id, DetailType: "OrderShipped", Source: "shop.orders", AccountID: "123456789012",
		Time: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC), Region: "eu-west-1", Resources: []string{},
		Detail: json.RawMessage(detail),
	}
}

func TestDecodeEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		detail  string
		want    shipment
		wantErr bool
	}{
		{name: "object", detail: `{"order_id":"o-1","items":3}`, want: shipment{OrderID: "o-1", Items: 3}},
		{name: "absent detail", detail: ``},
		{name: "null detail", detail: `null`},
		{name: "wrong type", detail: `{"order_id":7}`, wantErr: true},
		{name: "not JSON", detail: `{order`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := handler.DecodeEvent[shipment](orderEvent("ev-1", tt.detail))
			if tt.wantErr {
				var de *handler.EventDecodeError
				if !errors.As(err, &de) || de.EventID != "ev-1" || retry.Classify(err) != retry.ClassPermanent {
					t.Fatalf("err = %v, want a permanent *EventDecodeError for ev-1", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Detail != tt.want || e.ID != "ev-1" || e.Source != "shop.orders" || e.DetailType != "OrderShipped" || e.Account != "123456789012" {
				t.Errorf("event = %+v", e)
			}
		})
	}
}

func TestEventBridgeOutcomes(t *testing.T) {
	t.Parallel()
	good := orderEvent("ev-1", `{"order_id":"o-1","items":3}`)
	tests := []struct {
		name       string
		deliveries []events.EventBridgeEvent
		cfg        func(*handler.EventBridgeConfig[shipment])
		fail       error
		wantRuns   int
		want       []handler.Outcome
		wantErr    []bool
		wantQueued int
	}{
		{
			name: "one event", deliveries: []events.EventBridgeEvent{good},
			wantRuns: 1, want: []handler.Outcome{handler.Succeeded}, wantErr: []bool{false},
		},
		{
			name: "redelivery runs once by event id", deliveries: []events.EventBridgeEvent{good, good},
			cfg:      func(c *handler.EventBridgeConfig[shipment]) { c.Idempotency = memoryGuard(t) },
			wantRuns: 1, want: []handler.Outcome{handler.Succeeded, handler.Duplicate}, wantErr: []bool{false, false},
		},
		{
			name: "redelivery with different whitespace is the same event", deliveries: []events.EventBridgeEvent{good, orderEvent("ev-1", `{ "order_id": "o-1", "items": 3 }`)},
			cfg:      func(c *handler.EventBridgeConfig[shipment]) { c.Idempotency = memoryGuard(t) },
			wantRuns: 1, want: []handler.Outcome{handler.Succeeded, handler.Duplicate}, wantErr: []bool{false, false},
		},
		{
			name:       "the same business event under two ids runs once with a key function",
			deliveries: []events.EventBridgeEvent{good, orderEvent("ev-2", `{"order_id":"o-1","items":3}`)},
			cfg: func(c *handler.EventBridgeConfig[shipment]) {
				c.Idempotency = memoryGuard(t)
				c.Key = func(e handler.Event[shipment]) (idempotency.Key, error) {
					return idempotency.Key{ID: e.Detail.OrderID}, nil
				}
			},
			wantRuns: 1, want: []handler.Outcome{handler.Succeeded, handler.Duplicate}, wantErr: []bool{false, false},
		},
		{
			name: "a detail that does not decode goes to the failure queue", deliveries: []events.EventBridgeEvent{orderEvent("ev-3", `{"items":"many"}`)},
			cfg: func(c *handler.EventBridgeConfig[shipment]) {
				c.FailureQueue = handler.FailureQueue{URL: "q", Client: &failureQueueFake{}}
			},
			wantRuns: 0, want: []handler.Outcome{handler.DeadLettered}, wantErr: []bool{false}, wantQueued: 1,
		},
		{
			name: "a detail that does not decode, no failure queue", deliveries: []events.EventBridgeEvent{orderEvent("ev-3", `{"items":"many"}`)},
			wantRuns: 0, want: []handler.Outcome{handler.Failed}, wantErr: []bool{true},
		},
		{
			name: "retryable failure is returned", deliveries: []events.EventBridgeEvent{good},
			cfg: func(c *handler.EventBridgeConfig[shipment]) {
				c.FailureQueue = handler.FailureQueue{URL: "q", Client: &failureQueueFake{}}
			},
			fail:     errors.New("warehouse API timeout"),
			wantRuns: 1, want: []handler.Outcome{handler.Failed}, wantErr: []bool{true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var runs atomic.Int32
			obs := &reportLog{}
			cfg := handler.EventBridgeConfig[shipment]{Observer: obs}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			f := handler.MustNewEventBridge(func(_ context.Context, e handler.Event[shipment]) error {
				runs.Add(1)
				if e.Detail.OrderID != "o-1" || e.Detail.Items != 3 {
					t.Errorf("detail = %+v", e.Detail)
				}
				return tt.fail
			}, cfg)
			for i, ev := range tt.deliveries {
				if _, err := f(context.Background(), ev); (err != nil) != tt.wantErr[i] {
					t.Errorf("delivery %d: err = %v, want error %v", i+1, err, tt.wantErr[i])
				}
			}
			if int(runs.Load()) != tt.wantRuns {
				t.Errorf("ran %d times, want %d", runs.Load(), tt.wantRuns)
			}
			if diff := cmp.Diff(tt.want, obs.outcomes()); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			queued := 0
			if fq, ok := cfg.FailureQueue.Client.(*failureQueueFake); ok {
				queued = len(fq.messages())
			}
			if queued != tt.wantQueued {
				t.Errorf("%d messages on the failure queue, want %d", queued, tt.wantQueued)
			}
		})
	}
}

func TestEventBridgeRecordAndFailureMessage(t *testing.T) {
	t.Parallel()
	obs := &reportLog{}
	fq := &failureQueueFake{}
	bad := orderEvent("ev-9", `{"items":"many"}`)
	f := handler.MustNewEventBridge(func(context.Context, handler.Event[shipment]) error { return nil }, handler.EventBridgeConfig[shipment]{
		Observer:     obs,
		FailureQueue: handler.FailureQueue{URL: "q", Client: fq},
	})
	if _, err := f(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	rep := obs.last(t)
	if rep.Source != "shop.orders" || rep.ID != "ev-9" || rep.CorrelationID != "ev-9" || rep.Body != `{"items":"many"}` {
		t.Errorf("record = %+v", rep.Delivery)
	}
	var de *handler.EventDecodeError
	if !errors.As(rep.Err, &de) || rep.Class != retry.ClassPermanent {
		t.Errorf("report error %v class %v, want a permanent decode error", rep.Err, rep.Class)
	}
	m := fq.messages()[0]
	// The body is the event, so that sending it back to the function
	// replays it.
	var back events.EventBridgeEvent
	if err := json.Unmarshal([]byte(aws.ToString(m.MessageBody)), &back); err != nil {
		t.Fatalf("failure message body %s: %v", aws.ToString(m.MessageBody), err)
	}
	if diff := cmp.Diff(bad, back); diff != "" {
		t.Errorf("failure message body (-want +got):\n%s", diff)
	}
	if sentAttr(m, handler.FailureAttrEventID) != "ev-9" || sentAttr(m, handler.FailureAttrSource) != "shop.orders" || sentAttr(m, handler.DLQAttrErrorClass) != "permanent" {
		t.Errorf("attributes = %v", m.MessageAttributes)
	}
}

func TestEventBridgeCorrelationID(t *testing.T) {
	t.Parallel()
	obs := &reportLog{}
	f := handler.MustNewEventBridge(func(context.Context, handler.Event[shipment]) error { return nil }, handler.EventBridgeConfig[shipment]{
		Observer:      obs,
		CorrelationID: func(e handler.Event[shipment]) string { return "order-" + e.Detail.OrderID },
	})
	if _, err := f(context.Background(), orderEvent("ev-1", `{"order_id":"o-1"}`)); err != nil {
		t.Fatal(err)
	}
	if got := obs.last(t).CorrelationID; got != "order-o-1" {
		t.Errorf("correlation id = %q", got)
	}
}

// Without a CorrelationID function, a sender's correlation id in the
// detail (what producer.Bus puts there) wins over the event id.
func TestEventBridgeCorrelationIDFromDetail(t *testing.T) {
	t.Parallel()
	obs := &reportLog{}
	f := handler.MustNewEventBridge(func(context.Context, handler.Event[shipment]) error { return nil }, handler.EventBridgeConfig[shipment]{Observer: obs})
	for _, tt := range []struct{ detail, want string }{
		{`{"order_id":"o-1","correlation_id":"req-7"}`, "req-7"},
		{`{"order_id":"o-1"}`, "ev-1"},
		{`{"order_id":"o-1","correlation_id":""}`, "ev-1"},
	} {
		if _, err := f(context.Background(), orderEvent("ev-1", tt.detail)); err != nil {
			t.Fatal(err)
		}
		if got := obs.last(t).CorrelationID; got != tt.want {
			t.Errorf("detail %s: correlation id = %q, want %q", tt.detail, got, tt.want)
		}
	}
}

func TestEventBridgeConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fn   func(context.Context, handler.Event[shipment]) error
		cfg  handler.EventBridgeConfig[shipment]
		// cause, when set, must match too
		cause error
	}{
		{name: "nil function"},
		{name: "failure queue without client", fn: func(context.Context, handler.Event[shipment]) error { return nil },
			cfg: handler.EventBridgeConfig[shipment]{FailureQueue: handler.FailureQueue{URL: "q"}}, cause: handler.ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := handler.NewEventBridge(tt.fn, tt.cfg)
			if h != nil || !errors.Is(err, handler.ErrConfig) || (tt.cause != nil && !errors.Is(err, tt.cause)) {
				t.Errorf("err = %v, want ErrConfig (and %v)", err, tt.cause)
			}
		})
	}
}

func sqsEventOf(evs ...events.EventBridgeEvent) events.SQSEvent {
	var out events.SQSEvent
	for i, ev := range evs {
		body, _ := json.Marshal(ev)
		out.Records = append(out.Records, events.SQSMessage{
			MessageId: fmt.Sprint("msg-", i), ReceiptHandle: fmt.Sprint("rh-", i), Body: string(body),
			Attributes:     map[string]string{"ApproximateReceiveCount": "1"},
			EventSource:    "aws:sqs",
			EventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:orders",
			AWSRegion:      "eu-west-1",
		})
	}
	return out
}

// TestEventBridgeSQS runs events through the SQS processor: typed detail,
// the same event twice in a batch (SQS delivers at least once) runs once
// under KeyEventID and is reported as a duplicate.
func TestEventBridgeSQS(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	obs := &reportLog{}
	proc := handler.MustNewSQS(handler.EventBridgeSQS(func(_ context.Context, e handler.Event[shipment]) error {
		runs.Add(1)
		if e.Detail.OrderID != "o-1" || e.ID != "ev-1" {
			t.Errorf("event = %+v", e)
		}
		return nil
	}), handler.SQSConfig{Client: noCallsSQS{}, DLQURL: "https://sqs.us-east-1.amazonaws.com/123456789012/dlq", Idempotency: memoryGuard(t), Key: handler.KeyEventID, Observer: obs, Concurrency: 1})
	ev := orderEvent("ev-1", `{"order_id":"o-1","items":3}`)
	resp, err := proc(context.Background(), sqsEventOf(ev, ev))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batch: %v %v", err, resp)
	}
	if runs.Load() != 1 {
		t.Errorf("ran %d times, want 1", runs.Load())
	}
	if diff := cmp.Diff([]handler.Outcome{handler.Succeeded, handler.Duplicate}, obs.outcomes()); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestEventBridgeSQSUndecodableIsPermanent(t *testing.T) {
	t.Parallel()
	rf := handler.EventBridgeSQS(func(context.Context, handler.Event[shipment]) error { return nil })
	err := rf(context.Background(), handler.Message[events.EventBridgeEvent]{Body: orderEvent("ev-2", `{"order_id":1}`)})
	var de *handler.EventDecodeError
	if !errors.As(err, &de) || retry.Classify(err) != retry.ClassPermanent {
		t.Errorf("err = %v, want a permanent *EventDecodeError", err)
	}
}

func TestEventKeys(t *testing.T) {
	t.Parallel()
	body := func(ev events.EventBridgeEvent) events.SQSMessage {
		b, _ := json.Marshal(ev)
		return events.SQSMessage{MessageId: "m", Body: string(b)}
	}
	byOrder := handler.KeyEvent(func(e handler.Event[shipment]) (idempotency.Key, error) {
		return idempotency.Key{ID: "order:" + e.Detail.OrderID}, nil
	})
	tests := []struct {
		name     string
		key      handler.KeyFunc
		msg      events.SQSMessage
		want     idempotency.Key
		wantPerm bool
	}{
		{name: "event id, detail compacted as payload", key: handler.KeyEventID, msg: body(orderEvent("ev-1", `{ "order_id": "o-1" }`)),
			want: idempotency.Key{ID: "ev-1", Payload: []byte(`{"order_id":"o-1"}`)}},
		{name: "event id of a body that is not an event", key: handler.KeyEventID, msg: events.SQSMessage{Body: "hello"}, wantPerm: true},
		{name: "business key", key: byOrder, msg: body(orderEvent("ev-1", `{"order_id":"o-7"}`)), want: idempotency.Key{ID: "order:o-7"}},
		{name: "business key of an undecodable detail", key: byOrder, msg: body(orderEvent("ev-1", `{"order_id":7}`)), wantPerm: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.key(tt.msg)
			if tt.wantPerm {
				if retry.Classify(err) != retry.ClassPermanent || err == nil {
					t.Fatalf("err = %v, want permanent", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("key (-want +got):\n%s", diff)
			}
		})
	}
}

// noCallsSQS fails every call: a batch that succeeds makes none.
type noCallsSQS struct{ handler.SQSClient }

func (noCallsSQS) SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return nil, errors.New("unexpected SQS call")
}
