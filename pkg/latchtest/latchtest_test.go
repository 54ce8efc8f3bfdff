package latchtest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/latchtest"
	"github.com/latchkit/latch/pkg/retry"
)

type invoice struct {
	ID    string `json:"id"`
	Cents int    `json:"cents"`
}

// charge fails invoices the way the tests need: no amount is permanent,
// a negative one is retryable.
func charge(_ context.Context, m handler.Message[invoice]) error {
	switch {
	case m.Body.Cents == 0:
		return retry.Permanent(errors.New("amount must be positive"))
	case m.Body.Cents < 0:
		return errors.New("payment provider unavailable")
	}
	return nil
}

func TestBuiltEventsPassTheProcessor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		queue string
		msgs  []latchtest.Message
	}{
		{name: "standard", queue: "invoices", msgs: []latchtest.Message{{Body: `{"id":"a","cents":1}`}, {Body: `{"id":"b","cents":2}`}}},
		{name: "fifo default group", queue: "invoices.fifo", msgs: []latchtest.Message{{Body: `{"id":"a","cents":1}`}}},
		{name: "fifo groups and attributes", queue: "invoices.fifo", msgs: []latchtest.Message{
			{ID: "x", Body: `{"id":"a","cents":1}`, GroupID: "g1", DeduplicationID: "d1", Attempt: 2, CorrelationID: "req-1", Attributes: map[string]string{"tenant": "t1"}},
			{ID: "y", Body: `{"id":"b","cents":1}`, GroupID: "g2"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := latchtest.NewSQS()
			client.AddQueue(tt.queue, 3)
			obs := &latchtest.Observer{}
			h := handler.MustNewSQS(charge, handler.SQSConfig{Client: client, Observer: obs})
			ev := latchtest.SQSEvent(tt.queue, tt.msgs...)
			resp, err := h(context.Background(), ev)
			if err != nil {
				t.Fatalf("handler refused the built event: %v", err)
			}
			if len(resp.BatchItemFailures) != 0 {
				t.Fatalf("failures %v", resp.BatchItemFailures)
			}
			for _, r := range ev.Records {
				if got := obs.Outcomes()[r.MessageId]; got != handler.Succeeded {
					t.Errorf("record %s: outcome %q, want succeeded", r.MessageId, got)
				}
			}
			if n := client.Calls(latchtest.OpSendMessage) + client.Calls(latchtest.OpChangeVisibility); n != 0 {
				t.Errorf("a batch that succeeds made %d SQS calls", n)
			}
		})
	}
}

func TestBuiltRecordFields(t *testing.T) {
	t.Parallel()
	r := latchtest.SQSRecord("q.fifo", latchtest.Message{ID: "x", Attempt: 3, CorrelationID: "c"})
	want := map[string]string{
		"ApproximateReceiveCount": "3",
		"MessageGroupId":          latchtest.DefaultGroupID,
		"MessageDeduplicationId":  "x",
	}
	for k, v := range want {
		if r.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, r.Attributes[k], v)
		}
	}
	if r.EventSourceARN != "arn:aws:sqs:us-east-1:123456789012:q.fifo" || r.ReceiptHandle != latchtest.ReceiptHandle("x") {
		t.Errorf("ARN %q, receipt handle %q", r.EventSourceARN, r.ReceiptHandle)
	}
	if a := r.MessageAttributes[handler.CorrelationIDAttribute]; a.StringValue == nil || *a.StringValue != "c" {
		t.Errorf("correlation id attribute %+v", a)
	}
}

