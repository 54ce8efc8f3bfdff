package producer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/producer"
	"github.com/latchkit/latch/pkg/retry"
)

const (
	stdURL  = "http://sqs.local/000000000000/q"
	fifoURL = "http://sqs.local/000000000000/q.fifo"
)

func raw(s string) ([]byte, error) { return []byte(s), nil }

// group is the FIFO group of a test body "g/n".
func group(s string) string { g, _, _ := strings.Cut(s, "/"); return g }

func bodies(prefix string, n int) []string {
	var b []string
	for i := range n {
		b = append(b, fmt.Sprintf("%s%d", prefix, i))
	}
	return b
}

func TestQueueSendBatch(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 300_000)
	tests := []struct {
		name        string
		url         string
		values      []string
		maxSize     int
		fail        func(body string, seen int) (string, bool)
		callErr     func(call int) error
		wantBatches []int
		wantSent    []string
		wantAtt     []int
		wantErrIdx  map[int]error // index → error it must match (errors.Is)
		wantPerm    map[int]bool  // index → permanent class
		wantWaits   int
	}{
		{
			name: "25 small messages in three requests", url: stdURL, values: bodies("m", 25),
			wantBatches: []int{10, 10, 5}, wantSent: bodies("m", 25),
		},
		{
			name: "300 KB messages three to a request (1 MiB)", url: stdURL, maxSize: 1 << 20,
			values:      []string{big + "a", big + "b", big + "c", big + "d", big + "e"},
			wantBatches: []int{3, 2}, wantSent: []string{big + "a", big + "b", big + "c", big + "d", big + "e"},
		},
		{
			name: "a message over the queue limit fails alone, before any request", url: stdURL, maxSize: 1000,
			values:      []string{"a", strings.Repeat("y", 1001), "c"},
			wantBatches: []int{2}, wantSent: []string{"a", "c"}, wantAtt: []int{1, 0, 1},
			wantErrIdx: map[int]error{1: producer.ErrTooLarge}, wantPerm: map[int]bool{1: true},
		},
		{
			name: "throttled entry retried alone until accepted", url: stdURL, values: []string{"a", "b", "c"},
			fail: func(body string, seen int) (string, bool) {
				if body == "b" && seen < 2 {
					return "ThrottlingException", false
				}
				return "", false
			},
			wantBatches: []int{3, 1, 1}, wantSent: []string{"a", "c", "b"}, wantAtt: []int{1, 3, 1}, wantWaits: 2,
		},
		{
			name: "invalid entry is permanent: one attempt", url: stdURL, values: []string{"a", "b"},
			fail: func(body string, _ int) (string, bool) {
				if body == "a" {
					return "InvalidParameterValue", true
				}
				return "", false
			},
			wantBatches: []int{2}, wantSent: []string{"b"}, wantAtt: []int{1, 1},
			wantErrIdx: map[int]error{0: producer.ErrNotSent /* placeholder replaced below */}, wantPerm: map[int]bool{0: true},
		},
		{
			name: "retryable entry gives up after MaxAttempts", url: stdURL, values: []string{"a"},
			fail:        func(string, int) (string, bool) { return "InternalError", false },
			wantBatches: []int{1, 1, 1, 1, 1}, wantAtt: []int{5}, wantWaits: 4,
			wantErrIdx: map[int]error{0: producer.ErrNotSent}, wantPerm: map[int]bool{0: false},
		},
		{
			name: "failed request retries all its entries", url: stdURL, values: []string{"a", "b"},
			callErr: func(call int) error {
				if call == 1 {
					return errors.New("connection reset")
				}
				return nil
			},
			wantBatches: []int{2, 2}, wantSent: []string{"a", "b"}, wantAtt: []int{2, 2}, wantWaits: 1,
		},
		{
			name: "FIFO: a group waits behind its failed entry, other groups go on", url: fifoURL,
			values: []string{"a/1", "a/2", "b/1", "a/3", "b/2"},
			fail: func(body string, seen int) (string, bool) {
				if body == "a/1" && seen == 0 {
					return "ThrottlingException", false
				}
				return "", false
			},
			// a/1 fails in the first request, which also accepts a/2 (SQS
			// itself would not; the fake does, so the test pins what latch
			// controls: nothing of group a is sent in later requests before
			// a/1).
			wantBatches: []int{5, 1}, wantSent: []string{"a/2", "b/1", "a/3", "b/2", "a/1"}, wantWaits: 1,
			wantAtt: []int{2, 1, 1, 1, 1},
		},
		{
			name: "FIFO: an entry refused before any request stops its group's later entries", url: fifoURL, maxSize: 10,
			values:      []string{"a/1", "a/" + strings.Repeat("a", 9), "a/3", "b/1"},
			wantBatches: []int{2}, wantSent: []string{"a/1", "b/1"}, wantAtt: []int{1, 0, 0, 1},
			wantErrIdx: map[int]error{1: producer.ErrTooLarge, 2: producer.ErrGroupFailed},
		},
		{
			name: "FIFO: a permanent refusal stops its group", url: fifoURL,
			values: []string{"a/1", "a/2", "b/1"},
			fail: func(body string, _ int) (string, bool) {
				if body == "a/1" {
					return "InvalidParameterValue", true
				}
				return "", false
			},
			wantBatches: []int{3}, wantSent: []string{"a/2", "b/1"}, wantAtt: []int{1, 1, 1},
			wantErrIdx: map[int]error{0: producer.ErrNotSent},
		},
		{
			name: "FIFO: a group's later entries go in a request after the retried one is accepted", url: fifoURL,
			values: bodies("a/", 12),
			fail: func(body string, seen int) (string, bool) {
				if body == "a/0" && seen == 0 {
					return "ThrottlingException", false
				}
				return "", false
			},
			wantBatches: []int{10, 1, 2}, wantSent: append(bodies("a/", 10)[1:], "a/0", "a/10", "a/11"), wantWaits: 1,
		},
		{
			name: "FIFO: a group's entry that runs out of attempts stops the group's later entries", url: fifoURL,
			values: bodies("a/", 12),
			fail: func(body string, _ int) (string, bool) {
				if body == "a/3" {
					return "InternalError", false
				}
				return "", false
			},
			// Request 1 carries a/0..a/9: a/3 fails, a/4..a/9 are accepted by
			// the fake (SQS would stop the group). a/10 and a/11 wait behind
			// a/3, which fails four more times alone; then they are not sent.
			wantBatches: []int{10, 1, 1, 1, 1}, wantSent: append(bodies("a/", 3), "a/4", "a/5", "a/6", "a/7", "a/8", "a/9"), wantWaits: 4,
			wantErrIdx: map[int]error{3: producer.ErrNotSent, 10: producer.ErrGroupFailed, 11: producer.ErrGroupFailed},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeSQS{maxSize: "1048576", fail: tt.fail, callErr: tt.callErr}
			w := &waits{}
			cfg := producer.QueueConfig[string]{Encode: raw, MaxMessageSize: tt.maxSize, Retry: producer.RetryConfig{Sleep: w.wait}}
			if strings.HasSuffix(tt.url, ".fifo") {
				cfg.GroupID = group
				cfg.IdempotencyKey = func(s string) string { return s }
			}
			cfg.URL = tt.url
			q, err := producer.NewQueue(fake, cfg)
			if err != nil {
				t.Fatal(err)
			}
			res, err := q.SendBatch(context.Background(), tt.values)
			if len(res) != len(tt.values) {
				t.Fatalf("%d results for %d values", len(res), len(tt.values))
			}
			if diff := cmp.Diff(tt.wantBatches, fake.batchSizes()); diff != "" {
				t.Errorf("entries per request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSent, fake.bodies(), cmp.Comparer(func(a, b string) bool { return a == b })); diff != "" && len(diff) < 2000 {
				t.Errorf("accepted bodies (-want +got):\n%s", diff)
			} else if diff != "" {
				t.Errorf("accepted bodies differ (%d want, %d got)", len(tt.wantSent), len(fake.bodies()))
			}
			if tt.wantAtt != nil {
				var att []int
				for _, r := range res {
					att = append(att, r.Attempts)
				}
				if diff := cmp.Diff(tt.wantAtt, att); diff != "" {
					t.Errorf("attempts (-want +got):\n%s", diff)
				}
			}
			failed := 0
			for i, r := range res {
				_, wantFail := tt.wantErrIdx[i]
				if wantFail != (r.Err != nil) {
					t.Errorf("result %d: err = %v, want failure %v", i, r.Err, wantFail)
				}
				if r.Err == nil {
					if r.MessageID == "" {
						t.Errorf("result %d: sent without a message id", i)
					}
					continue
				}
				failed++
				if want := tt.wantErrIdx[i]; want != producer.ErrNotSent && !errors.Is(r.Err, want) {
					t.Errorf("result %d: err = %v, want %v", i, r.Err, want)
				}
				if perm, ok := tt.wantPerm[i]; ok && (retry.Classify(r.Err) == retry.ClassPermanent) != perm {
					t.Errorf("result %d: class %v, want permanent=%v", i, retry.Classify(r.Err), perm)
				}
			}
			if (failed > 0) != errors.Is(err, producer.ErrNotSent) {
				t.Errorf("SendBatch err = %v with %d failed entries", err, failed)
			}
			var se *producer.SendError
			if errors.As(err, &se) && se.Failed != failed {
				t.Errorf("SendError.Failed = %d, want %d", se.Failed, failed)
			}
			if len(w.d) != tt.wantWaits {
				t.Errorf("waited %d times (%v), want %d", len(w.d), w.d, tt.wantWaits)
			}
		})
	}
}

