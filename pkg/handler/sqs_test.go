package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/retry"
)

type order struct {
	ID     string `json:"order_id"`
	Amount int    `json:"amount"`
}

var (
	errFlaky    = errors.New("downstream unavailable")
	errRejected = errors.New("order rejected")
	testNow     = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// noJitter is a backoff that tests can predict: 2s, 4s, 8s, ... up to 60s.
var noJitter = retry.Backoff{Base: 2 * time.Second, Max: time.Minute, Jitter: -1}

func failures(ids ...string) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, id := range ids {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	return resp
}

// byBody fails records according to their body's order id: "flaky..." is
// retryable, "bad..." permanent, "boom..." panics, anything else succeeds.
func byBody(_ context.Context, m handler.Message[order]) error {
	switch {
	case strings.HasPrefix(m.Body.ID, "flaky"):
		return fmt.Errorf("order %s: %w", m.Body.ID, errFlaky)
	case strings.HasPrefix(m.Body.ID, "bad"):
		return retry.Permanent(fmt.Errorf("order %s: %w", m.Body.ID, errRejected))
	case strings.HasPrefix(m.Body.ID, "boom"):
		panic("nil map in order " + m.Body.ID)
	}
	return nil
}

func body(id string) string { return fmt.Sprintf(`{"order_id":%q,"amount":1}`, id) }

func TestSQSOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		queueMax     int // maxReceiveCount of the source queue; 0: no redrive policy
		maxAttempts  int // SQSConfig.MaxAttempts
		dlqURL       bool
		msgs         []msg
		want         events.SQSEventResponse
		wantOutcomes map[string]handler.Outcome
		wantDelay    map[string]int32 // visibility asked per message id
		wantDLQ      []string         // bodies sent to the DLQ, in order
	}{
		{
			name:         "all succeed",
			queueMax:     3,
			msgs:         []msg{{id: "m1", body: body("a")}, {id: "m2", body: body("b")}},
			want:         failures(),
			wantOutcomes: map[string]handler.Outcome{"m1": handler.Succeeded, "m2": handler.Succeeded},
		},
		{
			name:         "retryable failure is delayed by the backoff and reported",
			queueMax:     5,
			msgs:         []msg{{id: "m1", body: body("a")}, {id: "m2", body: body("flaky"), attempt: 3}},
			want:         failures("m2"),
			wantOutcomes: map[string]handler.Outcome{"m1": handler.Succeeded, "m2": handler.RetryScheduled},
			wantDelay:    map[string]int32{"m2": 8},
		},
		{
			name:         "last attempt goes to the DLQ and is not reported",
			queueMax:     3,
			msgs:         []msg{{id: "m1", body: body("flaky"), attempt: 3}},
			want:         failures(),
			wantOutcomes: map[string]handler.Outcome{"m1": handler.DeadLettered},
			wantDLQ:      []string{body("flaky")},
		},
		{
			name:         "past the last attempt also goes to the DLQ",
			queueMax:     3,
			msgs:         []msg{{id: "m1", body: body("flaky"), attempt: 7}},
			want:         failures(),
			wantOutcomes: map[string]handler.Outcome{"m1": handler.DeadLettered},
			wantDLQ:      []string{body("flaky")},
		},
		{
			name:         "permanent failure goes to the DLQ on the first attempt",
			queueMax:     3,
			msgs:         []msg{{id: "m1", body: body("bad")}, {id: "m2", body: body("ok")}},
			want:         failures(),
			wantOutcomes: map[string]handler.Outcome{"m1": handler.DeadLettered, "m2": handler.Succeeded},
			wantDLQ:      []string{body("bad")},
		},
		{
			name:         "undecodable body is permanent",
			queueMax:     3,
			msgs:         []msg{{id: "m1", body: `{"order_id": 7`}},
			want:         failures(),
			wantOutcomes: map[string]handler.Outcome{"m1": handler.DeadLettered},
			wantDLQ:      []string{`{"order_id": 7`},
		},
		{
			name:         "panic is a retryable failure of that record only",
			queueMax:     3,
			msgs:         []msg{{id: "m1", body: body("boom")}, {id: "m2", body: body("ok")}},
			want:         failures("m1"),
			wantOutcomes: map[string]handler.Outcome{"m1": handler.RetryScheduled, "m2": handler.Succeeded},
			wantDelay:    map[string]int32{"m1": 2},
		},
		{
			name:         "without a redrive policy, DefaultSQSMaxAttempts is the last attempt",
			dlqURL:       true,
			msgs:         []msg{{id: "m1", body: body("flaky"), attempt: handler.DefaultSQSMaxAttempts - 1}, {id: "m2", body: body("flaky"), attempt: handler.DefaultSQSMaxAttempts}},
			want:         failures("m1"),
			wantOutcomes: map[string]handler.Outcome{"m1": handler.RetryScheduled, "m2": handler.DeadLettered},
			wantDelay:    map[string]int32{"m1": 60},
			wantDLQ:      []string{body("flaky")},
		},
		{
			// what the outside run saw: attempt 50 still retry_scheduled
			name:         "without a redrive policy, a long-failing record ends in the DLQ",
			dlqURL:       true,
			msgs:         []msg{{id: "m1", body: body("flaky"), attempt: 50}},
			want:         failures(),
			wantOutcomes: map[string]handler.Outcome{"m1": handler.DeadLettered},
			wantDLQ:      []string{body("flaky")},
		},
		{
			name:         "MaxAttempts caps a queue without a redrive policy",
			maxAttempts:  3,
			dlqURL:       true,
			msgs:         []msg{{id: "m1", body: body("flaky"), attempt: 2}, {id: "m2", body: body("flaky"), attempt: 3}},
			want:         failures("m1"),
			wantOutcomes: map[string]handler.Outcome{"m1": handler.RetryScheduled, "m2": handler.DeadLettered},
			wantDelay:    map[string]int32{"m1": 4},
			wantDLQ:      []string{body("flaky")},
		},
		{
			name:         "MaxAttempts below maxReceiveCount wins",
			queueMax:     5,
			maxAttempts:  3,
			msgs:         []msg{{id: "m1", body: body("flaky"), attempt: 2}, {id: "m2", body: body("flaky"), attempt: 3}},
			want:         failures("m1"),
			wantOutcomes: map[string]handler.Outcome{"m1": handler.RetryScheduled, "m2": handler.DeadLettered},
			wantDelay:    map[string]int32{"m1": 4},
			wantDLQ:      []string{body("flaky")},
		},
		{
			name:         "maxReceiveCount below MaxAttempts wins",
			queueMax:     5,
			maxAttempts:  8,
			msgs:         []msg{{id: "m1", body: body("flaky"), attempt: 4}, {id: "m2", body: body("flaky"), attempt: 5}},
			want:         failures("m1"),
			wantOutcomes: map[string]handler.Outcome{"m1": handler.RetryScheduled, "m2": handler.DeadLettered},
			wantDelay:    map[string]int32{"m1": 16},
			wantDLQ:      []string{body("flaky")},
		},
		{
			name:         "a queue's maxReceiveCount above DefaultSQSMaxAttempts is kept when MaxAttempts is zero",
			queueMax:     handler.DefaultSQSMaxAttempts + 10,
			msgs:         []msg{{id: "m1", body: body("flaky"), attempt: handler.DefaultSQSMaxAttempts + 5}},
			want:         failures("m1"),
			wantOutcomes: map[string]handler.Outcome{"m1": handler.RetryScheduled},
			wantDelay:    map[string]int32{"m1": 60},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := newFakeSQS()
			client.addQueue("orders", tt.queueMax)
			obs := &recorder{}
			cfg := handler.SQSConfig{Client: client, Backoff: noJitter, Observer: obs, Logger: discard, Now: func() time.Time { return testNow }, MaxAttempts: tt.maxAttempts}
			if tt.dlqURL {
				cfg.DLQURL = testURL("orders-dlq")
			}
			h := handler.MustNewSQS(byBody, cfg)
			got, err := h(context.Background(), sqsEvent("orders", tt.msgs...))
			if err != nil {
				t.Fatalf("handler error: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantOutcomes, obs.outcomes()); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			for _, m := range tt.msgs {
				gotDelay, ok := client.visibilityOf("rh-" + m.id)
				wantDelay, want := tt.wantDelay[m.id]
				if ok != want || gotDelay != wantDelay {
					t.Errorf("visibility of %s = %d (asked: %v), want %d (asked: %v)", m.id, gotDelay, ok, wantDelay, want)
				}
				if r := obs.report(m.id); r.Outcome == handler.RetryScheduled && r.RetryDelay != time.Duration(wantDelay)*time.Second {
					t.Errorf("report of %s: RetryDelay %v, want %ds", m.id, r.RetryDelay, wantDelay)
				}
				if r := obs.report(m.id); r.Outcome != "" && r.Body != m.body {
					t.Errorf("report of %s: Body %q, want the record's body %q (observers log it when asked)", m.id, r.Body, m.body)
				}
			}
			var dlq []string
			for _, in := range client.sent {
				if got, want := aws.ToString(in.QueueUrl), testURL("orders-dlq"); got != want {
					t.Errorf("sent to %s, want the DLQ %s", got, want)
				}
				dlq = append(dlq, aws.ToString(in.MessageBody))
			}
			if diff := cmp.Diff(tt.wantDLQ, dlq); diff != "" {
				t.Errorf("DLQ bodies (-want +got):\n%s", diff)
			}
		})
	}
}

