package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest"
	"github.com/latchkit/latch/pkg/retry"
)

type tick struct {
	N int `json:"n"`
}

// puts returns Kinesis puts of {"n": i} for each i, partition key pk.
func puts(pk string, ns ...int) []latchtest.Put {
	var ps []latchtest.Put
	for _, n := range ns {
		ps = append(ps, latchtest.Put{Data: latchtest.JSON(tick{N: n}), PartitionKey: pk})
	}
	return ps
}

// ranLog records which records ran, in order, safe for concurrent use.
type ranLog struct {
	mu  sync.Mutex
	ran []int
}

func (l *ranLog) add(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ran = append(l.ran, n)
}

func (l *ranLog) get() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.ran...)
}

func outcomesInOrder(obs *latchtest.Observer) []handler.Outcome {
	var out []handler.Outcome
	for _, r := range obs.Reports() {
		out = append(out, r.Outcome)
	}
	return out
}

func checkpointAt(resp events.KinesisEventResponse) []string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func TestKinesisStopsAtFirstFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fail      map[int]error // by n
		queue     bool
		wantRan   []int
		wantFail  []string
		outcomes  []handler.Outcome
		wantQueue int
	}{
		{
			name: "all succeed", wantRan: []int{1, 2, 3, 4},
			outcomes: []handler.Outcome{handler.Succeeded, handler.Succeeded, handler.Succeeded, handler.Succeeded},
		},
		{
			name: "retryable failure stops the batch at its sequence number",
			fail: map[int]error{2: errors.New("db down")}, queue: true,
			wantRan: []int{1, 2}, wantFail: []string{latchtest.SequenceNumber(2)},
			outcomes: []handler.Outcome{handler.Succeeded, handler.Failed, handler.Blocked, handler.Blocked},
		},
		{
			name: "permanent failure goes to the failure queue and the shard moves on",
			fail: map[int]error{2: retry.Permanent(errors.New("bad order"))}, queue: true,
			wantRan:  []int{1, 2, 3, 4},
			outcomes: []handler.Outcome{handler.Succeeded, handler.DeadLettered, handler.Succeeded, handler.Succeeded}, wantQueue: 1,
		},
		{
			name:    "permanent failure without a failure queue stops the batch",
			fail:    map[int]error{3: retry.Permanent(errors.New("bad order"))},
			wantRan: []int{1, 2, 3}, wantFail: []string{latchtest.SequenceNumber(3)},
			outcomes: []handler.Outcome{handler.Succeeded, handler.Succeeded, handler.Failed, handler.Blocked},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ran ranLog
			obs := &latchtest.Observer{}
			fq := latchtest.NewFailureQueue()
			cfg := handler.KinesisConfig{Observer: obs}
			if tc.queue {
				cfg.FailureQueue = fq.Config()
			}
			h := handler.MustNewKinesis(func(_ context.Context, r handler.KinesisRecord[tick]) error {
				ran.add(r.Data.N)
				return tc.fail[r.Data.N]
			}, cfg)
			resp, err := h(context.Background(), latchtest.KinesisEvent("orders", puts("pk", 1, 2, 3, 4)...))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantRan, ran.get()); diff != "" {
				t.Errorf("ran (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantFail, checkpointAt(resp)); diff != "" {
				t.Errorf("batchItemFailures (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.outcomes, outcomesInOrder(obs)); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			if got := len(fq.Messages()); got != tc.wantQueue {
				t.Errorf("failure queue holds %d messages, want %d", got, tc.wantQueue)
			}
		})
	}
}

// A poison record reaches the failure queue as the record itself, with its
// reason and its place in the stream, so it can be read and replayed.
func TestKinesisFailureQueueCarriesRecordAndReason(t *testing.T) {
	t.Parallel()
	fq := latchtest.NewFailureQueue()
	h := handler.MustNewKinesis(func(context.Context, handler.KinesisRecord[tick]) error { return nil },
		handler.KinesisConfig{FailureQueue: fq.Config()})
	ev := latchtest.KinesisEvent("orders",
		latchtest.Put{Data: `{"n": 1}`}, latchtest.Put{Data: `not json`}, latchtest.Put{Data: `{"n": 3}`})
	resp, err := h(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("got %v, %v; want the batch handled", resp, err)
	}
	s := fq.AssertHolds(t, "", "decode Kinesis data")
	var rec events.KinesisEventRecord
	if err := json.Unmarshal([]byte(s.Body), &rec); err != nil {
		t.Fatalf("failure queue body is not the record: %v: %s", err, s.Body)
	}
	if diff := cmp.Diff(ev.Records[1], rec); diff != "" {
		t.Errorf("record in the failure queue (-want +got):\n%s", diff)
	}
	if s.Class != "permanent" || s.SequenceNumber != latchtest.SequenceNumber(2) || s.Shard != latchtest.DefaultShardID || s.EventID != ev.Records[1].EventID {
		t.Errorf("attributes: class %q, sequence %q, shard %q, event id %q", s.Class, s.SequenceNumber, s.Shard, s.EventID)
	}
}