func TestQueueReadsMaxMessageSizeOnce(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{maxSize: "100"}
	q, err := producer.NewQueue(fake, producer.QueueConfig[string]{URL: stdURL, Encode: raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := q.Send(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	_, err = q.Send(ctx, strings.Repeat("z", 101))
	var tl *producer.TooLargeError
	if !errors.As(err, &tl) || tl.Max != 100 || tl.Size != 101 {
		t.Errorf("Send of 101 bytes: err = %v, want a TooLargeError of 101 over 100", err)
	}
	if !strings.Contains(err.Error(), "101") || !strings.Contains(err.Error(), "MaximumMessageSize") {
		t.Errorf("error %q does not say the size and the limit", err)
	}
	if fake.attrGets != 1 {
		t.Errorf("GetQueueAttributes called %d times, want 1", fake.attrGets)
	}
}

func TestQueuePropagatesCorrelationAndTrace(t *testing.T) {
	t.Parallel()
	const trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	tests := []struct {
		name     string
		ctx      context.Context
		wantCorr string
		wantTr   string
	}{
		{name: "no invocation: nothing set", ctx: context.Background()},
		{
			name:     "invocation: its request id and trace header",
			ctx:      handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "req-1", TraceHeader: trace}),
			wantCorr: "req-1", wantTr: trace,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeSQS{maxSize: "1024"}
			q := producer.MustNewQueue(fake, producer.QueueConfig[string]{URL: stdURL, Encode: raw})
			if _, err := q.Send(tt.ctx, "x"); err != nil {
				t.Fatal(err)
			}
			e := fake.sent[0]
			gotCorr := aws.ToString(e.MessageAttributes[handler.CorrelationIDAttribute].StringValue)
			gotTr := aws.ToString(e.MessageSystemAttributes[producer.TraceHeaderAttribute].StringValue)
			if gotCorr != tt.wantCorr || gotTr != tt.wantTr {
				t.Errorf("correlation %q trace %q, want %q %q", gotCorr, gotTr, tt.wantCorr, tt.wantTr)
			}
		})
	}
}