var discard = slog.New(slog.DiscardHandler)

func TestSQSResponseJSON(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 3)
	h := handler.MustNewSQS(byBody, handler.SQSConfig{Client: client, Logger: discard})
	for _, tc := range []struct {
		name string
		msgs []msg
		want string
	}{
		{name: "no failures is an empty list, not null", msgs: []msg{{id: "m1", body: body("a")}}, want: `{"batchItemFailures":[]}`},
		{name: "failures in event order", msgs: []msg{{id: "m2", body: body("flaky2")}, {id: "m1", body: body("a")}, {id: "m3", body: body("flaky3")}},
			want: `{"batchItemFailures":[{"itemIdentifier":"m2"},{"itemIdentifier":"m3"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := h(context.Background(), sqsEvent("orders", tc.msgs...))
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("response JSON = %s, want %s", b, tc.want)
			}
		})
	}
}

func TestSQSDeadLetterAttributes(t *testing.T) {
	t.Parallel()
	str := func(s string) events.SQSMessageAttribute {
		return events.SQSMessageAttribute{DataType: "String", StringValue: aws.String(s)}
	}
	attrs := map[string]events.SQSMessageAttribute{
		"g": str("7"), "a": str("1"), "f": str("6"), "c": str("3"), "b": {DataType: "Binary", BinaryValue: []byte{1, 2}},
		"e": str("5"), "d": str("4"),
		"latch.error": str("an old reason, from before a redrive"),
	}
	client := newFakeSQS()
	client.addQueue("orders", 3)
	h := handler.MustNewSQS(byBody, handler.SQSConfig{Client: client, Logger: discard, Now: func() time.Time { return testNow }})
	if _, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("bad1"), attempt: 2, attrs: attrs})); err != nil {
		t.Fatal(err)
	}
	if len(client.sent) != 1 {
		t.Fatalf("sent %d messages to the DLQ, want 1", len(client.sent))
	}
	got := map[string]string{}
	for name, v := range client.sent[0].MessageAttributes {
		val := aws.ToString(v.StringValue)
		if v.BinaryValue != nil {
			val = fmt.Sprint(v.BinaryValue)
		}
		got[name] = aws.ToString(v.DataType) + ":" + val
	}
	want := map[string]string{
		handler.DLQAttrError:        "String:order bad1: order rejected",
		handler.DLQAttrErrorClass:   "String:permanent",
		handler.DLQAttrReceiveCount: "Number:2",
		handler.DLQAttrSourceQueue:  "String:" + testARN("orders"),
		handler.DLQAttrFailedAt:     "String:2026-03-01T12:00:00Z",
		// the record's own, in name order, while they fit in ten
		"a": "String:1", "b": "Binary:[1 2]", "c": "String:3", "d": "String:4",
	}
	want[handler.DLQAttrSourceMessageID] = "String:m1"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DLQ attributes (-want +got):\n%s", diff)
	}
	if client.sent[0].MessageGroupId != nil || client.sent[0].MessageDeduplicationId != nil {
		t.Error("standard DLQ got FIFO fields")
	}
}

func TestSQSDeadLetterLongError(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 3)
	long := strings.Repeat("é", 3000)
	h := handler.MustNewSQS(func(context.Context, handler.Message[string]) error { return retry.Permanent(errors.New(long)) },
		handler.SQSConfig{Client: client, Logger: discard})
	if _, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: "x"})); err != nil {
		t.Fatal(err)
	}
	text := aws.ToString(client.sent[0].MessageAttributes[handler.DLQAttrError].StringValue)
	if len(text) > handler.DLQErrorTextLimit || !strings.HasSuffix(text, "…") || !strings.HasPrefix(text, "éé") {
		t.Errorf("error text of %d bytes, ends %q: want at most %d bytes, cut with an ellipsis", len(text), text[len(text)-8:], handler.DLQErrorTextLimit)
	}
}

func TestSQSFIFODeadLetter(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders.fifo", 3)
	h := handler.MustNewSQS(byBody, handler.SQSConfig{Client: client, Logger: discard})
	resp, err := h(context.Background(), sqsEvent("orders.fifo", msg{id: "m1", body: body("bad"), group: "customer-9"}, msg{id: "m2", body: body("ok"), group: "customer-9"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures(), resp); diff != "" {
		t.Errorf("a dead-lettered record lets its group go on (-want +got):\n%s", diff)
	}
	if len(client.sent) != 1 {
		t.Fatalf("sent %d, want 1", len(client.sent))
	}
	in := client.sent[0]
	if got, want := aws.ToString(in.QueueUrl), testURL("orders-dlq.fifo"); got != want {
		t.Errorf("DLQ %s, want %s", got, want)
	}
	if g, d := aws.ToString(in.MessageGroupId), aws.ToString(in.MessageDeduplicationId); g != "customer-9" || d != "m1" {
		t.Errorf("FIFO DLQ group %q dedup %q, want customer-9 and m1", g, d)
	}
}

func TestSQSDeadLetterSendFails(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 3)
	client.sendErr = &types.QueueDoesNotExist{Message: aws.String("gone")}
	var logs bytes.Buffer
	obs := &recorder{}
	h := handler.MustNewSQS(byBody, handler.SQSConfig{Client: client, Observer: obs, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	resp, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("bad")}, msg{id: "m2", body: body("flaky"), attempt: 3}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures("m1", "m2"), resp); diff != "" {
		t.Errorf("records whose DLQ send failed must be reported, never dropped (-want +got):\n%s", diff)
	}
	for _, id := range []string{"m1", "m2"} {
		r := obs.report(id)
		var qne *types.QueueDoesNotExist
		if r.Outcome != handler.Failed || !errors.As(r.Err, &qne) {
			t.Errorf("%s: outcome %s, err %v; want failed with the send error", id, r.Outcome, r.Err)
		}
	}
	if !errors.Is(obs.report("m1").Err, errRejected) || obs.report("m1").Class != retry.ClassPermanent {
		t.Errorf("m1 report lost its own error or class: %v (%v)", obs.report("m1").Err, obs.report("m1").Class)
	}
	if !strings.Contains(logs.String(), "dead-letter") {
		t.Errorf("the failed send was not logged: %s", logs.String())
	}
}

func TestSQSDLQURLOverride(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 0) // no redrive policy: the DLQ comes from the config
	h := handler.MustNewSQS(byBody, handler.SQSConfig{Client: client, DLQURL: testURL("elsewhere"), Logger: discard})
	resp, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("bad")}))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 || len(client.sent) != 1 || aws.ToString(client.sent[0].QueueUrl) != testURL("elsewhere") {
		t.Errorf("resp %v, sent %d; want the record in the configured DLQ", resp, len(client.sent))
	}
}

func TestSQSVisibilityBatching(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 5)
	var msgs []msg
	var ids []string
	for i := range 25 {
		id := fmt.Sprintf("m%02d", i)
		msgs = append(msgs, msg{id: id, body: body("flaky")})
		ids = append(ids, id)
	}
	h := handler.MustNewSQS(byBody, handler.SQSConfig{Client: client, Backoff: noJitter, Logger: discard, Concurrency: 4})
	resp, err := h(context.Background(), sqsEvent("orders", msgs...))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures(ids...), resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	var sizes []int
	for _, call := range client.visibility {
		sizes = append(sizes, len(call))
	}
	if diff := cmp.Diff([]int{10, 10, 5}, sizes); diff != "" {
		t.Errorf("ChangeMessageVisibilityBatch entries per call (-want +got):\n%s", diff)
	}
}

func TestSQSVisibilityChangeFails(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		inject func(*fakeSQS)
	}{
		{name: "whole call fails", inject: func(f *fakeSQS) { f.visibilityErr = errors.New("throttled") }},
		{name: "one entry fails", inject: func(f *fakeSQS) { f.visibilityBad["rh-m1"] = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client := newFakeSQS()
			client.addQueue("orders", 5)
			tc.inject(client)
			var logs bytes.Buffer
			obs := &recorder{}
			h := handler.MustNewSQS(byBody, handler.SQSConfig{Client: client, Observer: obs, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			resp, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("flaky")}))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(failures("m1"), resp); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			if r := obs.report("m1"); r.Outcome != handler.Failed || !errors.Is(r.Err, errFlaky) || r.RetryDelay != 0 {
				t.Errorf("report %+v; want failed, keeping its error, no retry delay", r)
			}
			if !strings.Contains(logs.String(), "delay its retry") {
				t.Errorf("the failed visibility change was not logged: %s", logs.String())
			}
		})
	}
}

// inProgress stands in for idempotency.ErrInProgress.
type inProgress struct{ until time.Time }

func (e inProgress) Error() string      { return "in progress" }
func (e inProgress) RetryAt() time.Time { return e.until }

func TestSQSRetryAtRoundsUp(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 5)
	h := handler.MustNewSQS(func(context.Context, handler.Message[string]) error {
		return inProgress{until: testNow.Add(2500 * time.Millisecond)}
	}, handler.SQSConfig{Client: client, Logger: discard, Now: func() time.Time { return testNow }})
	if _, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: "x"})); err != nil {
		t.Fatal(err)
	}
	if got, _ := client.visibilityOf("rh-m1"); got != 3 {
		t.Errorf("visibility %ds, want 3s: the lock dies 2.5s from now", got)
	}
}

func TestSQSQueueLookedUpOnce(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.queues["orders"] = map[string]string{"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"2"}`, testARN("orders-dlq"))}
	client.queues["orders-dlq"] = map[string]string{}
	obs := &recorder{}
	h := handler.MustNewSQS(byBody, handler.SQSConfig{Client: client, Observer: obs, Logger: discard})
	// The first invocation reads the RedrivePolicy before any record runs.
	if _, err := h(context.Background(), sqsEvent("orders", msg{id: "ok", body: body("a")})); err != nil {
		t.Fatal(err)
	}
	if u, a := client.count("GetQueueUrl"), client.count("GetQueueAttributes"); u != 2 || a != 1 {
		t.Errorf("first batch: GetQueueUrl %d, GetQueueAttributes %d times; want 2 and 1", u, a)
	}
	for i := range 3 {
		ev := sqsEvent("orders", msg{id: fmt.Sprint("a", i), body: body("flaky")}, msg{id: fmt.Sprint("b", i), body: body("flaky"), attempt: 2})
		if _, err := h(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	// source URL, DLQ URL; RedrivePolicy once
	if u, a := client.count("GetQueueUrl"), client.count("GetQueueAttributes"); u != 2 || a != 1 {
		t.Errorf("GetQueueUrl %d, GetQueueAttributes %d times; want 2 and 1 for the life of the handler", u, a)
	}
	// maxReceiveCount "2" (a string in the policy) makes attempt 2 the last
	if got := obs.report("b2").Outcome; got != handler.DeadLettered {
		t.Errorf("attempt 2 of 2: %s, want dead_lettered", got)
	}
}

// TestSQSDLQURLSetNoCalls: with DLQURL set, nothing must be read before a
// record runs, so a batch that succeeds makes no SQS calls at all.
func TestSQSDLQURLSetNoCalls(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	h := handler.MustNewSQS(byBody, handler.SQSConfig{Client: client, DLQURL: testURL("orders-dlq"), Logger: discard})
	if _, err := h(context.Background(), sqsEvent("orders", msg{id: "ok", body: body("a")})); err != nil {
		t.Fatal(err)
	}
	if n := client.count("GetQueueUrl") + client.count("GetQueueAttributes"); n != 0 {
		t.Errorf("a batch that succeeds made %d lookups, want 0", n)
	}
}

// TestSQSQueueLookupFailsFirst: without DLQURL, a failed lookup of the
// queue's policy fails the whole first batch, before anything runs; the
// failure is not kept.
func TestSQSQueueLookupFailsFirst(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.lookupErr = errors.New("network down")
	var ran atomic.Int32
	h := handler.MustNewSQS(func(context.Context, handler.Message[order]) error { ran.Add(1); return nil }, handler.SQSConfig{Client: client, Logger: discard})
	ev := sqsEvent("orders", msg{id: "m1", body: body("ok")})
	if _, err := h(context.Background(), ev); !errors.Is(err, client.lookupErr) || ran.Load() != 0 {
		t.Fatalf("error %v, ran %d; want the lookup error and nothing run", err, ran.Load())
	}
	client.mu.Lock()
	client.lookupErr = nil
	client.mu.Unlock()
	if _, err := h(context.Background(), ev); err != nil || ran.Load() != 1 {
		t.Errorf("after the lookup recovers: error %v, ran %d; want nil, 1", err, ran.Load())
	}
}

// TestSQSQueueLookupFails: with DLQURL set, the queue is looked up on the
// first failure; a failed lookup leaves those records Failed, in the queue.
func TestSQSQueueLookupFails(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 3)
	client.lookupErr = errors.New("network down")
	obs := &recorder{}
	h := handler.MustNewSQS(byBody, handler.SQSConfig{Client: client, DLQURL: testURL("orders-dlq"), Observer: obs, Logger: discard})
	resp, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("flaky")}, msg{id: "m2", body: body("bad")}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures("m1", "m2"), resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	// the failure is not kept: the next batch looks again and succeeds
	client.mu.Lock()
	client.lookupErr = nil
	client.mu.Unlock()
	if _, err := h(context.Background(), sqsEvent("orders", msg{id: "m3", body: body("bad")})); err != nil {
		t.Fatal(err)
	}
	if got := obs.report("m3").Outcome; got != handler.DeadLettered {
		t.Errorf("after the lookup recovers: %s, want dead_lettered", got)
	}
}

