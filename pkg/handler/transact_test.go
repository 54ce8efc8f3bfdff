package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// orderPut is the write of an order: its effect in the transactional form.
func orderPut(id string) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String("orders"),
		Item:      map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
	}}
}

// committed returns the ids of the orders store committed.
func committed(store *idempotency.MemoryStore) []string {
	var ids []string
	for _, w := range store.TxWrites() {
		ids = append(ids, w.Put.Item["id"].(*types.AttributeValueMemberS).Value)
	}
	return ids
}

func TestSQSTx(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 3)
	store := idempotency.NewMemoryStore()
	guard := newGuard(t, idempotency.Config{Store: store, Namespace: "test"})
	obs := &recorder{}
	var mu sync.Mutex
	var then []string // message id → value seen by then
	h := handler.MustNewSQSTx(func(_ context.Context, m handler.Message[order]) (idempotency.Tx[string], error) {
		return idempotency.Tx[string]{Value: "accepted-by-" + m.Raw.MessageId, Writes: []types.TransactWriteItem{orderPut(m.Body.ID)}}, nil
	}, func(_ context.Context, m handler.Message[order], v string) error {
		mu.Lock()
		defer mu.Unlock()
		then = append(then, m.Raw.MessageId+":"+v)
		return nil
	}, handler.SQSConfig{Client: client, Idempotency: guard, Key: handler.KeyJSONField("order_id"), Observer: obs, Logger: discard, Concurrency: 1})
	resp, err := h(context.Background(), sqsEvent("orders",
		msg{id: "m1", body: body("o-1")}, msg{id: "m2", body: body("o-2")}, msg{id: "m3", body: body("o-1")}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures(), resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]handler.Outcome{"m1": handler.Succeeded, "m2": handler.Succeeded, "m3": handler.Duplicate}, obs.outcomes()); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"o-1", "o-2"}, committed(store)); diff != "" {
		t.Errorf("committed orders (-want +got):\n%s", diff)
	}
	// then runs after each commit, not for a duplicate's first delivery.
	if diff := cmp.Diff([]string{"m1:accepted-by-m1", "m2:accepted-by-m2"}, then); diff != "" {
		t.Errorf("then calls (-want +got):\n%s", diff)
	}
	// A redelivery whose commit is a replay runs then again, with the value
	// first committed: the earlier attempt may have failed in then. It
	// arrives at another container (a guard that has not seen the key), and
	// is answered by reading the record first: fn does not run.
	ev := sqsEvent("orders", msg{id: "m3", body: body("o-1")})
	ev.Records[0].Attributes["ApproximateReceiveCount"] = "2"
	obs2 := &recorder{}
	ran := 0
	h2 := handler.MustNewSQSTx(func(_ context.Context, m handler.Message[order]) (idempotency.Tx[string], error) {
		ran++
		return idempotency.Tx[string]{Value: "accepted-by-" + m.Raw.MessageId, Writes: []types.TransactWriteItem{orderPut(m.Body.ID)}}, nil
	}, func(_ context.Context, m handler.Message[order], v string) error {
		then = append(then, m.Raw.MessageId+":"+v)
		return nil
	}, handler.SQSConfig{Client: client, Idempotency: newGuard(t, idempotency.Config{Store: store, Namespace: "test"}), Key: handler.KeyJSONField("order_id"), Observer: obs2, Logger: discard})
	if _, err := h2(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if got := obs2.outcomes()["m3"]; got != handler.Duplicate || len(then) != 3 || then[2] != "m3:accepted-by-m1" || ran != 0 {
		t.Errorf("redelivery: outcome %s, then calls %v, fn ran %d times; want a duplicate answered without running fn that ran then with m1's value", got, then, ran)
	}
	if got, want := obs.report("m3").KeyHash, guard.KeyHash("o-1"); got != want {
		t.Errorf("key hash %q, want %q", got, want)
	}
}