func TestQueueFIFOEntry(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{maxSize: "1024"}
	q := producer.MustNewQueue(fake, producer.QueueConfig[string]{URL: fifoURL,
		Encode: raw, GroupID: group, IdempotencyKey: func(s string) string { return "order-" + s },
	})
	if _, err := q.Send(context.Background(), "cust-7/1"); err != nil {
		t.Fatal(err)
	}
	e := fake.sent[0]
	if got := aws.ToString(e.MessageGroupId); got != "cust-7" {
		t.Errorf("group = %q, want cust-7", got)
	}
	if got, want := aws.ToString(e.MessageDeduplicationId), producer.DeduplicationID("order-cust-7/1"); got != want || len(got) != 64 {
		t.Errorf("deduplication id = %q, want %q (64 hex)", got, want)
	}
}

func TestQueueDelay(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{maxSize: "1024"}
	q := producer.MustNewQueue(fake, producer.QueueConfig[string]{URL: stdURL,
		Encode: raw, Delay: func(s string) time.Duration {
			if s == "late" {
				return 16 * time.Minute
			}
			return 90 * time.Second
		},
	})
	res, _ := q.SendBatch(context.Background(), []string{"soon", "late"})
	if got := fake.sent[0].DelaySeconds; got != 90 {
		t.Errorf("DelaySeconds = %d, want 90", got)
	}
	if res[1].Err == nil || retry.Classify(res[1].Err) != retry.ClassPermanent {
		t.Errorf("16-minute delay: err = %v, want a permanent error", res[1].Err)
	}
}