func TestSQSPanic(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 3)
	var logs bytes.Buffer
	obs := &recorder{}
	h := handler.MustNewSQS(byBody, handler.SQSConfig{Client: client, Observer: obs, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	// on its last attempt, a panicking record goes to the DLQ with the panic as the reason
	resp, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("boom1")}, msg{id: "m2", body: body("boom2"), attempt: 3}, msg{id: "m3", body: body("ok")}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures("m1"), resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	r := obs.report("m1")
	var pe *handler.PanicError
	if !errors.As(r.Err, &pe) || r.Class != retry.ClassRetryable || r.Outcome != handler.RetryScheduled {
		t.Fatalf("report %+v; want a retryable *PanicError", r)
	}
	if !bytes.Contains(pe.Stack, []byte("byBody")) {
		t.Errorf("stack does not show the panicking function:\n%s", pe.Stack)
	}
	if !strings.Contains(logs.String(), `"stack":"goroutine`) || !strings.Contains(logs.String(), "nil map in order boom1") {
		t.Errorf("panic not logged with its stack: %s", logs.String())
	}
	if got := aws.ToString(client.sent[0].MessageAttributes[handler.DLQAttrError].StringValue); got != "panic: nil map in order boom2" {
		t.Errorf("DLQ reason %q", got)
	}
}

