package latchtest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/latchtest"
	"github.com/latchkit/latch/pkg/producer"
)

// TestSQSBacksAProducer: a producer.Queue sends through the fake with no
// size configured (the fake answers MaximumMessageSize) and in batches
// (SendMessageBatch); every value is recorded with its attributes.
func TestSQSBacksAProducer(t *testing.T) {
	t.Parallel()
	client := latchtest.NewSQS()
	url := client.AddQueue("invoices", 3)
	q := producer.MustNewQueue(client, producer.QueueConfig[invoice]{URL: url})
	var values []invoice
	for i := range 12 {
		values = append(values, invoice{ID: "i-" + strconv.Itoa(i), Cents: 100 + i})
	}
	res, err := q.SendBatch(context.Background(), values)
	if err != nil {
		t.Fatal(err)
	}
	sent := client.Sent(url)
	if len(sent) != 12 || client.Calls(latchtest.OpSendMessageBatch) != 2 {
		t.Fatalf("%d messages in %d batch calls; want 12 in 2", len(sent), client.Calls(latchtest.OpSendMessageBatch))
	}
	for i, s := range sent {
		if s.Body != latchtest.JSON(values[i]) || s.ID != res[i].MessageID {
			t.Errorf("message %d: %q as %s; want %q as %s", i, s.Body, s.ID, latchtest.JSON(values[i]), res[i].MessageID)
		}
	}
}

// TestSQSBatchChecks: the fake refuses a batch call as SQS does.
func TestSQSBatchChecks(t *testing.T) {
	t.Parallel()
	client := latchtest.NewSQS()
	url := client.AddQueue("q", 0)
	entry := func(id string) types.SendMessageBatchRequestEntry {
		return types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String("b")}
	}
	var eleven []types.SendMessageBatchRequestEntry
	for i := range 11 {
		eleven = append(eleven, entry(strconv.Itoa(i)))
	}
	for name, in := range map[string]*sqs.SendMessageBatchInput{
		"eleven entries": {QueueUrl: aws.String(url), Entries: eleven},
		"no entries":     {QueueUrl: aws.String(url)},
		"duplicate ids":  {QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{entry("a"), entry("a")}},
		"unknown queue":  {QueueUrl: aws.String(latchtest.QueueURL("nope")), Entries: []types.SendMessageBatchRequestEntry{entry("a")}},
	} {
		if _, err := client.SendMessageBatch(context.Background(), in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := len(client.Sent("")); n != 0 {
		t.Errorf("%d messages recorded from refused calls", n)
	}
	client.Fail(latchtest.OpSendMessageBatch, errors.New("throttled"))
	if _, err := client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{entry("a")}}); err == nil {
		t.Error("Fail(OpSendMessageBatch) did not fail the call")
	}
}

// A producer tested with nothing running: the fake serves the queue's size
// limit and the batch call, and records what was sent.
func ExampleSQS_producer() {
	client := latchtest.NewSQS()
	url := client.AddQueue("ledger", 0)
	q := producer.MustNewQueue(client, producer.QueueConfig[invoice]{URL: url})
	if _, err := q.SendBatch(context.Background(), []invoice{{ID: "i-1", Cents: 900}, {ID: "i-2", Cents: 150}}); err != nil {
		panic(err)
	}
	for _, s := range client.Sent(url) {
		fmt.Println(s.ID, s.Body)
	}
	// Output:
	// sent-1 {"id":"i-1","cents":900}
	// sent-2 {"id":"i-2","cents":150}
}

// A poller tested with nothing running: its Sink fans each page out to a
// queue through the fake, and Poll's result says what was committed.
func ExampleSQS_pollerSink() {
	client := latchtest.NewSQS()
	url := client.AddQueue("invoices", 3)
	queue := producer.MustNewQueue(client, producer.QueueConfig[invoice]{URL: url})
	feed := handler.SourceFunc[invoice](func(_ context.Context, cursor string) (handler.Page[invoice], error) {
		if cursor != "" {
			return handler.Page[invoice]{Next: cursor}, nil // caught up
		}
		return handler.Page[invoice]{Items: []invoice{{ID: "i-1", Cents: 900}, {ID: "i-2", Cents: 150}}, Next: "2"}, nil
	})
	p, err := handler.NewPoller(feed, handler.PollConfig[invoice]{
		Checkpoints: checkpoint.NewMemoryStore(checkpoint.MemoryConfig{}),
		Name:        "invoices",
		Sink: func(ctx context.Context, items []invoice) error {
			_, err := queue.SendBatch(ctx, items)
			return err
		},
		Logger: slog.New(slog.DiscardHandler), // the poll's outcome line

	})
	if err != nil {
		panic(err)
	}
	res, err := p.Poll(context.Background())
	fmt.Println("error:", err, "pages:", res.Pages, "items:", res.Items, "cursor:", res.Cursor)
	for _, s := range client.Sent(url) {
		fmt.Println(s.Body)
	}
	// Output:
	// error: <nil> pages: 1 items: 2 cursor: 2
	// {"id":"i-1","cents":900}
	// {"id":"i-2","cents":150}
}