// A failure queue that cannot be reached must not lose the record: the
// batch stops there and comes back.
func TestKinesisFailureQueueSendFails(t *testing.T) {
	t.Parallel()
	fq := latchtest.NewFailureQueue()
	fq.SQS.Fail(latchtest.OpSendMessage, errors.New("sqs down"))
	obs := &latchtest.Observer{}
	h := handler.MustNewKinesis(func(_ context.Context, r handler.KinesisRecord[tick]) error {
		if r.Data.N == 2 {
			return retry.Permanent(errors.New("bad"))
		}
		return nil
	}, handler.KinesisConfig{FailureQueue: fq.Config(), Observer: obs})
	resp, err := h(context.Background(), latchtest.KinesisEvent("orders", puts("pk", 1, 2, 3)...))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{latchtest.SequenceNumber(2)}, checkpointAt(resp)); diff != "" {
		t.Errorf("batchItemFailures (-want +got):\n%s", diff)
	}
	if got := outcomesInOrder(obs); !slices.Equal(got, []handler.Outcome{handler.Succeeded, handler.Failed, handler.Blocked}) {
		t.Errorf("outcomes %v", got)
	}
}

// Lambda sends the batch again from the reported record; with a guard the
// records that succeeded before are not run again, even when the whole
// batch comes back (bisect, a function error).
func TestKinesisRetriedBatchRunsEachRecordOnce(t *testing.T) {
	t.Parallel()
	guard := newGuard(t, idempotency.Config{Namespace: "test"})
	var ran ranLog
	failing := map[int]bool{3: true}
	var mu sync.Mutex
	obs := &latchtest.Observer{}
	h := handler.MustNewKinesis(func(_ context.Context, r handler.KinesisRecord[tick]) error {
		ran.add(r.Data.N)
		mu.Lock()
		defer mu.Unlock()
		if failing[r.Data.N] {
			return errors.New("not yet")
		}
		return nil
	}, handler.KinesisConfig{Idempotency: guard, Observer: obs})
	ev := latchtest.KinesisEvent("orders", puts("pk", 1, 2, 3, 4)...)
	resp, err := h(context.Background(), ev)
	if err != nil || !slices.Equal(checkpointAt(resp), []string{latchtest.SequenceNumber(3)}) {
		t.Fatalf("first run: %v, %v", resp, err)
	}
	mu.Lock()
	failing[3] = false
	mu.Unlock()
	// The whole batch again: 1 and 2 are duplicates.
	resp, err = h(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("second run: %v, %v", resp, err)
	}
	if diff := cmp.Diff([]int{1, 2, 3, 3, 4}, ran.get()); diff != "" {
		t.Errorf("ran (-want +got):\n%s", diff)
	}
	got := outcomesInOrder(obs)[4:]
	want := []handler.Outcome{handler.Duplicate, handler.Duplicate, handler.Succeeded, handler.Succeeded}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("second run outcomes (-want +got):\n%s", diff)
	}
	for _, r := range obs.Reports() {
		if r.KeyHash == "" && r.Outcome != handler.Blocked {
			t.Errorf("record %s has no key hash", r.ID)
		}
	}
}

// With Concurrency, keys run side by side and each in order; the response
// names the earliest failed record of the batch, so nothing after it is
// checkpointed.
func TestKinesisConcurrencyByPartitionKey(t *testing.T) {
	t.Parallel()
	guard := newGuard(t, idempotency.Config{Namespace: "test"})
	var mu sync.Mutex
	seen := map[string][]int{}
	h := handler.MustNewKinesis(func(_ context.Context, r handler.KinesisRecord[tick]) error {
		mu.Lock()
		seen[r.Raw.Kinesis.PartitionKey] = append(seen[r.Raw.Kinesis.PartitionKey], r.Data.N)
		mu.Unlock()
		if r.Data.N == 3 {
			return errors.New("flaky")
		}
		return nil
	}, handler.KinesisConfig{Idempotency: guard, Concurrency: 4})
	// a:1 b:2 a:3 b:4 a:5 b:6
	var ps []latchtest.Put
	for n := 1; n <= 6; n++ {
		pk := "a"
		if n%2 == 0 {
			pk = "b"
		}
		ps = append(ps, puts(pk, n)...)
	}
	resp, err := h(context.Background(), latchtest.KinesisEvent("orders", ps...))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{latchtest.SequenceNumber(3)}, checkpointAt(resp)); diff != "" {
		t.Errorf("batchItemFailures (-want +got):\n%s", diff)
	}
	want := map[string][]int{"a": {1, 3}, "b": {2, 4, 6}}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("ran by key (-want +got):\n%s", diff)
	}
}

