//go:build integration

package esm_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/esm"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

func send(t *testing.T, env *emulator.Env, url string, fifoGroup string, bodies ...string) []string {
	t.Helper()
	var ids []string
	for i, b := range bodies {
		in := &sqs.SendMessageInput{
			QueueUrl:    aws.String(url),
			MessageBody: aws.String(b),
			MessageAttributes: map[string]types.MessageAttributeValue{
				"seq":  {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(i))},
				"blob": {DataType: aws.String("Binary"), BinaryValue: []byte{0xca, 0xfe}},
			},
		}
		if fifoGroup != "" {
			in.MessageGroupId = aws.String(fifoGroup)
			in.MessageDeduplicationId = aws.String(fmt.Sprint(fifoGroup, "-", i, "-", b))
		}
		out, err := env.SQS.SendMessage(context.Background(), in)
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		ids = append(ids, aws.ToString(out.MessageId))
	}
	return ids
}

// short is a config that returns quickly on an empty queue.
func short(env *emulator.Env, q emulator.Queue) esm.Config {
	return esm.Config{Client: env.SQS, QueueURL: q.URL, WaitTime: time.Second}
}

// pollUntil polls until want records have been seen, or fails the test.
func pollUntil(t *testing.T, cfg esm.Config, fn esm.Invoke, want int, timeout time.Duration) []esm.Batch {
	t.Helper()
	var (
		batches []esm.Batch
		seen    int
	)
	deadline := time.Now().Add(timeout)
	for seen < want {
		if time.Now().After(deadline) {
			t.Fatalf("saw %d records within %v, want %d", seen, timeout, want)
		}
		b, err := esm.Poll(context.Background(), cfg, fn)
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if len(b.Event.Records) > 0 {
			batches = append(batches, b)
			seen += len(b.Event.Records)
		}
	}
	return batches
}

func ids(ev events.SQSEvent) []string {
	var out []string
	for _, r := range ev.Records {
		out = append(out, r.MessageId)
	}
	return out
}

func TestPollEmptyQueue(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{})
	cfg := short(env, q)
	cfg.WaitTime = -1
	called := false
	b, err := esm.Poll(context.Background(), cfg, func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		called = true
		return events.SQSEventResponse{}, nil
	})
	if err != nil || called || len(b.Event.Records) != 0 {
		t.Fatalf("empty queue: err %v, invoked %v, %d records", err, called, len(b.Event.Records))
	}
}

func TestPollEventShapeAndPartialFailure(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{VisibilityTimeout: time.Second, MaxReceiveCount: 5})
	sent := send(t, env, q.URL, "", "one", "two", "three")
	var got events.SQSEvent
	fail := ""
	fn := func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		got = ev
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			if r.Body == "two" {
				fail = r.MessageId
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		return resp, nil
	}
	batches := pollUntil(t, short(env, q), fn, 3, 15*time.Second)
	var all []string
	for _, b := range batches {
		all = append(all, ids(b.Event)...)
	}
	slices.Sort(all)
	want := slices.Clone(sent)
	slices.Sort(want)
	if diff := cmp.Diff(want, all); diff != "" {
		t.Fatalf("records (-want +got):\n%s", diff)
	}
	r := got.Records[0]
	if r.EventSource != "aws:sqs" || r.EventSourceARN != q.ARN || r.AWSRegion == "" || r.ReceiptHandle == "" || r.Md5OfBody == "" {
		t.Errorf("record envelope %+v", r)
	}
	for _, k := range []string{"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp"} {
		if r.Attributes[k] == "" {
			t.Errorf("attribute %s missing: %v", k, r.Attributes)
		}
	}
	if a := r.MessageAttributes["seq"]; a.DataType != "Number" || a.StringValue == nil {
		t.Errorf("message attribute seq = %+v", a)
	}
	if a := r.MessageAttributes["blob"]; a.DataType != "Binary" || string(a.BinaryValue) != "\xca\xfe" {
		t.Errorf("message attribute blob = %+v", a)
	}
	// the reported record, and only it, comes back, with its count raised
	var back []esm.Batch
	deadline := time.Now().Add(10 * time.Second)
	for len(back) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the reported record did not come back")
		}
		b, err := esm.Poll(context.Background(), short(env, q), func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Event.Records) > 0 {
			back = append(back, b)
		}
	}
	if diff := cmp.Diff([]string{fail}, ids(back[0].Event)); diff != "" {
		t.Errorf("came back (-want +got):\n%s", diff)
	}
	if n := back[0].Event.Records[0].Attributes["ApproximateReceiveCount"]; n != "2" {
		t.Errorf("receive count %s, want 2", n)
	}
	if len(back[0].Deleted) != 1 {
		t.Errorf("deleted %v", back[0].Deleted)
	}
	env.AssertQueueEmpty(t, q.URL)
}