func TestSQSPanicWithPermanentErrorStaysRetryable(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 3)
	obs := &recorder{}
	h := handler.MustNewSQS(func(context.Context, handler.Message[string]) error { panic(retry.Permanent(errRejected)) },
		handler.SQSConfig{Client: client, Observer: obs, Logger: discard})
	if _, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: "x"})); err != nil {
		t.Fatal(err)
	}
	if r := obs.report("m1"); r.Outcome != handler.RetryScheduled || !errors.Is(r.Err, errRejected) {
		t.Errorf("report %+v; want retry_scheduled, unwrapping to the panic value", r)
	}
}

func TestSQSFIFOGroups(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders.fifo", 5)
	var (
		mu  sync.Mutex
		ran = map[string][]string{}
	)
	fn := func(_ context.Context, m handler.Message[order]) error {
		g := m.Raw.Attributes["MessageGroupId"]
		mu.Lock()
		ran[g] = append(ran[g], m.Raw.MessageId)
		mu.Unlock()
		return byBody(context.Background(), m)
	}
	obs := &recorder{}
	h := handler.MustNewSQS(fn, handler.SQSConfig{Client: client, Backoff: noJitter, Observer: obs, Logger: discard})
	ev := sqsEvent("orders.fifo",
		msg{id: "a1", body: body("ok"), group: "A"},
		msg{id: "b1", body: body("ok"), group: "B"},
		msg{id: "a2", body: body("flaky"), group: "A", attempt: 2},
		msg{id: "b2", body: body("bad"), group: "B"}, // dead-lettered: B goes on
		msg{id: "a3", body: body("ok"), group: "A"},
		msg{id: "b3", body: body("ok"), group: "B"},
		msg{id: "a4", body: body("ok"), group: "A", attempt: 5}, // skipped on its last attempt
		msg{id: "c1", body: body("flaky"), group: "C", attempt: 3},
		msg{id: "c2", body: body("ok"), group: "C"},
	)
	resp, err := h(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures("a2", "a3", "c1", "c2"), resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]string{"A": {"a1", "a2"}, "B": {"b1", "b2", "b3"}, "C": {"c1"}}, ran); diff != "" {
		t.Errorf("records run per group (-want +got):\n%s", diff)
	}
	want := map[string]handler.Outcome{
		"a1": handler.Succeeded, "a2": handler.RetryScheduled, "a3": handler.Blocked, "a4": handler.DeadLettered,
		"b1": handler.Succeeded, "b2": handler.DeadLettered, "b3": handler.Succeeded,
		"c1": handler.RetryScheduled, "c2": handler.Blocked,
	}
	if diff := cmp.Diff(want, obs.outcomes()); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	// the skipped records are visible again at once, to queue up behind
	// the one that blocked them (SQS holds a group while one is in flight)
	for id, secs := range map[string]int32{"a2": 4, "a3": 0, "c1": 8, "c2": 0} {
		if got, _ := client.visibilityOf("rh-" + id); got != secs {
			t.Errorf("visibility of %s = %d, want %d", id, got, secs)
		}
	}
	if r := obs.report("a3"); !errors.Is(r.Err, handler.ErrGroupBlocked) || !strings.Contains(r.Err.Error(), "a2") {
		t.Errorf("a3 error %v; want ErrGroupBlocked naming a2", r.Err)
	}
	// a blocked record did not fail itself: no class, no retry delay of its own
	if r := obs.report("c2"); r.Class != retry.ClassNone || r.RetryDelay != 0 {
		t.Errorf("c2 (blocked) class %v, retry delay %v; want none, 0", r.Class, r.RetryDelay)
	}
	reasons := map[string]string{} // receive count → reason
	for _, in := range client.sent {
		reasons[aws.ToString(in.MessageAttributes[handler.DLQAttrReceiveCount].StringValue)] = aws.ToString(in.MessageAttributes[handler.DLQAttrError].StringValue)
	}
	if got := reasons["5"]; !strings.Contains(got, "FIFO group") || !strings.Contains(got, "a2") {
		t.Errorf("a4's DLQ reason %q does not say a2 blocked it", got)
	}
}

