//go:build integration

package idempotency_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// tableEffects is an effects table in DynamoDB Local.
type tableEffects struct {
	stack *emulator.Env
	name  string
}

func newTableEffects(t testing.TB, stack *emulator.Env) *tableEffects {
	return &tableEffects{stack: stack, name: stack.TableWith(t, emulator.TableSpec{TTLAttribute: "-"})}
}

func (fx *tableEffects) table() string { return fx.name }

func (fx *tableEffects) has(t *testing.T, id string) bool {
	t.Helper()
	out, err := fx.stack.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(fx.name),
		Key:            map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Item) > 0
}

func TestDynamoDBStoreTxSemantics(t *testing.T) {
	t.Parallel()
	stack := emulator.New(t)
	store, _ := dynamoStore(t, stack, idempotency.DynamoDBConfig{})
	fx := newTableEffects(t, stack)
	testTxStoreSemantics(t, store, fx)

	t.Run("a request sent again with its token is answered as committed", func(t *testing.T) {
		t.Parallel()
		// What the SDK's retryer does when a committed request's answer is
		// lost: the same input, so the same ClientRequestToken. A token of
		// this run only: DynamoDB remembers one for 10 minutes, and a run
		// against the same stack a minute ago sent it with another table.
		run := rand.Text()
		c := idempotency.TxCommit{
			KeyHash: "ns#token-retry", Owner: "A", Token: "A-" + run,
			Now: time.Now(), Expiry: time.Now().Add(time.Hour), Data: []byte(`1`),
			Writes: []types.TransactWriteItem{put(fx, "token-retry")},
		}
		for i := range 2 {
			if held, err := store.CommitTx(context.Background(), c); held != nil || err != nil {
				t.Fatalf("send %d = %+v, %v; want committed both times", i, held, err)
			}
		}
		c.Token = "B-" + run
		if held, err := store.CommitTx(context.Background(), c); err != nil || held == nil || held.Owner != "A" {
			t.Fatalf("a new token = %+v, %v; want the record held", held, err)
		}
	})

	t.Run("a request sent again without a token finds its own record", func(t *testing.T) {
		t.Parallel()
		// What the SDK's retryer does when a committed request's answer is
		// lost, as Transact sends it when a record is in the transaction:
		// no token. The second send is cancelled on the record, and the
		// record it returns is the first's, by its owner token.
		c := idempotency.TxCommit{
			KeyHash: "ns#owner-retry", Owner: "A",
			Now: time.Now(), Expiry: time.Now().Add(time.Hour), Data: []byte(`1`),
			Writes: []types.TransactWriteItem{put(fx, "owner-retry")},
		}
		if held, err := store.CommitTx(context.Background(), c); held != nil || err != nil {
			t.Fatalf("first send = %+v, %v; want committed", held, err)
		}
		if held, err := store.CommitTx(context.Background(), c); err != nil || held == nil || held.Owner != "A" || string(held.Data) != "1" {
			t.Fatalf("second send = %+v, %v; want the record held by owner A", held, err)
		}
	})

	t.Run("a write on the record's own item is refused before the call", func(t *testing.T) {
		t.Parallel()
		s, calls := dynamoStore(t, stack, idempotency.DynamoDBConfig{})
		key := "ns#own-item"
		_, err := s.CommitTx(context.Background(), idempotency.TxCommit{
			KeyHash: key, Owner: "A", Token: "A",
			Writes: []types.TransactWriteItem{{Delete: &types.Delete{
				TableName: aws.String(s.Table()),
				Key:       map[string]types.AttributeValue{idempotency.DefaultPartitionKey: &types.AttributeValueMemberS{Value: key}},
			}}},
		})
		var it *idempotency.InvalidTransactionError
		if !errors.As(err, &it) || it.Index != 0 {
			t.Fatalf("error %v, want *InvalidTransactionError at write 0", err)
		}
		if n := calls.take(); len(n) != 0 {
			t.Errorf("calls %v, want none", n)
		}
	})
}

