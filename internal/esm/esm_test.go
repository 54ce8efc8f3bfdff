package esm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
)

// scripted is an SQS client that hands out prepared receive answers and
// records deletes, for the loop logic that needs no emulator. The
// integration tests run the same code against moto.
type scripted struct {
	mu       sync.Mutex
	answers  [][]types.Message
	receives []*sqs.ReceiveMessageInput
	deletes  [][]string // receipt handles per call
}

var _ Client = (*scripted)(nil)

func (s *scripted) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.receives = append(s.receives, in)
	if len(s.answers) == 0 {
		return &sqs.ReceiveMessageOutput{}, nil
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	if int32(len(a)) > in.MaxNumberOfMessages {
		return nil, fmt.Errorf("asked for %d, script has %d", in.MaxNumberOfMessages, len(a))
	}
	return &sqs.ReceiveMessageOutput{Messages: a}, nil
}

func (s *scripted) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // as the SDK fails a call on a done context
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(in.Entries) > 10 {
		return nil, errors.New("TooManyEntriesInBatchRequest")
	}
	var handles []string
	out := &sqs.DeleteMessageBatchOutput{}
	for _, e := range in.Entries {
		handles = append(handles, aws.ToString(e.ReceiptHandle))
		out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: e.Id})
	}
	s.deletes = append(s.deletes, handles)
	return out, nil
}

func (s *scripted) GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"QueueArn": "arn:aws:sqs:eu-west-1:123456789012:q"}}, nil
}

func messages(from, n int) []types.Message {
	var out []types.Message
	for i := from; i < from+n; i++ {
		out = append(out, types.Message{MessageId: aws.String(fmt.Sprint("m", i)), ReceiptHandle: aws.String(fmt.Sprint("rh", i)), Body: aws.String("b")})
	}
	return out
}

func TestPollGathersWithinWindowAndDeletesInTens(t *testing.T) {
	t.Parallel()
	c := &scripted{answers: [][]types.Message{messages(0, 10), messages(10, 10), messages(20, 5)}}
	cfg := Config{Client: c, QueueURL: "u", BatchSize: 25, MaxBatchingWindow: 10 * time.Second}
	b, err := Poll(context.Background(), cfg, func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "m3"}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Event.Records) != 25 || len(b.Deleted) != 24 {
		t.Fatalf("%d records, %d deleted; want 25 and 24", len(b.Event.Records), len(b.Deleted))
	}
	if diff := cmp.Diff([]string{"m3"}, b.Kept); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	var asked []int32
	for _, in := range c.receives {
		asked = append(asked, in.MaxNumberOfMessages)
	}
	if diff := cmp.Diff([]int32{10, 10, 5}, asked); diff != "" {
		t.Errorf("MaxNumberOfMessages per receive (-want +got):\n%s", diff)
	}
	var sizes []int
	for _, d := range c.deletes {
		sizes = append(sizes, len(d))
	}
	if diff := cmp.Diff([]int{10, 10, 4}, sizes); diff != "" {
		t.Errorf("delete batch sizes (-want +got):\n%s", diff)
	}
}

func TestPollWithoutWindowInvokesWithFirstReceive(t *testing.T) {
	t.Parallel()
	c := &scripted{answers: [][]types.Message{messages(0, 3), messages(3, 3)}}
	b, err := Poll(context.Background(), Config{Client: c, QueueURL: "u", BatchSize: 100}, func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{}, nil
	})
	if err != nil || len(b.Event.Records) != 3 || len(c.receives) != 1 {
		t.Fatalf("err %v, %d records, %d receives; want 3 records from one receive", err, len(b.Event.Records), len(c.receives))
	}
	if in := c.receives[0]; in.WaitTimeSeconds != 20 || in.MaxNumberOfMessages != 10 {
		t.Errorf("receive wait %d max %d; want a 20s long poll for 10", in.WaitTimeSeconds, in.MaxNumberOfMessages)
	}
}

func TestEventShape(t *testing.T) {
	t.Parallel()
	m := types.Message{
		MessageId: aws.String("m1"), ReceiptHandle: aws.String("rh1"), Body: aws.String("hello"),
		MD5OfBody: aws.String("md5"), MD5OfMessageAttributes: aws.String("md5a"),
		Attributes: map[string]string{"ApproximateReceiveCount": "2", "MessageGroupId": "g"},
		MessageAttributes: map[string]types.MessageAttributeValue{
			"s": {DataType: aws.String("String"), StringValue: aws.String("v")},
			"b": {DataType: aws.String("Binary"), BinaryValue: []byte{1}},
		},
	}
	got := event("arn:aws:sqs:eu-west-1:123456789012:q.fifo", []types.Message{m})
	want := events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: "m1", ReceiptHandle: "rh1", Body: "hello", Md5OfBody: "md5", Md5OfMessageAttributes: "md5a",
		Attributes: map[string]string{"ApproximateReceiveCount": "2", "MessageGroupId": "g"},
		MessageAttributes: map[string]events.SQSMessageAttribute{
			"s": {DataType: "String", StringValue: aws.String("v"), StringListValues: []string{}, BinaryListValues: [][]byte{}},
			"b": {DataType: "Binary", BinaryValue: []byte{1}, StringListValues: []string{}, BinaryListValues: [][]byte{}},
		},
		EventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:q.fifo", EventSource: "aws:sqs", AWSRegion: "eu-west-1",
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}

func TestCheckResponse(t *testing.T) {
	t.Parallel()
	ev := event("arn:aws:sqs:eu-west-1:123456789012:q", messages(0, 2))
	for _, tc := range []struct {
		name string
		ids  []string
		ok   bool
	}{
		{name: "none", ok: true},
		{name: "known", ids: []string{"m1"}, ok: true},
		{name: "unknown", ids: []string{"m9"}},
		{name: "empty", ids: []string{""}},
	} {
		var resp events.SQSEventResponse
		for _, id := range tc.ids {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
		}
		err := checkResponse(ev, resp)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidResponse)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestPollDeletesWhatSucceededEvenWhenStopping(t *testing.T) {
	t.Parallel()
	c := &scripted{answers: [][]types.Message{messages(0, 3)}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := Poll(ctx, Config{Client: c, QueueURL: "u"}, func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		cancel() // the runner stops while the function answers
		return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "m1"}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"rh0", "rh2"}}, c.deletes); diff != "" {
		t.Errorf("deletes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"m1"}, b.Kept); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
}