func TestFakeRecordsFailurePaths(t *testing.T) {
	t.Parallel()
	client := latchtest.NewSQS()
	client.AddQueue("invoices", 3)
	h := handler.MustNewSQS(charge, handler.SQSConfig{Client: client, Backoff: retry.Backoff{Base: 10 * time.Second, Max: 10 * time.Second, Jitter: -1}})
	resp, err := h(context.Background(), latchtest.SQSEvent("invoices",
		latchtest.Message{ID: "ok", Body: `{"id":"a","cents":5}`},
		latchtest.Message{ID: "zero", Body: `{"id":"b","cents":0}`},
		latchtest.Message{ID: "later", Body: `{"id":"c","cents":-1}`},
		latchtest.Message{ID: "last", Body: `{"id":"d","cents":-1}`, Attempt: 3},
	))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "later" {
		t.Fatalf("failures %+v, want only later", resp.BatchItemFailures)
	}
	if d, ok := client.Visibility("later"); !ok || d != 10*time.Second {
		t.Errorf("visibility of later = %s, %v; want 10s", d, ok)
	}
	s := client.AssertDeadLettered(t, `{"id":"b","cents":0}`, "amount must be positive")
	if s.Class != retry.ClassPermanent.String() || s.ReceiveCount != 1 || s.SourceQueue != latchtest.QueueARN("invoices") || s.SourceMessageID != "zero" {
		t.Errorf("dead letter %+v", s)
	}
	if s := client.AssertDeadLettered(t, `{"id":"d","cents":-1}`, "unavailable"); s.ReceiveCount != 3 {
		t.Errorf("last attempt dead-lettered with receive count %d", s.ReceiveCount)
	}
}

func TestFakeInjectedFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		inject  func(*latchtest.SQS)
		want    []string // reported failures
		wantErr bool     // the whole batch fails
	}{
		{name: "send fails: record reported", inject: func(f *latchtest.SQS) { f.Fail(latchtest.OpSendMessage, errors.New("throttled")) }, want: []string{"zero"}},
		{name: "lookup fails: batch fails", inject: func(f *latchtest.SQS) { f.Fail(latchtest.OpGetQueueURL, errors.New("throttled")) }, wantErr: true},
		{name: "nothing fails", inject: func(*latchtest.SQS) {}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := latchtest.NewSQS()
			client.AddQueue("invoices", 3)
			tt.inject(client)
			h := handler.MustNewSQS(charge, handler.SQSConfig{Client: client})
			resp, err := h(context.Background(), latchtest.SQSEvent("invoices", latchtest.Message{ID: "zero", Body: `{"id":"b","cents":0}`}))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want one: %v", err, tt.wantErr)
			}
			var got []string
			for _, f := range resp.BatchItemFailures {
				got = append(got, f.ItemIdentifier)
			}
			if len(got) != len(tt.want) || (len(got) == 1 && got[0] != tt.want[0]) {
				t.Fatalf("reported %v, want %v", got, tt.want)
			}
			if len(tt.want) > 0 || tt.wantErr {
				client.AssertNoDeadLetters(t)
			}
		})
	}
}

func TestFakeVisibilityOfOneFails(t *testing.T) {
	t.Parallel()
	client := latchtest.NewSQS()
	client.AddQueue("invoices", 5)
	client.FailVisibilityOf("a")
	h := handler.MustNewSQS(charge, handler.SQSConfig{Client: client})
	if _, err := h(context.Background(), latchtest.SQSEvent("invoices",
		latchtest.Message{ID: "a", Body: `{"cents":-1}`}, latchtest.Message{ID: "b", Body: `{"cents":-1}`})); err != nil {
		t.Fatal(err)
	}
	failed := map[string]bool{}
	for _, c := range client.VisibilityChanges() {
		failed[c.ReceiptHandle] = c.Failed
	}
	if !failed[latchtest.ReceiptHandle("a")] || failed[latchtest.ReceiptHandle("b")] {
		t.Fatalf("visibility changes %+v: want only a's failed", client.VisibilityChanges())
	}
}