func TestStreamPanicStopsTheBatch(t *testing.T) {
	t.Parallel()
	h := handler.MustNewKinesis(func(_ context.Context, r handler.KinesisRecord[tick]) error {
		if r.Data.N == 1 {
			panic("boom")
		}
		return nil
	}, handler.KinesisConfig{Logger: quiet})
	resp, err := h(context.Background(), latchtest.KinesisEvent("orders", puts("pk", 1, 2)...))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{latchtest.SequenceNumber(1)}, checkpointAt(resp)); diff != "" {
		t.Errorf("batchItemFailures (-want +got):\n%s", diff)
	}
}

func TestStreamRecordPlace(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 5, 0, time.UTC)
	obs := &latchtest.Observer{}
	h := handler.MustNewKinesis(func(context.Context, handler.KinesisRecord[string]) error { return nil },
		handler.KinesisConfig{Observer: obs, Now: func() time.Time { return now }})
	if _, err := h(context.Background(), latchtest.KinesisEvent("orders", latchtest.Put{Data: "raw", Shard: "shardId-000000000007"})); err != nil {
		t.Fatal(err)
	}
	r := obs.Reports()[0]
	want := handler.Delivery{
		Source: "aws:kinesis", ID: "shardId-000000000007:" + latchtest.SequenceNumber(1), Body: "raw",
		Shard: "shardId-000000000007", SequenceNumber: latchtest.SequenceNumber(1), IteratorAge: 5 * time.Second,
	}
	if diff := cmp.Diff(want, r.Delivery); diff != "" {
		t.Errorf("delivery (-want +got):\n%s", diff)
	}
}

type orderItem struct {
	OrderID  string `dynamodbav:"order_id"`
	Customer string `dynamodbav:"customer"`
	Cents    int64  `dynamodbav:"cents"`
	Tags     []string
}