// TestDynamoDBTransactCalls: a first call and a duplicate cost one
// TransactWriteItems each, a cached duplicate nothing, counted by an SDK
// middleware; the effect is in its table once.
func TestDynamoDBTransactCalls(t *testing.T) {
	t.Parallel()
	stack := emulator.New(t)
	store, calls := dynamoStore(t, stack, idempotency.DynamoDBConfig{})
	fx := newTableEffects(t, stack)
	ctx := context.Background()
	key := idempotency.Key{ID: "order-7", Payload: []byte(`{"amount":7}`)}
	call := func(g *idempotency.Guard, value, id string) idempotency.Result[string] {
		t.Helper()
		res, err := idempotency.Transact(ctx, g, key, func(context.Context) (idempotency.Tx[string], error) {
			return idempotency.Tx[string]{Value: value, Writes: []types.TransactWriteItem{put(fx, id)}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	cold := guardOn(t, store, nil, idempotency.Config{})
	warm := guardOn(t, store, nil, idempotency.Config{CacheSize: 8})
	steps := []struct {
		name      string
		g         *idempotency.Guard
		value, id string
		want      idempotency.Result[string]
		calls     map[string]int
	}{
		{name: "first", g: cold, value: "v1", id: "e1", want: idempotency.Result[string]{Value: "v1"}, calls: map[string]int{"TransactWriteItems": 1}},
		{name: "duplicate", g: warm, value: "v2", id: "e2", want: idempotency.Result[string]{Value: "v1", Replayed: true}, calls: map[string]int{"TransactWriteItems": 1}},
		{name: "cached duplicate", g: warm, value: "v3", id: "e3", want: idempotency.Result[string]{Value: "v1", Replayed: true}, calls: map[string]int{}},
	}
	for _, st := range steps {
		res := call(st.g, st.value, st.id)
		res.KeyHash = ""
		if diff := cmp.Diff(st.want, res); diff != "" {
			t.Errorf("%s: result (-want +got):\n%s", st.name, diff)
		}
		if diff := cmp.Diff(st.calls, calls.take()); diff != "" {
			t.Errorf("%s: calls (-want +got):\n%s", st.name, diff)
		}
	}
	for id, want := range map[string]bool{"e1": true, "e2": false, "e3": false} {
		if got := fx.has(t, id); got != want {
			t.Errorf("effect %s exists = %t, want %t", id, got, want)
		}
	}
	r, ok, err := store.Get(ctx, cold.KeyHash(key.ID))
	if err != nil || !ok || r.Status != idempotency.StatusCompleted || string(r.Data) != `"v1"` || !r.LockExpiry.IsZero() {
		t.Errorf("record %+v, %t, %v; want COMPLETED with the first result, no lock", r, ok, err)
	}
}

// TestDynamoDBTransactConcurrent: 120 first calls of one key, each with its
// own guard, all computing a different effect. Exactly one effect is
// committed, with the record, and every caller returns that winner's result.
func TestDynamoDBTransactConcurrent(t *testing.T) {
	t.Parallel()
	const callers = 120
	stack := emulator.New(t)
	store, calls := dynamoStore(t, stack, idempotency.DynamoDBConfig{})
	fx := newTableEffects(t, stack)
	key := idempotency.Key{ID: "order-race"}
	results := make([]idempotency.Result[string], callers)
	errs := make([]error, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		g := guardOn(t, store, nil, idempotency.Config{})
		wg.Go(func() {
			<-start
			results[i], errs[i] = idempotency.Transact(context.Background(), g, key, func(context.Context) (idempotency.Tx[string], error) {
				return idempotency.Tx[string]{Value: strconv.Itoa(i), Writes: []types.TransactWriteItem{put(fx, "e"+strconv.Itoa(i))}}, nil
			})
		})
	}
	close(start)
	wg.Wait()
	fresh, winner, conflicts := 0, "", 0
	for i, r := range results {
		switch {
		case errors.Is(errs[i], idempotency.ErrTransactionConflict):
			// Retryable, and nothing of it committed: checked below.
			conflicts++
			continue
		case errs[i] != nil:
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if !r.Replayed {
			fresh++
			winner = r.Value
		}
	}
	if fresh != 1 {
		t.Fatalf("%d fresh results, want 1", fresh)
	}
	for i, r := range results {
		if errs[i] == nil && r.Value != winner {
			t.Errorf("caller %d got %q, want the winner's %q", i, r.Value, winner)
		}
	}
	items := stack.Items(t, fx.name)
	if len(items) != 1 {
		t.Fatalf("%d effect items, want 1", len(items))
	}
	if id, _ := emulator.Scalar(items[0]["id"]); id != "e"+winner {
		t.Errorf("effect %s committed, want the winner's e%s", id, winner)
	}
	n := calls.take()
	t.Logf("%d callers: %d TransactWriteItems calls, %d gave up on conflicts", callers, n["TransactWriteItems"], conflicts)
	if conflicts > callers/10 {
		t.Errorf("%d of %d callers gave up on transaction conflicts; want the retries to absorb them", conflicts, callers)
	}
}

// TestDynamoDBTransactUserCondition: a transaction cancelled by the user's
// own condition leaves neither the effect nor the record, and a later call
// whose condition holds commits both.
func TestDynamoDBTransactUserCondition(t *testing.T) {
	t.Parallel()
	stack := emulator.New(t)
	store, _ := dynamoStore(t, stack, idempotency.DynamoDBConfig{})
	fx := newTableEffects(t, stack)
	ctx := context.Background()
	g := guardOn(t, store, nil, idempotency.Config{})
	key := idempotency.Key{ID: "order-cond"}
	fn := func(context.Context) (idempotency.Tx[int], error) {
		check := mustExist(fx, "customer")
		check.ConditionCheck.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
		return idempotency.Tx[int]{Value: 1, Writes: []types.TransactWriteItem{put(fx, "order"), check}}, nil
	}
	_, err := idempotency.Transact(ctx, g, key, fn)
	var cf *idempotency.ConditionFailedError
	if !errors.As(err, &cf) || cf.Index != 1 || cf.KeyHash != g.KeyHash(key.ID) {
		t.Fatalf("error %v, want *ConditionFailedError at write 1", err)
	}
	if _, ok, _ := store.Get(ctx, g.KeyHash(key.ID)); ok || fx.has(t, "order") {
		t.Fatalf("record %t, effect %t after a cancelled transaction; want neither", ok, fx.has(t, "order"))
	}
	if _, err := stack.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(fx.name),
		Item:      map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "customer"}},
	}); err != nil {
		t.Fatal(err)
	}
	if res, err := idempotency.Transact(ctx, g, key, fn); err != nil || res.Replayed || !fx.has(t, "order") {
		t.Fatalf("= %+v, %v; want the retry committed", res, err)
	}
	if r, ok, _ := store.Get(ctx, g.KeyHash(key.ID)); !ok || r.Status != idempotency.StatusCompleted {
		t.Errorf("record %+v, want COMPLETED", r)
	}
}
