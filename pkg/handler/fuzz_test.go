package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// Fuzz targets for every decoder of untrusted input in this package: SQS
// bodies (through the whole processor), schedule ticks in both shapes, and
// EventBridge events (direct, and as SQS bodies). Each is seeded from the
// sample events in events/; run one with
//
//	go test -run '^$' -fuzz '^FuzzSQSBody$' -fuzztime 30s ./pkg/handler

// eventsDir holds the repository's sample events.
const eventsDir = "../../events"

// sampleEvent reads a sample event file, failing the target when it is
// missing: a seed corpus that silently shrinks tests less.
func sampleEvent(f *testing.F, name string) []byte {
	f.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// sampleBodies returns the record bodies of a sample SQS event.
func sampleBodies(f *testing.F, name string) []string {
	f.Helper()
	var ev events.SQSEvent
	if err := json.Unmarshal(sampleEvent(f, name), &ev); err != nil {
		f.Fatal(err)
	}
	var out []string
	for _, r := range ev.Records {
		out = append(out, r.Body)
	}
	if len(out) == 0 {
		f.Fatalf("%s has no records", name)
	}
	return out
}

// fuzzOrder is the order-worker's message shape (events/sqs-orders.json).
type fuzzOrder struct {
	OrderID     string    `json:"orderId"`
	CustomerID  string    `json:"customerId"`
	AmountCents int64     `json:"amountCents"`
	Currency    string    `json:"currency"`
	PlacedAt    time.Time `json:"placedAt"`
}

// FuzzSQSBody runs any body through the SQS processor, keyed by a JSON
// field under idempotency as the order-worker is: the record either runs
// (Succeeded) or, when the body does not decode or carries no key, goes to
// the dead-letter queue with the reason (DeadLettered). It is never
// dropped, never left to loop, and nothing panics.
func FuzzSQSBody(f *testing.F) {
	for _, b := range sampleBodies(f, "sqs-orders.json") {
		f.Add(b)
	}
	for _, b := range []string{``, `null`, `[]`, `{}`, `{"orderId":7}`, `{"orderId":""}`, `{"orderId":{"a":1}}`,
		`{"orderId":"o-1","amountCents":"many"}`, `{"orderId":"o-1","placedAt":"yesterday"}`, "\xff\xfe", `{"orderId":"o-1"`, `"o-1"`} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		client := newFakeSQS()
		obs := &recorder{}
		guard := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), Namespace: "fuzz"})
		ran := false
		h := handler.MustNewSQS(func(_ context.Context, m handler.Message[fuzzOrder]) error {
			ran = true
			return nil
		}, handler.SQSConfig{Client: client, Idempotency: guard, Key: handler.KeyJSONField("orderId"), Observer: obs, Logger: discard, Concurrency: 1})
		resp, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body}))
		if err != nil {
			t.Fatalf("batch error %v: a body must never fail the whole batch", err)
		}
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("reported %v: a body is either processed or dead-lettered, not retried", resp.BatchItemFailures)
		}
		r := obs.report("m1")
		switch r.Outcome {
		case handler.Succeeded:
			var o fuzzOrder
			if !ran || json.Unmarshal([]byte(body), &o) != nil || r.Err != nil {
				t.Fatalf("succeeded, but ran %v, decodes %v, err %v", ran, json.Unmarshal([]byte(body), &o) == nil, r.Err)
			}
		case handler.DeadLettered:
			if ran || r.Err == nil || r.Class != retry.ClassPermanent {
				t.Fatalf("dead-lettered, but ran %v, err %v, class %v", ran, r.Err, r.Class)
			}
			if len(client.sent) != 1 || aws.ToString(client.sent[0].MessageBody) != body {
				t.Fatalf("DLQ got %d messages; want the body, unchanged", len(client.sent))
			}
			reason := aws.ToString(client.sent[0].MessageAttributes[handler.DLQAttrError].StringValue)
			if reason == "" || !utf8.ValidString(reason) || len(reason) > handler.DLQErrorTextLimit {
				t.Fatalf("DLQ reason %q: want a non-empty UTF-8 text within the limit", reason)
			}
		default:
			t.Fatalf("outcome %q (err %v), want succeeded or dead_lettered", r.Outcome, r.Err)
		}
	})
}