func TestQueueContextEndsDuringBackoff(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{maxSize: "1024", fail: func(string, int) (string, bool) { return "ThrottlingException", false }}
	ctx, cancel := context.WithCancel(context.Background())
	q := producer.MustNewQueue(fake, producer.QueueConfig[string]{URL: stdURL, Encode: raw, Retry: producer.RetryConfig{
		Sleep: func(context.Context, time.Duration) error { cancel(); return context.Canceled },
	}})
	res, err := q.Send(ctx, "a")
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Errorf("err = %v, want context.Canceled that keeps the last failure", err)
	}
	if res.Attempts != 1 {
		t.Errorf("attempts = %d, want 1", res.Attempts)
	}
}

func TestNewQueueConfigErrors(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{}
	tests := []struct {
		name string
		url  string
		cfg  producer.QueueConfig[string]
	}{
		{name: "no url", url: ""},
		{name: "FIFO without group", url: fifoURL},
		{name: "FIFO with delay", url: fifoURL, cfg: producer.QueueConfig[string]{GroupID: group, Delay: func(string) time.Duration { return 0 }}},
		{name: "deduplication on a standard queue", url: stdURL, cfg: producer.QueueConfig[string]{IdempotencyKey: group}},
		{name: "both dedup sources", url: fifoURL, cfg: producer.QueueConfig[string]{GroupID: group, IdempotencyKey: group, DeduplicationID: group}},
		{name: "negative size", url: stdURL, cfg: producer.QueueConfig[string]{MaxMessageSize: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			cfg.URL = tt.url
			if _, err := producer.NewQueue(fake, cfg); !errors.Is(err, producer.ErrConfig) {
				t.Errorf("NewQueue err = %v, want ErrConfig", err)
			}
		})
	}
	if _, err := producer.NewQueue[string](nil, producer.QueueConfig[string]{URL: stdURL}); !errors.Is(err, producer.ErrConfig) {
		t.Errorf("nil client: err = %v, want ErrConfig", err)
	}
}

// TestQueueMissingMaxSizeNamesTheFix: a client that does not answer
// MaximumMessageSize (a test double) fails every entry with an error that
// names the fix, QueueConfig.MaxMessageSize; with it set, no read is made.
func TestQueueMissingMaxSizeNamesTheFix(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{maxSize: ""}
	_, err := producer.MustNewQueue(fake, producer.QueueConfig[string]{URL: stdURL}).Send(context.Background(), "v")
	if err == nil || !strings.Contains(err.Error(), "QueueConfig.MaxMessageSize") {
		t.Errorf("err %v; want it to name QueueConfig.MaxMessageSize", err)
	}
	if _, err := producer.MustNewQueue(fake, producer.QueueConfig[string]{URL: stdURL, MaxMessageSize: 1024}).Send(context.Background(), "v"); err != nil || fake.attrGets != 1 {
		t.Errorf("with MaxMessageSize set: err %v after %d reads; want sent, no second read", err, fake.attrGets)
	}
}

// TestFairQueueGroup: on a standard queue GroupID is the tenant of an SQS
// fair queue: each message carries it as MessageGroupId, with no
// deduplication id, and nothing waits behind a refused message of its
// group as on FIFO.
func TestFairQueueGroup(t *testing.T) {
	t.Parallel()
	fake := &fakeSQS{maxSize: "1048576"}
	q, err := producer.NewQueue(fake, producer.QueueConfig[string]{URL: stdURL, GroupID: func(s string) string { return "tenant-" + s[:1] }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.SendBatch(context.Background(), []string{"a1", "a2", "b1"}); err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, c := range fake.calls {
		for _, e := range c.Entries {
			if e.MessageDeduplicationId != nil {
				t.Errorf("entry %s has a deduplication id on a standard queue", aws.ToString(e.MessageBody))
			}
			groups = append(groups, aws.ToString(e.MessageGroupId))
		}
	}
	if diff := cmp.Diff([]string{"tenant-a", "tenant-a", "tenant-b"}, groups); diff != "" {
		t.Errorf("message groups (-want +got):\n%s", diff)
	}
}