func TestSQSFIFOBlockedBehindFailedSend(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders.fifo", 5)
	client.sendErr = errors.New("DLQ unavailable")
	obs := &recorder{}
	h := handler.MustNewSQS(byBody, handler.SQSConfig{Client: client, Observer: obs, Logger: discard})
	resp, err := h(context.Background(), sqsEvent("orders.fifo", msg{id: "a1", body: body("bad"), group: "A"}, msg{id: "a2", body: body("ok"), group: "A"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures("a1", "a2"), resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]handler.Outcome{"a1": handler.Failed, "a2": handler.Blocked}, obs.outcomes()); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if _, asked := client.visibilityOf("rh-a1"); asked {
		t.Error("a1, whose DLQ send failed, had its visibility changed; it keeps the queue's timeout")
	}
	if got, asked := client.visibilityOf("rh-a2"); !asked || got != 0 {
		t.Errorf("a2 visibility %d (asked %v), want 0: it waits behind a1, which is in flight", got, asked)
	}
}

// TestSQSConcurrencyLimit holds every record until the test lets it go, so
// the processor can only start more than the limit by breaking it.
func TestSQSConcurrencyLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		concurrency int
		want        int
		fifo        bool
	}{
		{name: "limit 3", concurrency: 3, want: 3},
		{name: "default runs a batch of 10 at once", concurrency: 0, want: 10},
		{name: "one by one", concurrency: 1, want: 1},
		{name: "FIFO: limit applies to groups", concurrency: 4, want: 4, fifo: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var (
				inFlight, peak atomic.Int32
				started        = make(chan string, 20)
				release        = make(chan struct{})
			)
			fn := func(_ context.Context, m handler.Message[string]) error {
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				started <- m.Raw.MessageId
				<-release
				return nil
			}
			client := newFakeSQS()
			queue := "orders"
			if tc.fifo {
				queue += ".fifo"
			}
			client.addQueue(queue, 3)
			h := handler.MustNewSQS(fn, handler.SQSConfig{Client: client, Concurrency: tc.concurrency, Logger: discard})
			var msgs []msg
			for i := range 20 {
				m := msg{id: fmt.Sprintf("m%02d", i), body: "x"}
				if tc.fifo {
					m.group = fmt.Sprint("g", i%10) // 10 groups of 2
				}
				msgs = append(msgs, m)
			}
			done := make(chan error, 1)
			go func() {
				resp, err := h(context.Background(), sqsEvent(queue, msgs...))
				if err == nil && len(resp.BatchItemFailures) != 0 {
					err = fmt.Errorf("failures: %v", resp.BatchItemFailures)
				}
				done <- err
			}()
			var order []string
			deadline := time.After(10 * time.Second)
			for range tc.want {
				select {
				case id := <-started:
					order = append(order, id)
				case <-deadline:
					t.Fatalf("only %d records started, want %d at once", len(order), tc.want)
				}
			}
			if got := inFlight.Load(); got != int32(tc.want) {
				t.Errorf("%d in flight, want %d", got, tc.want)
			}
			close(release)
			for range 20 - tc.want {
				order = append(order, <-started)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got := peak.Load(); got != int32(tc.want) {
				t.Errorf("peak concurrency %d, want %d", got, tc.want)
			}
			if tc.concurrency == 1 {
				var want []string
				for _, m := range msgs {
					want = append(want, m.id)
				}
				if diff := cmp.Diff(want, order); diff != "" {
					t.Errorf("one by one runs in event order (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestSQSBadEvents(t *testing.T) {
	t.Parallel()
	good := sqsEvent("orders", msg{id: "m1", body: "x"})
	edit := func(f func(*events.SQSMessage)) events.SQSEvent {
		ev := sqsEvent("orders", msg{id: "m0", body: "x"}, msg{id: "m1", body: "x"})
		f(&ev.Records[1])
		return ev
	}
	tests := []struct {
		name string
		ev   events.SQSEvent
		want error
		text string
	}{
		{name: "no records", ev: events.SQSEvent{}, want: handler.ErrEmptyEvent},
		{name: "empty records", ev: events.SQSEvent{Records: []events.SQSMessage{}}, want: handler.ErrEmptyEvent},
		{name: "no message id", ev: edit(func(m *events.SQSMessage) { m.MessageId = "" }), want: handler.ErrMalformedEvent, text: "record 1"},
		{name: "no receipt handle", ev: edit(func(m *events.SQSMessage) { m.ReceiptHandle = "" }), want: handler.ErrMalformedEvent, text: "receiptHandle"},
		{name: "not from SQS", ev: edit(func(m *events.SQSMessage) { m.EventSource = "aws:kinesis" }), want: handler.ErrMalformedEvent, text: "aws:kinesis"},
		{name: "no source ARN", ev: edit(func(m *events.SQSMessage) { m.EventSourceARN = "" }), want: handler.ErrMalformedEvent, text: "eventSourceARN"},
		{name: "ARN of something else", ev: edit(func(m *events.SQSMessage) { m.EventSourceARN = "arn:aws:sns:us-east-1:123456789012:t" }), want: handler.ErrMalformedEvent, text: "not an SQS queue"},
		{name: "bad receive count", ev: edit(func(m *events.SQSMessage) { m.Attributes["ApproximateReceiveCount"] = "two" }), want: handler.ErrMalformedEvent, text: "ApproximateReceiveCount"},
		{name: "zero receive count", ev: edit(func(m *events.SQSMessage) { m.Attributes["ApproximateReceiveCount"] = "0" }), want: handler.ErrMalformedEvent, text: "ApproximateReceiveCount"},
		{name: "FIFO without group", ev: sqsEvent("orders.fifo", msg{id: "m1", body: "x"}), want: handler.ErrMalformedEvent, text: "MessageGroupId"},
		{name: "no attributes at all is a first delivery", ev: edit(func(m *events.SQSMessage) { m.Attributes = nil })},
		{name: "good", ev: good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := newFakeSQS()
			var ran atomic.Int32
			h := handler.MustNewSQS(func(context.Context, handler.Message[string]) error { ran.Add(1); return nil }, handler.SQSConfig{Client: client, Logger: discard})
			resp, err := h(context.Background(), tt.ev)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(fmt.Sprint(err), tt.text) {
				t.Errorf("error %q does not mention %q", err, tt.text)
			}
			if tt.want != nil && (ran.Load() != 0 || len(resp.BatchItemFailures) != 0) {
				t.Errorf("a refused batch ran %d records and reported %v", ran.Load(), resp.BatchItemFailures)
			}
		})
	}
}

func TestSQSBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fn   func(context.Context, handler.Message[string]) error
		cfg  handler.SQSConfig
	}{
		{name: "no client", fn: func(context.Context, handler.Message[string]) error { return nil }},
		{name: "no function", cfg: handler.SQSConfig{Client: newFakeSQS()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := handler.NewSQS(tc.fn, tc.cfg)
			if !errors.Is(err, handler.ErrConfig) || h != nil {
				t.Errorf("NewSQS = (handler %v, error %v), want no handler and ErrConfig", h != nil, err)
			}
			defer func() {
				if v := recover(); v == nil || !errors.Is(v.(error), handler.ErrConfig) {
					t.Errorf("MustNewSQS recovered %v, want a panic with ErrConfig", v)
				}
			}()
			handler.MustNewSQS(tc.fn, tc.cfg)
		})
	}
}

func TestSQSMessage(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	ev := sqsEvent("orders", msg{id: "m1", body: body("o-1"), attempt: 2, attrs: map[string]events.SQSMessageAttribute{
		handler.CorrelationIDAttribute: {DataType: "String", StringValue: aws.String("req-42")},
	}})
	obs := &recorder{}
	var got []any
	var gotCtx string
	h := handler.MustNewSQS(func(ctx context.Context, m handler.Message[order]) error {
		got = append(got, m.Body, m.Attempt, m.Raw.MessageId)
		gotCtx, _ = ctx.Value(recorderKey{}).(string)
		return nil
	}, handler.SQSConfig{Client: client, Observer: obs, Logger: discard})
	if _, err := h(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{order{ID: "o-1", Amount: 1}, 2, "m1"}, got); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	if gotCtx != "m1" {
		t.Errorf("record function did not get the observer's context")
	}
	wantRec := []handler.Delivery{{Source: "aws:sqs", ID: "m1", Attempt: 2, CorrelationID: "req-42", Body: `{"order_id":"o-1","amount":1}`}}
	if diff := cmp.Diff(wantRec, obs.started); diff != "" {
		t.Errorf("started (-want +got):\n%s", diff)
	}
	// string and []byte bodies are handed over as they are, JSON or not
	var raw []string
	hs := handler.MustNewSQS(func(_ context.Context, m handler.Message[string]) error { raw = append(raw, m.Body); return nil }, handler.SQSConfig{Client: client})
	hb := handler.MustNewSQS(func(_ context.Context, m handler.Message[[]byte]) error {
		raw = append(raw, string(m.Body))
		return nil
	}, handler.SQSConfig{Client: client})
	for _, h := range []handler.Func[events.SQSEvent, events.SQSEventResponse]{hs, hb} {
		if _, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: "not json"})); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"not json", "not json"}, raw); diff != "" {
		t.Errorf("raw bodies (-want +got):\n%s", diff)
	}
}