func TestDynamoDBStreamDecodesImages(t *testing.T) {
	t.Parallel()
	var got []handler.Change[orderItem]
	h := handler.MustNewDynamoDBStream(func(_ context.Context, c handler.Change[orderItem]) error {
		got = append(got, c)
		return nil
	}, handler.DynamoDBStreamConfig{})
	o1 := orderItem{OrderID: "o-1", Customer: "c-1", Cents: 1250, Tags: []string{"gift"}}
	o1b := o1
	o1b.Cents = 990
	key := map[string]string{"order_id": "o-1"}
	ev := latchtest.DynamoDBEvent("orders",
		latchtest.ItemChange{Keys: key, New: o1},
		latchtest.ItemChange{Keys: key, New: o1b, Old: o1},
		latchtest.ItemChange{Keys: key, Old: o1b})
	resp, err := h(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v, %v", resp, err)
	}
	type view struct {
		Name     string
		New, Old *orderItem
	}
	var views []view
	for _, c := range got {
		views = append(views, view{c.Name, c.New, c.Old})
	}
	want := []view{
		{handler.ChangeInsert, &o1, nil},
		{handler.ChangeModify, &o1b, &o1},
		{handler.ChangeRemove, nil, &o1b},
	}
	if diff := cmp.Diff(want, views); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestDynamoDBStreamUndecodableImageIsPermanent(t *testing.T) {
	t.Parallel()
	fq := latchtest.NewFailureQueue()
	ran := 0
	h := handler.MustNewDynamoDBStream(func(context.Context, handler.Change[orderItem]) error { ran++; return nil },
		handler.DynamoDBStreamConfig{FailureQueue: fq.Config()})
	ev := latchtest.DynamoDBEvent("orders",
		latchtest.ItemChange{New: map[string]any{"order_id": "o-1", "cents": "not a number"}},
		latchtest.ItemChange{New: orderItem{OrderID: "o-2", Cents: 1}})
	resp, err := h(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v, %v", resp, err)
	}
	if ran != 1 {
		t.Errorf("ran %d records, want 1 (the second)", ran)
	}
	s := fq.AssertHolds(t, "", "decode DynamoDB NewImage")
	if s.SequenceNumber != latchtest.SequenceNumber(1) || s.Shard != "" {
		t.Errorf("sequence %q, shard %q", s.SequenceNumber, s.Shard)
	}
}

func TestStreamConfigErrors(t *testing.T) {
	t.Parallel()
	guard := newGuard(t, idempotency.Config{Namespace: "test"})
	fn := func(context.Context, handler.KinesisRecord[tick]) error { return nil }
	tests := []struct {
		name string
		fn   func(context.Context, handler.KinesisRecord[tick]) error
		cfg  handler.KinesisConfig
		want string
	}{
		{"nil function", nil, handler.KinesisConfig{}, "record function is nil"},
		{"key without guard", fn, handler.KinesisConfig{Key: func(events.KinesisEventRecord) (idempotency.Key, error) { return idempotency.Key{}, nil }}, "without Idempotency"},
		{"negative concurrency", fn, handler.KinesisConfig{Concurrency: -1}, "negative"},
		{"concurrency without guard", fn, handler.KinesisConfig{Concurrency: 2}, "needs Idempotency"},
		{"failure queue without client", fn, handler.KinesisConfig{FailureQueue: handler.FailureQueue{URL: "u"}}, "Client is nil"},
		{"fine", fn, handler.KinesisConfig{Idempotency: guard, Concurrency: 2}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := handler.NewKinesis(tc.fn, tc.cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, handler.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrConfig with %q", err, tc.want)
			}
		})
	}
	if _, err := handler.NewKinesisTx[tick, int](func(context.Context, handler.KinesisRecord[tick]) (idempotency.Tx[int], error) {
		return idempotency.Tx[int]{}, nil
	}, nil, handler.KinesisConfig{}); !errors.Is(err, handler.ErrConfig) {
		t.Errorf("NewKinesisTx without a guard: %v", err)
	}
}

func TestStreamMalformedEvent(t *testing.T) {
	t.Parallel()
	ran := 0
	h := handler.MustNewKinesis(func(context.Context, handler.KinesisRecord[string]) error { ran++; return nil }, handler.KinesisConfig{})
	noSeq := latchtest.KinesisEvent("orders", puts("pk", 1, 2)...)
	noSeq.Records[1].Kinesis.SequenceNumber = ""
	wrongSource := latchtest.KinesisEvent("orders", puts("pk", 1)...)
	wrongSource.Records[0].EventSource = "aws:sqs"
	for name, ev := range map[string]events.KinesisEvent{"empty": {}, "no sequence number": noSeq, "wrong source": wrongSource} {
		if _, err := h(context.Background(), ev); !errors.Is(err, handler.ErrMalformedStreamEvent) {
			t.Errorf("%s: error %v, want ErrMalformedStreamEvent", name, err)
		}
	}
	if ran != 0 {
		t.Errorf("ran %d records of malformed batches", ran)
	}
}

// Each builder's event round-trips through JSON, as Lambda delivers it.
func TestStreamEventsRoundTrip(t *testing.T) {
	t.Parallel()
	for name, ev := range map[string]any{
		"kinesis":  latchtest.KinesisEvent("orders", puts("pk", 1, 2)...),
		"dynamodb": latchtest.DynamoDBEvent("orders", latchtest.ItemChange{Keys: map[string]string{"order_id": "o-1"}, New: orderItem{OrderID: "o-1"}}),
	} {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		back := fmt.Sprintf("%T", ev)
		switch ev := ev.(type) {
		case events.KinesisEvent:
			var got events.KinesisEvent
			err = json.Unmarshal(b, &got)
			if diff := cmp.Diff(ev, got); err != nil || diff != "" {
				t.Errorf("%s (%s): %v %s", name, back, err, diff)
			}
		case events.DynamoDBEvent:
			var got events.DynamoDBEvent
			err = json.Unmarshal(b, &got)
			if diff := cmp.Diff(ev, got, cmp.Comparer(func(a, b events.DynamoDBAttributeValue) bool {
				x, _ := json.Marshal(a)
				y, _ := json.Marshal(b)
				return string(x) == string(y)
			})); err != nil || diff != "" {
				t.Errorf("%s (%s): %v %s", name, back, err, diff)
			}
		}
	}
}