func TestPollKeepsEverythingOnFunctionError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		fn      esm.Invoke
		wantErr error
	}{
		{name: "error", fn: func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{}, errors.New("function crashed")
		}},
		{name: "panic", fn: func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) { panic("bug") }},
		{name: "unknown item identifier", wantErr: esm.ErrInvalidResponse, fn: func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "not-in-batch"}}}, nil
		}},
		{name: "empty item identifier", wantErr: esm.ErrInvalidResponse, fn: func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{}}}, nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := emulator.New(t)
			q := env.Queue(t, emulator.QueueSpec{VisibilityTimeout: time.Second, MaxReceiveCount: 5})
			sent := send(t, env, q.URL, "", "a", "b")
			batches := pollUntil(t, short(env, q), tc.fn, 2, 15*time.Second)
			for _, b := range batches {
				if b.InvokeErr == nil || len(b.Deleted) != 0 || len(b.Kept) != len(b.Event.Records) {
					t.Fatalf("batch: invoke error %v, deleted %v, kept %v; want everything kept", b.InvokeErr, b.Deleted, b.Kept)
				}
				if tc.wantErr != nil && !errors.Is(b.InvokeErr, tc.wantErr) {
					t.Errorf("invoke error %v, want %v", b.InvokeErr, tc.wantErr)
				}
			}
			// both come back
			back := pollUntil(t, short(env, q), func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
				return events.SQSEventResponse{}, nil
			}, 2, 15*time.Second)
			var got []string
			for _, b := range back {
				got = append(got, b.Deleted...)
			}
			slices.Sort(got)
			slices.Sort(sent)
			if diff := cmp.Diff(sent, got); diff != "" {
				t.Errorf("came back and deleted (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPollBatchingWindowAndTimeout(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{})
	var bodies []string
	for i := range 25 {
		bodies = append(bodies, fmt.Sprint("m", i))
	}
	send(t, env, q.URL, "", bodies...)
	cfg := short(env, q)
	cfg.BatchSize = 25
	cfg.MaxBatchingWindow = 3 * time.Second
	cfg.FunctionTimeout = 5 * time.Second
	var deadline time.Time
	var hasDeadline bool
	b, err := esm.Poll(context.Background(), cfg, func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		deadline, hasDeadline = ctx.Deadline()
		return events.SQSEventResponse{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(b.Event.Records); n != 25 || len(b.Deleted) != 25 {
		t.Errorf("one batch of %d records (%d deleted), want all 25 gathered within the window", n, len(b.Deleted))
	}
	if !hasDeadline || time.Until(deadline) > 5*time.Second {
		t.Errorf("invocation deadline %v (set: %v), want within the 5s function timeout", deadline, hasDeadline)
	}
	env.AssertQueueEmpty(t, q.URL)
}

func TestPollFIFOAttributes(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{FIFO: true})
	send(t, env, q.URL, "g1", "x", "y")
	b := pollUntil(t, short(env, q), func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{}, nil
	}, 2, 10*time.Second)
	r := b[0].Event.Records[0]
	if r.Attributes["MessageGroupId"] != "g1" || r.Attributes["MessageDeduplicationId"] == "" || r.Attributes["SequenceNumber"] == "" {
		t.Errorf("FIFO attributes %v", r.Attributes)
	}
	if r.Body != "x" {
		t.Errorf("first body %q, want x", r.Body)
	}
}

func TestRunUntilCancelled(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{})
	send(t, env, q.URL, "", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu   sync.Mutex
		seen []string
	)
	done := make(chan error, 1)
	go func() {
		done <- esm.Run(ctx, esm.Config{Client: env.SQS, QueueURL: q.URL, WaitTime: time.Second}, func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range ev.Records {
				seen = append(seen, r.Body)
			}
			return events.SQSEventResponse{}, nil
		})
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == 12 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Run processed %d of 12", n)
		}
		time.Sleep(20 * time.Millisecond) // polling a counter another goroutine fills
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v after cancel, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	env.AssertQueueEmpty(t, q.URL)
}

func TestRunBadConfig(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	nop := func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{}, nil
	}
	if err := esm.Run(context.Background(), esm.Config{Client: env.SQS}, nop); err == nil {
		t.Error("Run without a QueueURL did not fail")
	}
	if err := esm.Run(context.Background(), esm.Config{Client: env.SQS, QueueURL: "http://127.0.0.1:1/000000000000/nope"}, nop); err == nil {
		t.Error("Run on an unreachable queue did not fail")
	}
}