// FuzzParseTick reads any payload as a schedule tick: a tick that parses
// names a schedule and a time, and its key is stable; anything else is a
// permanent *TickError. Through NewSchedule with a failure queue, no
// payload fails the invocation: it runs, or goes to the queue.
func FuzzParseTick(f *testing.F) {
	f.Add(sampleEvent(f, "schedule-daily-report.json"))
	for _, s := range []string{
		handler.SchedulerInput("nightly-report"),
		`{"schedule":"nightly-report","scheduledTime":"2026-03-01T06:00:00Z","executionId":"exec-2","attempt":"1"}`,
		`{"schedule":"arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly","scheduledTime":"2026-03-01T06:00:00Z","attempt":3}`,
		`{"schedule":"x","scheduledTime":"<aws.scheduler.scheduled-time>"}`,
		`{"source":"aws.events","detail-type":"Scheduled Event","resources":["arn:aws:events:us-east-1:1:rule/bus/r"],"time":"2026-03-01T06:00:00.5+02:00"}`,
		`{"source":"aws.events","detail-type":"Scheduled Event","resources":[],"time":""}`,
		``, `null`, `"hello"`, `{}`, `{"schedule":null}`, `{"attempt":"-1","schedule":"s","scheduledTime":"2026-03-01T06:00:00Z"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		tick, err := handler.ParseTick(payload)
		if err != nil {
			var te *handler.TickError
			if !errors.As(err, &te) || retry.Classify(err) != retry.ClassPermanent {
				t.Fatalf("error %v: want a permanent *TickError", err)
			}
		} else {
			if strings.TrimSpace(tick.Schedule) == "" || tick.Time.IsZero() || tick.Time.Location() != time.UTC {
				t.Fatalf("tick %+v: want a schedule and a UTC time", tick)
			}
			if tick.Source != handler.SourceScheduleRule && tick.Source != handler.SourceScheduler {
				t.Fatalf("tick source %q", tick.Source)
			}
			if again, err := handler.ParseTick(payload); err != nil || again.Key() != tick.Key() {
				t.Fatalf("second parse: key %q, err %v; want the same key %q", again.Key(), err, tick.Key())
			}
		}

		fq := &failureQueueFake{}
		ran := 0
		h := handler.MustNewSchedule(func(context.Context, handler.Tick) error { ran++; return nil }, handler.ScheduleConfig{
			FailureQueue: handler.FailureQueue{URL: "https://sqs.us-east-1.amazonaws.com/123456789012/ticks-failed", Client: fq},
		})
		if _, herr := h(context.Background(), payload); herr != nil {
			t.Fatalf("invocation error %v: a bad payload goes to the failure queue", herr)
		}
		if want := 0; err == nil {
			want = 1
			if ran != want || len(fq.messages()) != 0 {
				t.Fatalf("a tick: ran %d, queued %d; want ran once", ran, len(fq.messages()))
			}
		} else if ran != 0 || len(fq.messages()) != 1 {
			t.Fatalf("not a tick: ran %d, queued %d; want queued once", ran, len(fq.messages()))
		}
	})
}

// FuzzDecodeEvent decodes any EventBridge event's detail into a Go type,
// directly (DecodeEvent, what NewEventBridge does) and from an SQS body
// (EventBridgeSQS with KeyEventID): a detail that does not decode is a
// permanent *EventDecodeError, and a body that is not an event goes to the
// dead-letter queue, never back to the queue.
func FuzzDecodeEvent(f *testing.F) {
	f.Add(sampleEvent(f, "eventbridge-order-accepted.json"))
	for _, b := range sampleBodies(f, "sqs-ledger-fifo.json") {
		f.Add([]byte(b))
	}
	for _, s := range []string{
		`{"id":"ev-1","source":"shop","detail":{"order_id":"o-1","items":3}}`,
		`{"id":"ev-1","detail":null}`, `{"id":"ev-1"}`, `{"id":"ev-1","detail":"x"}`, `{"id":"ev-1","detail":{"items":"3"}}`,
		`{"id":"","detail":{}}`, `{"detail":[1,2]}`, `{"time":"not a time"}`, ``, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev events.EventBridgeEvent
		if json.Unmarshal(data, &ev) == nil {
			e, err := handler.DecodeEvent[shipment](ev)
			if err != nil {
				var de *handler.EventDecodeError
				if !errors.As(err, &de) || de.EventID != ev.ID || retry.Classify(err) != retry.ClassPermanent {
					t.Fatalf("DecodeEvent error %v: want a permanent *EventDecodeError naming the event", err)
				}
			} else if e.ID != ev.ID || e.Source != ev.Source {
				t.Fatalf("decoded envelope %q/%q, want %q/%q", e.ID, e.Source, ev.ID, ev.Source)
			}
		}

		client := newFakeSQS()
		obs := &recorder{}
		guard := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), Namespace: "fuzz"})
		h := handler.MustNewSQS(handler.EventBridgeSQS(func(context.Context, handler.Event[shipment]) error { return nil }),
			handler.SQSConfig{Client: client, Idempotency: guard, Key: handler.KeyEventID, Observer: obs, Logger: discard})
		resp, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: string(data)}))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("batch error %v, reported %v: an event body runs or is dead-lettered", err, resp.BatchItemFailures)
		}
		switch r := obs.report("m1"); r.Outcome {
		case handler.Succeeded:
		case handler.DeadLettered:
			if len(client.sent) != 1 || aws.ToString(client.sent[0].MessageBody) != string(data) {
				t.Fatalf("DLQ got %d messages; want the body, unchanged", len(client.sent))
			}
		default:
			t.Fatalf("outcome %q (err %v), want succeeded or dead_lettered", r.Outcome, r.Err)
		}
	})
}
