package chaos

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/handler"
)

// TestDLQOnce: the dead-letter invariant fails on any copy of a source
// message id, on a missing or reasonless poison message and on anything
// else in the DLQ, except the first send of a poison message the sender
// sent again after a lost answer.
func TestDLQOnce(t *testing.T) {
	t.Parallel()
	dead := func(sourceID, body, class string) sqstypes.Message {
		m := sqstypes.Message{Body: aws.String(body), MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			handler.DLQAttrSourceMessageID: {DataType: aws.String("String"), StringValue: aws.String(sourceID)},
		}}
		if class != "" {
			m.MessageAttributes[handler.DLQAttrError] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String("bad order")}
			m.MessageAttributes[handler.DLQAttrErrorClass] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(class)}
		}
		return m
	}
	poison := map[string]string{"m1": "not-json", "m2": "invalid-utf8"}
	tests := []struct {
		name   string
		dlq    []sqstypes.Message
		resent map[string]bool
		ok     bool
		detail string
	}{
		{name: "each once", dlq: []sqstypes.Message{dead("m1", "order <", "permanent"), dead("m2", "\ufffd", "permanent")}, ok: true},
		{name: "a copy of one source message", dlq: []sqstypes.Message{dead("m1", "order <", "permanent"), dead("m2", "\ufffd", "permanent"), dead("m1", "order <", "permanent")},
			ok: true, detail: "1 copies of a source message id [m1 ×2]"},
		{name: "one missing", dlq: []sqstypes.Message{dead("m1", "order <", "permanent")}},
		{name: "no permanent reason", dlq: []sqstypes.Message{dead("m1", "order <", "retryable"), dead("m2", "\ufffd", "permanent")}},
		{name: "a valid order dead-lettered", dlq: []sqstypes.Message{dead("m1", "order <", "permanent"), dead("m2", "\ufffd", "permanent"), dead("m9", `{"orderId":"o1"}`, "permanent")},
			detail: "1 not poison"},
		{name: "the first send of a resent poison message", dlq: []sqstypes.Message{dead("m1", "order <", "permanent"), dead("m2", "\ufffd", "permanent"), dead("m7", "\ufffd", "permanent")},
			resent: map[string]bool{asSQSStores("\xff"): true}, ok: true, detail: "1 first sends of a resent poison message"},
		{name: "more first sends than resends", dlq: []sqstypes.Message{dead("m1", "order <", "permanent"), dead("m2", "\ufffd", "permanent"), dead("m7", "\ufffd", "permanent"), dead("m8", "\ufffd", "permanent")},
			resent: map[string]bool{asSQSStores("\xff"): true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iv := dlqOnce(tt.dlq, poison, tt.resent)
			if iv.ok != tt.ok || !strings.Contains(iv.detail, tt.detail) {
				t.Errorf("dlqOnce = %v, %q; want %v and a detail with %q", iv.ok, iv.detail, tt.ok, tt.detail)
			}
		})
	}
}

func TestAsSQSStores(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain":              "plain",
		"\xff\xfeab\xc3\x28": "\ufffd\ufffdab\ufffd(",
		"ünï":                "ünï",
	} {
		if got := asSQSStores(in); got != want {
			t.Errorf("asSQSStores(%q) = %q, want %q", in, got, want)
		}
	}
}
