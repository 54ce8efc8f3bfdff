package dlq

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
)

func TestFromSQS(t *testing.T) {
	t.Parallel()
	str := func(s string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s)}
	}
	failed := time.Date(2026, 11, 27, 17, 53, 30, 123000000, time.UTC)
	for _, tc := range []struct {
		name string
		in   types.Message
		want Message
	}{
		{
			name: "dead-lettered by latch",
			in: types.Message{
				MessageId: aws.String("m1"), Body: aws.String("{}"), ReceiptHandle: aws.String("rh"),
				Attributes: map[string]string{"SentTimestamp": "1795888410000", "MessageGroupId": "alice"},
				MessageAttributes: map[string]types.MessageAttributeValue{
					handler.DLQAttrError:        str("boom"),
					handler.DLQAttrErrorClass:   str("permanent"),
					handler.DLQAttrReceiveCount: {DataType: aws.String("Number"), StringValue: aws.String("3")},
					handler.DLQAttrSourceQueue:  str("arn:aws:sqs:us-east-1:123456789012:orders"),
					handler.DLQAttrFailedAt:     str(failed.Format(time.RFC3339Nano)),
					"tenant":                    str("acme"),
				},
			},
			want: Message{
				ID: "m1", SourceID: "src-1", Body: "{}", ReceiptHandle: "rh", GroupID: "alice", SentAt: time.UnixMilli(1795888410000).UTC(),
				Error: "boom", ErrorClass: "permanent", Attempts: 3, SourceQueue: "arn:aws:sqs:us-east-1:123456789012:orders", FailedAt: failed,
				Attributes: map[string]types.MessageAttributeValue{"tenant": str("acme")},
			},
		},
		{
			name: "moved by SQS's own redrive",
			in: types.Message{
				MessageId: aws.String("m2"), Body: aws.String("x"),
				Attributes: map[string]string{"DeadLetterQueueSourceArn": "arn:aws:sqs:us-east-1:123456789012:orders"},
			},
			want: Message{ID: "m2", SourceID: "m2", Body: "x", SourceQueue: "arn:aws:sqs:us-east-1:123456789012:orders", Attributes: map[string]types.MessageAttributeValue{}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want.SourceID == "src-1" {
				tc.in.MessageAttributes[handler.DLQAttrSourceMessageID] = str("src-1")
			}
			got := fromSQS(tc.in)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(types.MessageAttributeValue{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.ByLatch() != (tc.want.ErrorClass != "") {
				t.Errorf("ByLatch = %v", got.ByLatch())
			}
		})
	}
}

func TestRedriveResultErr(t *testing.T) {
	t.Parallel()
	if err := (&RedriveResult{Moved: []Moved{{}}}).Err(); err != nil {
		t.Errorf("Err with no failures = %v", err)
	}
	cause := errors.New("throttled")
	err := (&RedriveResult{Failed: []Failure{{Message: Message{ID: "d1", SourceID: "m1"}, Err: cause}, {Message: Message{ID: "d2", SourceID: "m2"}, Err: cause}}}).Err()
	if !errors.Is(err, cause) || !strings.Contains(err.Error(), "2 message(s) not moved") || !strings.Contains(err.Error(), "m1") {
		t.Errorf("Err = %v", err)
	}
}

func TestRemaining(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ max, have, want int }{{0, 50, 10}, {25, 0, 10}, {25, 20, 5}, {3, 0, 3}} {
		if got := remaining(tc.max, tc.have); got != tc.want {
			t.Errorf("remaining(%d, %d) = %d, want %d", tc.max, tc.have, got, tc.want)
		}
	}
}

func TestCollapse(t *testing.T) {
	t.Parallel()
	msgs := []Message{
		{ID: "d1", SourceID: "s1"}, {ID: "d2", SourceID: "s2"}, {ID: "d3", SourceID: "s1"},
		{ID: "d4", SourceID: "s3"}, {ID: "d5", SourceID: "s1"},
	}
	want := []Message{
		{ID: "d1", SourceID: "s1", CopyIDs: []string{"d3", "d5"}}, {ID: "d2", SourceID: "s2"}, {ID: "d4", SourceID: "s3"},
	}
	if diff := cmp.Diff(want, collapse(msgs)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRedriveOptionsMatch(t *testing.T) {
	t.Parallel()
	m := Message{ID: "dlq-1", SourceID: "src-1", ErrorClass: "permanent"}
	for _, tc := range []struct {
		name string
		opts RedriveOptions
		want bool
	}{
		{name: "no filter", want: true},
		{name: "source id", opts: RedriveOptions{IDs: []string{"x", "src-1"}}, want: true},
		{name: "dead-letter id", opts: RedriveOptions{IDs: []string{"dlq-1"}}, want: true},
		{name: "other id", opts: RedriveOptions{IDs: []string{"src-2"}}},
		{name: "class", opts: RedriveOptions{Class: "permanent"}, want: true},
		{name: "other class", opts: RedriveOptions{Class: "retryable"}},
		{name: "id and class", opts: RedriveOptions{IDs: []string{"src-1"}, Class: "retryable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.opts.match(m); got != tc.want {
				t.Errorf("match = %v, want %v", got, tc.want)
			}
		})
	}
}
