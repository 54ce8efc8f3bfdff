package producer_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/producer"
	"github.com/latchkit/latch/pkg/retry"
)

// TestQueueRefusesTextSQSWouldAlter sends, beside valid values, bodies SQS
// would alter (invalid UTF-8: the SDK sends U+FFFD in place of the byte)
// or refuse (characters outside its allowed set): each is refused before
// any request with a permanent error naming the entry and the byte, and
// the valid values are sent once.
func TestQueueRefusesTextSQSWouldAlter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, bad, want string
	}{
		{"invalid UTF-8", "bad \xff body", "byte 4"},
		{"NUL", "bad \x00 body", "U+0000 at byte 4"},
		{"control character", "bad \x1b body", "U+001B at byte 4"},
		{"non-character U+FFFE", "bad \uFFFE body", "U+FFFE at byte 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeSQS{maxSize: "262144"}
			q := producer.MustNewQueue(fake, producer.QueueConfig[string]{URL: stdURL, Encode: raw, Retry: producer.RetryConfig{Sleep: (&waits{}).wait}})
			res, err := q.SendBatch(context.Background(), []string{"ok 1", tc.bad, "ok 2 \t\r\n é 😀"})
			if !errors.Is(err, producer.ErrNotSent) {
				t.Fatalf("err %v; want ErrNotSent for the bad entry", err)
			}
			var ie *producer.InvalidTextError
			if !errors.As(res[1].Err, &ie) || ie.Entry != 1 || retry.Classify(res[1].Err) != retry.ClassPermanent {
				t.Fatalf("entry 1: %v; want a permanent *InvalidTextError naming entry 1", res[1].Err)
			}
			if msg := res[1].Err.Error(); !strings.Contains(msg, "entry 1") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not name the entry and %q", msg, tc.want)
			}
			if res[1].Attempts != 0 || res[0].Err != nil || res[2].Err != nil {
				t.Errorf("results %+v; want the bad entry refused before any request, the others sent", res)
			}
			if diff := cmp.Diff([]string{"ok 1", "ok 2 \t\r\n é 😀"}, fake.bodies()); diff != "" {
				t.Errorf("bodies SQS took (-want +got):\n%s", diff)
			}
		})
	}
}

// TestQueueRefusesAttributeTextSQSWouldAlter: a String attribute's value
// is held to the same rule as the body.
func TestQueueRefusesAttributeTextSQSWouldAlter(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{maxSize: "262144"}
	q := producer.MustNewQueue(fake, producer.QueueConfig[string]{URL: stdURL, Encode: raw,
		Attributes: func(s string) map[string]types.MessageAttributeValue {
			return map[string]types.MessageAttributeValue{"tenant": {DataType: aws.String("String"), StringValue: aws.String(s + "\xfe")}}
		}})
	_, err := q.Send(context.Background(), "body")
	var ie *producer.InvalidTextError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), `attribute "tenant"`) || len(fake.calls) != 0 {
		t.Errorf("err %v after %d requests; want an *InvalidTextError naming the attribute, before any request", err, len(fake.calls))
	}
}

// TestQueueChecksumMismatchIsNotRetried: SQS took the entry but answered
// the checksum of another body (here: the check above is bypassed by a
// body the fake alters anyway). The entry was sent, with an altered body:
// it has its message id and a permanent *AlteredError, and is never sent
// again as if it had not been.
func TestQueueChecksumMismatchIsNotRetried(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{maxSize: "262144"}
	fake.alter = func(body string) string { return strings.ReplaceAll(body, "é", "e") }
	w := &waits{}
	q := producer.MustNewQueue(fake, producer.QueueConfig[string]{URL: stdURL, Encode: raw, Retry: producer.RetryConfig{Sleep: w.wait}})
	for _, values := range [][]string{{"café"}, {"ok", "café", "ok too"}} {
		fake.sent = nil
		res, err := q.SendBatch(context.Background(), values)
		if !errors.Is(err, producer.ErrNotSent) {
			t.Fatalf("%q: err %v; want ErrNotSent", values, err)
		}
		i := len(values) / 2
		var ae *producer.AlteredError
		if !errors.As(res[i].Err, &ae) || res[i].MessageID == "" || ae.MessageID != res[i].MessageID || retry.Classify(res[i].Err) != retry.ClassPermanent {
			t.Errorf("%q: entry %d: %+v; want its message id and a permanent *AlteredError", values, i, res[i])
		}
		if res[i].Attempts != 1 || len(fake.sent) != len(values) {
			t.Errorf("%q: %d attempts, %d messages in the queue; want the altered entry sent once, not retried", values, res[i].Attempts, len(fake.sent))
		}
		for k, r := range res {
			if k != i && r.Err != nil {
				t.Errorf("%q: entry %d: %v; want sent", values, k, r.Err)
			}
		}
	}
	if len(w.d) != 0 {
		t.Errorf("backoff waits %v; want none", w.d)
	}
}
