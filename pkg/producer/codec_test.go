package producer_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/latchtest"
	"github.com/latchkit/latch/pkg/producer"
)

// roundTrip sends v with a Queue[T] left at its default encoding and hands
// the body SQS got to a handler.Message[T] consumer: one rule on both
// sides (string and []byte as they are, anything else JSON) gives back v.
func roundTrip[T any](t *testing.T, v T) (body string, got T) {
	t.Helper()
	fake := &fakeSQS{maxSize: "262144"}
	if _, err := producer.MustNewQueue(fake, producer.QueueConfig[T]{URL: stdURL}).Send(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	body = aws.ToString(fake.sent[0].MessageBody)
	client := latchtest.NewSQS()
	client.AddQueue("q", 3)
	h := handler.MustNewSQS(func(_ context.Context, m handler.Message[T]) error { got = m.Body; return nil }, handler.SQSConfig{Client: client})
	resp, err := h(context.Background(), latchtest.SQSEvent("q", latchtest.Message{ID: "m1", Body: body}))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("consumer: %v, %v", resp, err)
	}
	return body, got
}

func TestQueueAndConsumerShareOneCodec(t *testing.T) {
	t.Parallel()
	if body, got := roundTrip(t, "hello, \"world\""); body != "hello, \"world\"" || got != "hello, \"world\"" {
		t.Errorf("string: body %q, consumer got %q; want the string as is on both sides", body, got)
	}
	if body, got := roundTrip(t, []byte("raw bytes")); body != "raw bytes" || string(got) != "raw bytes" {
		t.Errorf("[]byte: body %q, consumer got %q; want the bytes as is on both sides", body, got)
	}
	type order struct {
		ID    string `json:"id"`
		Cents int    `json:"cents"`
	}
	body, got := roundTrip(t, order{ID: "o-1", Cents: 250})
	if diff := cmp.Diff(order{ID: "o-1", Cents: 250}, got); diff != "" || body != `{"id":"o-1","cents":250}` {
		t.Errorf("struct: body %q (-want +got):\n%s", body, diff)
	}
}