// TestSQSFIFOBlockedVisibilityRefused: a blocked record whose visibility
// change SQS refuses is still Blocked, not Failed: it never ran, and it is
// reported either way, so it comes back behind its blocker.
func TestSQSFIFOBlockedVisibilityRefused(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders.fifo", 5)
	client.visibilityBad["rh-a2"] = true
	obs := &recorder{}
	h := handler.MustNewSQS(byBody, handler.SQSConfig{Client: client, Backoff: noJitter, Observer: obs, Logger: discard})
	resp, err := h(context.Background(), sqsEvent("orders.fifo", msg{id: "a1", body: body("flaky"), group: "A"}, msg{id: "a2", body: body("ok"), group: "A"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures("a1", "a2"), resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]handler.Outcome{"a1": handler.RetryScheduled, "a2": handler.Blocked}, obs.outcomes()); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

// TestSQSNoDLQ: a source queue with neither a RedrivePolicy nor
// SQSConfig.DLQURL is a config error on the first invocation, before any
// record runs: otherwise a failing record would come back until the queue's
// retention drops it, and a permanent one would never leave.
func TestSQSNoDLQ(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 0)
	var ran atomic.Int32
	h := handler.MustNewSQS(func(context.Context, handler.Message[order]) error { ran.Add(1); return nil }, handler.SQSConfig{Client: client, Logger: discard})
	ev := sqsEvent("orders", msg{id: "m1", body: body("ok")}, msg{id: "m2", body: body("ok")})
	resp, err := h(context.Background(), ev)
	if !errors.Is(err, handler.ErrNoDLQ) || !errors.Is(err, handler.ErrConfig) || !strings.Contains(fmt.Sprint(err), testARN("orders")) {
		t.Fatalf("error %v, want ErrNoDLQ and ErrConfig naming the queue", err)
	}
	if ran.Load() != 0 || len(resp.BatchItemFailures) != 0 {
		t.Errorf("ran %d records, reported %v; want none run: the whole batch comes back", ran.Load(), resp.BatchItemFailures)
	}
	// The policy is not remembered as missing: once it is added, the next
	// invocation of the same handler works.
	client.addQueue("orders", 3)
	if _, err := h(context.Background(), ev); err != nil || ran.Load() != 2 {
		t.Errorf("after adding a RedrivePolicy: error %v, ran %d; want nil, 2", err, ran.Load())
	}
}

func TestSQSMaxAttemptsNegative(t *testing.T) {
	t.Parallel()
	_, err := handler.NewSQS(byBody, handler.SQSConfig{Client: newFakeSQS(), MaxAttempts: -1})
	if !errors.Is(err, handler.ErrConfig) || !strings.Contains(fmt.Sprint(err), "MaxAttempts") {
		t.Errorf("error %v, want ErrConfig naming MaxAttempts", err)
	}
}