func TestTicksParse(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		payload []byte
		want    handler.Tick
	}{
		{name: "rule", payload: latchtest.RuleTick("nightly", at), want: handler.Tick{Schedule: "nightly", Time: at, Source: handler.SourceScheduleRule}},
		{name: "scheduler", payload: latchtest.SchedulerTick("nightly", at, 2), want: handler.Tick{Schedule: "nightly", Time: at, Source: handler.SourceScheduler, Attempt: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := handler.ParseTick(tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			if got.Schedule != tt.want.Schedule || !got.Time.Equal(tt.want.Time) || got.Source != tt.want.Source || got.Attempt != tt.want.Attempt {
				t.Fatalf("tick %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFailureQueueReceivesBadTicks(t *testing.T) {
	t.Parallel()
	fq := latchtest.NewFailureQueue()
	job := handler.MustNewSchedule(func(context.Context, handler.Tick) error {
		return retry.Permanent(errors.New("report template missing"))
	}, handler.ScheduleConfig{FailureQueue: fq.Config()})
	payload := latchtest.RuleTick("nightly", time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC))
	if _, err := job(context.Background(), payload); err != nil {
		t.Fatalf("a permanent failure with a failure queue should succeed: %v", err)
	}
	fq.AssertHolds(t, string(payload), "report template missing")
}

func TestEventBridgeBuilders(t *testing.T) {
	t.Parallel()
	var got []invoice
	client := latchtest.NewSQS()
	client.AddQueue("events", 3)
	h := handler.MustNewSQS(handler.EventBridgeSQS(func(_ context.Context, e handler.Event[invoice]) error {
		got = append(got, e.Detail)
		return nil
	}), handler.SQSConfig{Client: client, Concurrency: 1})
	msg := latchtest.EventBridgeMessage(latchtest.Event{Source: "billing", DetailType: "InvoiceIssued", Detail: invoice{ID: "i-1", Cents: 3}})
	if _, err := h(context.Background(), latchtest.SQSEvent("events", msg)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "i-1" {
		t.Fatalf("decoded %+v", got)
	}
	ev := latchtest.EventBridgeEvent(latchtest.Event{Detail: `{"id":"x"}`})
	d, err := handler.DecodeEvent[invoice](ev)
	if err != nil || d.Detail.ID != "x" {
		t.Fatalf("decode %+v: %v", d, err)
	}
}

func TestFakeSizeLimit(t *testing.T) {
	t.Parallel()
	client := latchtest.NewSQS()
	url := client.AddQueue("invoices", 3)
	// A body near 1 MiB, with room for the DLQ copy's attributes, is
	// dead-lettered whole; SQS's old 256 KiB limit would have refused it.
	body := `{"id":"big","cents":0,"pad":"` + strings.Repeat("p", latchtest.MaxMessageSize-4096) + `"}`
	h := handler.MustNewSQS(charge, handler.SQSConfig{Client: client})
	resp, err := h(context.Background(), latchtest.SQSEvent("invoices", latchtest.Message{ID: "big", Body: body}))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("response %+v, %v: want the record dead-lettered", resp, err)
	}
	client.AssertDeadLettered(t, body, "amount must be positive")

	over := strings.Repeat("x", latchtest.MaxMessageSize+1)
	_, err = client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &over})
	if retry.Classify(err) != retry.ClassPermanent || !strings.Contains(fmt.Sprint(err), "MaximumMessageSize") {
		t.Errorf("send of %d bytes: %v; want a permanent error naming MaximumMessageSize", len(over), err)
	}
}

func TestFakeFairQueueGroup(t *testing.T) {
	t.Parallel()
	client := latchtest.NewSQS()
	url := client.AddQueue("invoices", 0)
	body := `{"id":"a","cents":5}`
	if _, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &body, MessageGroupId: aws.String("tenant-a")}); err != nil {
		t.Fatalf("a standard (fair) queue refused a MessageGroupId: %v", err)
	}
	if got := client.Sent(url); len(got) != 1 || got[0].GroupID != "tenant-a" {
		t.Errorf("sent %+v, want one message of group tenant-a", got)
	}
	if _, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &body, MessageDeduplicationId: aws.String("d")}); err == nil {
		t.Error("a standard queue took a MessageDeduplicationId")
	}
}
