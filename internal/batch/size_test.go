package batch

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func TestSQSEntrySize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		entry sqstypes.SendMessageBatchRequestEntry
		want  int
	}{
		{name: "empty", entry: sqstypes.SendMessageBatchRequestEntry{}, want: 0},
		{name: "body only; ids and group do not count", entry: sqstypes.SendMessageBatchRequestEntry{
			Id: aws.String("0"), MessageBody: aws.String("héllo"), MessageGroupId: aws.String("g"),
			MessageDeduplicationId: aws.String("d"),
		}, want: 6},
		{name: "string attribute: name + type + value", entry: sqstypes.SendMessageBatchRequestEntry{
			MessageBody: aws.String("abc"),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				"corr": {DataType: aws.String("String"), StringValue: aws.String("12345")},
			},
		}, want: 3 + 4 + 6 + 5},
		{name: "binary and number attributes", entry: sqstypes.SendMessageBatchRequestEntry{
			MessageBody: aws.String(""),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				"b": {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
				"n": {DataType: aws.String("Number.int"), StringValue: aws.String("42")},
			},
		}, want: (1 + 6 + 3) + (1 + 10 + 2)},
		{name: "system attributes do not count", entry: sqstypes.SendMessageBatchRequestEntry{
			MessageBody: aws.String("x"),
			MessageSystemAttributes: map[string]sqstypes.MessageSystemAttributeValue{
				"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String("Root=1-abc")},
			},
		}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := SQSEntrySize(tt.entry); got != tt.want {
				t.Errorf("SQSEntrySize = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestEventSize(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name  string
		entry ebtypes.PutEventsRequestEntry
		want  int
	}{
		{name: "empty", entry: ebtypes.PutEventsRequestEntry{}, want: 0},
		{name: "source, type, detail", entry: ebtypes.PutEventsRequestEntry{
			Source: aws.String("shop"), DetailType: aws.String("Order"), Detail: aws.String(`{"a":1}`),
		}, want: 4 + 5 + 7},
		{name: "time counts 14", entry: ebtypes.PutEventsRequestEntry{Source: aws.String("s"), Time: &now}, want: 15},
		{name: "resources count; bus and trace header do not", entry: ebtypes.PutEventsRequestEntry{
			Source: aws.String("s"), Resources: []string{"arn:a", "arn:bb"},
			EventBusName: aws.String("a-long-bus-name"), TraceHeader: aws.String("Root=1-abc"),
		}, want: 1 + 5 + 6},
		{name: "utf-8 bytes, not runes", entry: ebtypes.PutEventsRequestEntry{Detail: aws.String(`"€"`)}, want: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := EventSize(tt.entry); got != tt.want {
				t.Errorf("EventSize = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestPackSQSEntries packs real entries with the real size function: what
// the redrive and the producer do.
func TestPackSQSEntries(t *testing.T) {
	t.Parallel()
	big := string(make([]byte, 300_000))
	var entries []sqstypes.SendMessageBatchRequestEntry
	for range 7 {
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{MessageBody: aws.String(big)})
	}
	got, err := Pack(entries, SQSEntrySize, SQSLimits)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, b := range got {
		sizes = append(sizes, len(b))
	}
	if len(sizes) != 3 || sizes[0] != 3 || sizes[1] != 3 || sizes[2] != 1 {
		t.Errorf("batch sizes = %v, want [3 3 1] (three 300 KB bodies fit in 1 MiB, four do not)", sizes)
	}
}