// TestSQSTxFailures: what becomes of a record whose transaction or then
// fails.
func TestSQSTxFailures(t *testing.T) {
	t.Parallel()
	errPublish := errors.New("bus down")
	tests := []struct {
		name string
		// conditionFails makes the store's applier fail write 0's condition.
		conditionFails bool
		mapper         func(*idempotency.ConditionFailedError) error
		thenErr        error
		want           handler.Outcome
		wantCommitted  []string
	}{
		{name: "failed user condition is retryable by default", conditionFails: true, want: handler.RetryScheduled},
		{name: "failed user condition mapped permanent is dead-lettered", conditionFails: true,
			mapper: func(err *idempotency.ConditionFailedError) error { return retry.Permanent(err) }, want: handler.DeadLettered},
		{name: "then fails after the commit: retried, commit kept", thenErr: errPublish, want: handler.RetryScheduled, wantCommitted: []string{"o-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := newFakeSQS()
			client.addQueue("orders", 3)
			store := idempotency.NewMemoryStore()
			if tt.conditionFails {
				store.SetTxApplier(func(context.Context, []types.TransactWriteItem) error {
					return &idempotency.ConditionFailedError{Index: 0, Err: errors.New("exists")}
				})
			}
			guard := newGuard(t, idempotency.Config{Store: store})
			obs := &recorder{}
			h := handler.MustNewSQSTx(func(_ context.Context, m handler.Message[order]) (idempotency.Tx[int], error) {
				return idempotency.Tx[int]{Writes: []types.TransactWriteItem{orderPut(m.Body.ID)}, ConditionFailed: tt.mapper}, nil
			}, func(context.Context, handler.Message[order], int) error { return tt.thenErr },
				handler.SQSConfig{Client: client, Idempotency: guard, Key: handler.KeyJSONField("order_id"), Observer: obs, Logger: discard})
			if _, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("o-1")})); err != nil {
				t.Fatal(err)
			}
			if got := obs.outcomes()["m1"]; got != tt.want {
				t.Errorf("outcome %s, want %s (error %v)", got, tt.want, obs.report("m1").Err)
			}
			if diff := cmp.Diff(tt.wantCommitted, committed(store)); diff != "" {
				t.Errorf("committed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSQSTxBadConfig(t *testing.T) {
	t.Parallel()
	fn := func(context.Context, handler.Message[string]) (idempotency.Tx[int], error) {
		return idempotency.Tx[int]{}, nil
	}
	plain := newGuard(t, idempotency.Config{Store: struct{ idempotency.Store }{idempotency.NewMemoryStore()}})
	for _, tc := range []struct {
		name    string
		fn      func(context.Context, handler.Message[string]) (idempotency.Tx[int], error)
		cfg     handler.SQSConfig
		wantErr error
	}{
		{name: "no guard", fn: fn, cfg: handler.SQSConfig{Client: newFakeSQS()}},
		{name: "a store without transactions", fn: fn, cfg: handler.SQSConfig{Client: newFakeSQS(), Idempotency: plain, Key: handler.KeyMessageID}, wantErr: idempotency.ErrNoTxStore},
		{name: "no function", cfg: handler.SQSConfig{Client: newFakeSQS(), Idempotency: memoryGuard(t), Key: handler.KeyMessageID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := handler.NewSQSTx(tc.fn, nil, tc.cfg)
			if h != nil || !errors.Is(err, handler.ErrSQSConfig) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Errorf("error %v, want ErrSQSConfig", err)
			}
		})
	}
}

func TestScheduleTx(t *testing.T) {
	t.Parallel()
	store := idempotency.NewMemoryStore()
	guard := newGuard(t, idempotency.Config{Store: store, Namespace: "test"})
	var obs *recorder
	run := func(payload string) handler.Outcome {
		obs = &recorder{}
		h := handler.MustNewScheduleTx(func(_ context.Context, tick handler.Tick) (idempotency.Tx[string], error) {
			return idempotency.Tx[string]{Value: tick.Key(), Writes: []types.TransactWriteItem{orderPut("report-" + tick.Key())}}, nil
		}, handler.ScheduleConfig{Idempotency: guard, Observer: obs, Logger: discard})
		if _, err := h(context.Background(), json.RawMessage(payload)); err != nil {
			t.Fatal(err)
		}
		for _, o := range obs.outcomes() {
			return o
		}
		return ""
	}
	// The same tick by a rule and by Scheduler.
	outcomes := []handler.Outcome{run(ruleEvent), run(schedulerTick)}
	if diff := cmp.Diff([]handler.Outcome{handler.Succeeded, handler.Duplicate}, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if n := len(committed(store)); n != 1 {
		t.Errorf("%d reports committed, want 1", n)
	}

	h, err := handler.NewScheduleTx(func(context.Context, handler.Tick) (idempotency.Tx[int], error) { return idempotency.Tx[int]{}, nil },
		handler.ScheduleConfig{})
	if h != nil || !errors.Is(err, handler.ErrScheduleConfig) {
		t.Errorf("without a guard: %v, want ErrScheduleConfig", err)
	}
}
