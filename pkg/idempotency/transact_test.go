package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/idempotency"
)

// txEnv is a guard on a memory store whose commits apply to an effects
// model, with a fake clock and call counts.
type txEnv struct {
	*env
	fx *memoryEffects
}

func newTxEnv(t *testing.T, cfg idempotency.Config) *txEnv {
	t.Helper()
	e := newEnv(t, cfg)
	return &txEnv{env: e, fx: newMemoryEffects(e.store)}
}

// transact calls Transact with a function that puts the effect item id and
// returns value; ran says whether the function ran.
func (e *txEnv) transact(ctx context.Context, key idempotency.Key, value, id string) (idempotency.Result[string], bool, error) {
	ran := false
	res, err := idempotency.Transact(ctx, e.guard, key, func(context.Context) (idempotency.Tx[string], error) {
		ran = true
		return idempotency.Tx[string]{Value: value, Writes: []types.TransactWriteItem{put(e.fx, id)}}, nil
	})
	return res, ran, err
}

func TestTransact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newTxEnv(t, idempotency.Config{})
	// elsewhere is another process's guard on the same store: it has not
	// seen the key, so it predicts nothing.
	elsewhere := func() *idempotency.Guard {
		return idempotency.MustNewGuard(idempotency.Config{Store: e.count, Namespace: "test", Now: e.clock.Now})
	}
	k := idempotency.Key{ID: "order-1", Payload: []byte("p")}
	other := idempotency.Key{ID: "order-1", Payload: []byte("q")}
	steps := []struct {
		name          string
		g             *idempotency.Guard
		key           idempotency.Key
		value, id     string
		want          idempotency.Result[string]
		wantErr       error
		wantRan       bool
		wantEffect    bool // the step's effect item exists after it
		commits, gets int64
	}{
		{name: "first call commits effect and record in one call", g: e.guard, key: k, value: "v1", id: "e1", want: idempotency.Result[string]{Value: "v1"}, wantRan: true, wantEffect: true, commits: 1},
		{name: "unpredicted duplicate computes, commits nothing, replays in one call", g: elsewhere(), key: k, value: "v2", id: "e2", want: idempotency.Result[string]{Value: "v1", Replayed: true}, wantRan: true, commits: 2},
		{name: "duplicate of a key this guard committed is one read and does not compute", g: e.guard, key: k, value: "v2", id: "e2", want: idempotency.Result[string]{Value: "v1", Replayed: true}, commits: 2, gets: 1},
		{name: "predicted duplicate with another payload is refused after the read", g: e.guard, key: other, value: "v3", id: "e3", wantErr: idempotency.ErrPayloadMismatch, commits: 2, gets: 2},
		{name: "unpredicted duplicate with another payload is refused", g: elsewhere(), key: other, value: "v3", id: "e3", wantErr: idempotency.ErrPayloadMismatch, wantRan: true, commits: 3, gets: 2},
	}
	for _, st := range steps {
		ran := false
		res, err := idempotency.Transact(ctx, st.g, st.key, func(context.Context) (idempotency.Tx[string], error) {
			ran = true
			return idempotency.Tx[string]{Value: st.value, Writes: []types.TransactWriteItem{put(e.fx, st.id)}}, nil
		})
		if !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
			t.Fatalf("%s: error %v, want %v", st.name, err, st.wantErr)
		}
		res.KeyHash = ""
		if diff := cmp.Diff(st.want, res); diff != "" {
			t.Errorf("%s: result (-want +got):\n%s", st.name, diff)
		}
		if ran != st.wantRan || e.fx.has(t, st.id) != st.wantEffect {
			t.Errorf("%s: ran %t, effect %t; want %t, %t", st.name, ran, e.fx.has(t, st.id), st.wantRan, st.wantEffect)
		}
		if c, g := e.count.commits.Load(), e.count.gets.Load(); c != st.commits || g != st.gets {
			t.Errorf("%s: %d commits, %d reads; want %d, %d", st.name, c, g, st.commits, st.gets)
		}
	}
	if got := e.count.counts(); got != (callCounts{}) {
		t.Errorf("claim/complete/release calls %+v, want none", got)
	}
	r := e.record(t, "order-1")
	if r == nil || r.Status != idempotency.StatusCompleted || string(r.Data) != `"v1"` || r.Validation != sha256Hex("p") {
		t.Errorf("record %+v, want COMPLETED with the first result and payload hash", r)
	}

	t.Run("cached duplicate costs nothing and does not compute", func(t *testing.T) {
		t.Parallel()
		e := newTxEnv(t, idempotency.Config{CacheSize: 4})
		if _, _, err := e.transact(ctx, k, "v1", "c1"); err != nil {
			t.Fatal(err)
		}
		res, ran, err := e.transact(ctx, k, "v2", "c2")
		if err != nil || ran || res.Value != "v1" || !res.Replayed || e.count.commits.Load() != 1 {
			t.Errorf("= %+v, %v, ran %t, %d commits; want the cached result, no call", res, err, ran, e.count.commits.Load())
		}
		if _, _, err := e.transact(ctx, idempotency.Key{ID: "order-1", Payload: []byte("q")}, "", "c3"); !errors.Is(err, idempotency.ErrPayloadMismatch) {
			t.Errorf("cached mismatch: %v", err)
		}
	})

	t.Run("a key held by Do is in progress", func(t *testing.T) {
		t.Parallel()
		e := newTxEnv(t, idempotency.Config{})
		claimSeed(t, e.store, e.guard.KeyHash("busy"), t0.Add(time.Minute), "")
		_, _, err := e.transact(ctx, idempotency.Key{ID: "busy"}, "v", "b1")
		var ip *idempotency.InProgressError
		if !errors.As(err, &ip) || !ip.RetryAt().Equal(t0.Add(time.Minute)) || e.fx.has(t, "b1") {
			t.Errorf("error %v, effect %t; want *InProgressError until the lock dies and no effect", err, e.fx.has(t, "b1"))
		}
	})

	t.Run("the function's error writes nothing", func(t *testing.T) {
		t.Parallel()
		e := newTxEnv(t, idempotency.Config{})
		boom := errors.New("boom")
		_, err := idempotency.Transact(ctx, e.guard, k, func(context.Context) (idempotency.Tx[string], error) {
			return idempotency.Tx[string]{Writes: []types.TransactWriteItem{put(e.fx, "f1")}}, boom
		})
		if err != boom || e.record(t, "order-1") != nil || e.fx.has(t, "f1") || e.count.commits.Load() != 0 {
			t.Errorf("error %v: want the function's error as is, nothing written, no call", err)
		}
	})

	t.Run("a result that cannot be encoded writes nothing", func(t *testing.T) {
		t.Parallel()
		e := newTxEnv(t, idempotency.Config{})
		_, err := idempotency.Transact(ctx, e.guard, k, func(context.Context) (idempotency.Tx[func()], error) {
			return idempotency.Tx[func()]{Value: func() {}, Writes: []types.TransactWriteItem{put(e.fx, "n1")}}, nil
		})
		var p permanent
		if !errors.As(err, &p) || !p.Permanent() || e.record(t, "order-1") != nil || e.fx.has(t, "n1") {
			t.Errorf("error %v: want a permanent error and nothing written", err)
		}
	})

	t.Run("missing key with AllowMissingKey commits the writes without a record", func(t *testing.T) {
		t.Parallel()
		e := newTxEnv(t, idempotency.Config{AllowMissingKey: true})
		res, ran, err := e.transact(ctx, idempotency.Key{}, "v", "m1")
		if err != nil || !ran || res.Value != "v" || !e.fx.has(t, "m1") {
			t.Errorf("= %+v, %v, ran %t; want the effect committed", res, err, ran)
		}
		e2 := newTxEnv(t, idempotency.Config{})
		if _, ran, err := e2.transact(ctx, idempotency.Key{}, "v", "m2"); !errors.Is(err, idempotency.ErrNoKey) || ran {
			t.Errorf("without AllowMissingKey: %v, ran %t; want ErrNoKey before running", err, ran)
		}
	})

	t.Run("a context already done is a store error before running", func(t *testing.T) {
		t.Parallel()
		e := newTxEnv(t, idempotency.Config{})
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, ran, err := e.transact(cctx, k, "v", "x1")
		var se *idempotency.StoreError
		if !errors.As(err, &se) || !errors.Is(err, context.Canceled) || ran {
			t.Errorf("error %v, ran %t; want *StoreError wrapping context.Canceled", err, ran)
		}
	})

	t.Run("a store without TxStore is a permanent wiring error", func(t *testing.T) {
		t.Parallel()
		g, err := idempotency.NewGuard(idempotency.Config{Store: struct{ idempotency.Store }{idempotency.NewMemoryStore()}})
		if err != nil {
			t.Fatal(err)
		}
		ran := false
		_, err = idempotency.Transact(ctx, g, k, func(context.Context) (idempotency.Tx[int], error) {
			ran = true
			return idempotency.Tx[int]{}, nil
		})
		var p permanent
		if !errors.Is(err, idempotency.ErrNoTxStore) || !errors.As(err, &p) || ran {
			t.Errorf("error %v, ran %t; want permanent ErrNoTxStore before running", err, ran)
		}
	})
}

// TestTransactPredicted: a call predicted to be a duplicate (a context
// marked with ExpectDuplicate, or a key its guard has seen held) reads the
// record first; what each outcome of that read costs and returns.
func TestTransactPredicted(t *testing.T) {
	t.Parallel()
	expect := idempotency.ExpectDuplicate(context.Background())
	k := idempotency.Key{ID: "order-1", Payload: []byte("p")}
	tests := []struct {
		name          string
		setup         func(t *testing.T, e *txEnv) // before the call, through other guards
		ctx           context.Context
		key           idempotency.Key
		want          idempotency.Result[string]
		wantErr       error
		wantRan       bool
		commits, gets int64
	}{
		{
			name: "a marked redelivery of a committed key is one read, no run",
			setup: func(t *testing.T, e *txEnv) {
				commitElsewhere(t, e, k, "v1")
			},
			ctx: expect, key: k, want: idempotency.Result[string]{Value: "v1", Replayed: true}, commits: 1, gets: 1,
		},
		{
			name: "a marked call of a new key pays the read, then commits",
			ctx:  expect, key: k, want: idempotency.Result[string]{Value: "mine"}, wantRan: true, commits: 1, gets: 1,
		},
		{
			name: "a marked call of a key held by Do is in progress after the read",
			setup: func(t *testing.T, e *txEnv) {
				claimSeed(t, e.store, e.guard.KeyHash(k.ID), t0.Add(time.Minute), "")
			},
			ctx: expect, key: k, wantErr: idempotency.ErrInProgress, gets: 1,
		},
		{
			name: "a marked call whose record expired reads, then commits over it",
			setup: func(t *testing.T, e *txEnv) {
				commitElsewhere(t, e, k, "old")
				e.clock.Advance(2 * time.Hour)
			},
			ctx: expect, key: k, want: idempotency.Result[string]{Value: "mine"}, wantRan: true, commits: 2, gets: 1,
		},
		{
			name: "a marked call with another payload is refused after the read",
			setup: func(t *testing.T, e *txEnv) {
				commitElsewhere(t, e, k, "v1")
			},
			ctx: expect, key: idempotency.Key{ID: "order-1", Payload: []byte("q")}, wantErr: idempotency.ErrPayloadMismatch, commits: 1, gets: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTxEnv(t, idempotency.Config{})
			if tt.setup != nil {
				tt.setup(t, e)
			}
			ran := false
			res, err := idempotency.Transact(tt.ctx, e.guard, tt.key, func(context.Context) (idempotency.Tx[string], error) {
				ran = true
				return idempotency.Tx[string]{Value: "mine", Writes: []types.TransactWriteItem{put(e.fx, "mine")}}, nil
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			res.KeyHash = ""
			if diff := cmp.Diff(tt.want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if ran != tt.wantRan || e.fx.has(t, "mine") != (tt.want.Value == "mine") {
				t.Errorf("ran %t, effect %t; want ran %t, effect only with our own result", ran, e.fx.has(t, "mine"), tt.wantRan)
			}
			if c, g := e.count.commits.Load(), e.count.gets.Load(); c != tt.commits || g != tt.gets {
				t.Errorf("%d commits, %d reads; want %d, %d", c, g, tt.commits, tt.gets)
			}
		})
	}

	t.Run("a failed read is a store error, and nothing runs", func(t *testing.T) {
		t.Parallel()
		down := errors.New("connection reset")
		e := newEnv(t, idempotency.Config{Store: &faultyStore{Store: idempotency.NewMemoryStore(), getErr: down}})
		ran := false
		_, err := idempotency.Transact(expect, e.guard, k, func(context.Context) (idempotency.Tx[string], error) {
			ran = true
			return idempotency.Tx[string]{}, nil
		})
		var se *idempotency.StoreError
		if !errors.As(err, &se) || !errors.Is(err, down) || ran {
			t.Errorf("error %v, ran %t; want a *StoreError with the read's error, before running", err, ran)
		}
	})
}

// commitElsewhere commits key with value through a guard of its own on e's
// store (counted as one commit), as another container would.
func commitElsewhere(t *testing.T, e *txEnv, key idempotency.Key, value string) {
	t.Helper()
	g := idempotency.MustNewGuard(idempotency.Config{Store: e.count, Namespace: "test", Now: e.clock.Now})
	if _, err := idempotency.Transact(context.Background(), g, key, func(context.Context) (idempotency.Tx[string], error) {
		return idempotency.Tx[string]{Value: value}, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestTransactConditionFailed: a failed condition of the user's own writes
// commits nothing, the record included; it is retryable unless the
// function's ConditionFailed says otherwise.
func TestTransactConditionFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	permanentErr := &permanentTestError{"order exists with other contents"}
	tests := []struct {
		name          string
		mapper        func(*idempotency.ConditionFailedError) error
		wantPermanent bool
	}{
		{name: "default is retryable"},
		{name: "nil from the mapper keeps the default", mapper: func(*idempotency.ConditionFailedError) error { return nil }},
		{name: "the mapper decides", mapper: func(*idempotency.ConditionFailedError) error { return permanentErr }, wantPermanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTxEnv(t, idempotency.Config{})
			key := idempotency.Key{ID: "k", Display: "order k"}
			var seen *idempotency.ConditionFailedError
			_, err := idempotency.Transact(ctx, e.guard, key, func(context.Context) (idempotency.Tx[int], error) {
				return idempotency.Tx[int]{
					Value:  1,
					Writes: []types.TransactWriteItem{put(e.fx, "c1"), mustExist(e.fx, "absent")},
					ConditionFailed: func(err *idempotency.ConditionFailedError) error {
						seen = err
						if tt.mapper == nil {
							return nil
						}
						return tt.mapper(err)
					},
				}, nil
			})
			if e.record(t, "k") != nil || e.fx.has(t, "c1") {
				t.Fatal("something was committed")
			}
			if seen == nil || seen.Index != 1 || seen.KeyHash != e.guard.KeyHash("k") || seen.KeyDisplay != "order k" {
				t.Errorf("ConditionFailed saw %+v, want write 1 with the key", seen)
			}
			var p permanent
			isPermanent := errors.As(err, &p) && p.Permanent()
			if isPermanent != tt.wantPermanent {
				t.Errorf("error %v: permanent %t, want %t", err, isPermanent, tt.wantPermanent)
			}
			if !tt.wantPermanent && (!errors.Is(err, idempotency.ErrConditionFailed) || !strings.Contains(err.Error(), `"order k"`)) {
				t.Errorf("error %v: want ErrConditionFailed naming the key", err)
			}
		})
	}
}

type permanentTestError struct{ msg string }

func (e *permanentTestError) Error() string   { return e.msg }
func (e *permanentTestError) Permanent() bool { return true }

// TestTransactInvalid: what DynamoDB would refuse is refused before any
// call, permanently, with the offending write named.
func TestTransactInvalid(t *testing.T) {
	t.Parallel()
	key := func(id string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}
	}
	tbl := aws.String("effects")
	puts := func(n int) []types.TransactWriteItem {
		w := make([]types.TransactWriteItem, n)
		for i := range w {
			w[i] = types.TransactWriteItem{Put: &types.Put{TableName: tbl, Item: key(strconv.Itoa(i))}}
		}
		return w
	}
	big := &types.AttributeValueMemberS{Value: strings.Repeat("x", 300*1024)}
	tests := []struct {
		name      string
		writes    []types.TransactWriteItem
		value     string
		wantIndex int
		wantIn    string
	}{
		{name: "too many items", writes: puts(idempotency.MaxTxItems), wantIndex: -1, wantIn: "more than the 100"},
		{
			name: "two operations in one write",
			writes: []types.TransactWriteItem{{
				Put:    &types.Put{TableName: tbl, Item: key("a")},
				Delete: &types.Delete{TableName: tbl, Key: key("b")},
			}},
			wantIndex: 0, wantIn: "2 operations",
		},
		{name: "no operation", writes: []types.TransactWriteItem{{}}, wantIndex: 0, wantIn: "0 operations"},
		{name: "no table", writes: []types.TransactWriteItem{{Delete: &types.Delete{Key: key("a")}}}, wantIndex: 0, wantIn: "no table"},
		{
			name: "two operations on one key",
			writes: []types.TransactWriteItem{
				{Update: &types.Update{TableName: tbl, Key: key("a"), UpdateExpression: aws.String("SET n = :n")}},
				{Put: &types.Put{TableName: tbl, Item: key("b")}},
				{ConditionCheck: &types.ConditionCheck{TableName: tbl, Key: key("a"), ConditionExpression: aws.String("attribute_exists(id)")}},
			},
			wantIndex: 2, wantIn: "item of write 0",
		},
		{
			name: "a put on the item of a keyed operation",
			writes: []types.TransactWriteItem{
				{Delete: &types.Delete{TableName: tbl, Key: key("a")}},
				{Put: &types.Put{TableName: tbl, Item: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}, "n": &types.AttributeValueMemberN{Value: "1"}}}},
			},
			wantIndex: 1, wantIn: "item of write 0",
		},
		{
			name: "more than 4 MB",
			writes: func() []types.TransactWriteItem {
				w := puts(14)
				for i := range w {
					w[i].Put.Item["blob"] = big
				}
				return w
			}(),
			wantIndex: -1, wantIn: "more than the 4194304",
		},
		{name: "a result too large for its record", value: strings.Repeat("y", idempotency.MaxItemSize), wantIndex: -1, wantIn: "bytes a record can hold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTxEnv(t, idempotency.Config{})
			_, err := idempotency.Transact(context.Background(), e.guard, idempotency.Key{ID: "k"}, func(context.Context) (idempotency.Tx[string], error) {
				return idempotency.Tx[string]{Value: tt.value, Writes: tt.writes}, nil
			})
			var it *idempotency.InvalidTransactionError
			if !errors.As(err, &it) || it.Index != tt.wantIndex || !strings.Contains(it.Error(), tt.wantIn) || it.KeyHash != e.guard.KeyHash("k") {
				t.Fatalf("error %v, want *InvalidTransactionError at write %d saying %q", err, tt.wantIndex, tt.wantIn)
			}
			var p permanent
			if !errors.As(err, &p) || !p.Permanent() {
				t.Error("not permanent")
			}
			if e.count.commits.Load() != 0 && tt.value == "" {
				t.Errorf("%d commits, want none", e.count.commits.Load())
			}
			if e.record(t, "k") != nil {
				t.Error("record written")
			}
		})
	}
	t.Run("99 writes and the record fit", func(t *testing.T) {
		t.Parallel()
		e := newTxEnv(t, idempotency.Config{})
		_, err := idempotency.Transact(context.Background(), e.guard, idempotency.Key{ID: "k"}, func(context.Context) (idempotency.Tx[int], error) {
			return idempotency.Tx[int]{Writes: puts(idempotency.MaxTxItems - 1)}, nil
		})
		if err != nil || !e.fx.has(t, "98") {
			t.Errorf("error %v, want all 99 committed", err)
		}
	})
}

// TestTransactConflicts: a transaction conflict is retried a few times; one
// that persists is a retryable store error. A commit whose answer was lost
// is recognised by its owner when the retry finds its record.
func TestTransactConflicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conflict := &idempotency.StoreError{Op: "transact", Err: fmt.Errorf("%w: cancelled", idempotency.ErrTransactionConflict)}
	tests := []struct {
		name      string
		conflicts int
		wantErr   error
	}{
		{name: "retried until it commits", conflicts: 2},
		{name: "persistent conflict is retryable", conflicts: 10, wantErr: idempotency.ErrTransactionConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := idempotency.NewMemoryStore()
			fx := newMemoryEffects(mem)
			errs := make([]error, tt.conflicts)
			for i := range errs {
				errs[i] = conflict
			}
			e := newEnv(t, idempotency.Config{Store: &faultyStore{Store: mem, commitErrs: errs}})
			res, err := idempotency.Transact(ctx, e.guard, idempotency.Key{ID: "k"}, func(context.Context) (idempotency.Tx[string], error) {
				return idempotency.Tx[string]{Value: "v", Writes: []types.TransactWriteItem{put(fx, "e")}}, nil
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if errors.As(err, new(permanent)) || fx.has(t, "e") {
					t.Errorf("error %v: want retryable, nothing written", err)
				}
				return
			}
			if res.Value != "v" || res.Replayed || !fx.has(t, "e") {
				t.Errorf("= %+v; want committed", res)
			}
		})
	}

	t.Run("a lost answer of a commit is our own record", func(t *testing.T) {
		t.Parallel()
		mem := idempotency.NewMemoryStore()
		fx := newMemoryEffects(mem)
		e := newEnv(t, idempotency.Config{Store: &lostAnswerStore{MemoryStore: mem, err: conflict}})
		res, err := idempotency.Transact(ctx, e.guard, idempotency.Key{ID: "k"}, func(context.Context) (idempotency.Tx[string], error) {
			return idempotency.Tx[string]{Value: "mine", Writes: []types.TransactWriteItem{put(fx, "e")}}, nil
		})
		if err != nil || res.Value != "mine" || res.Replayed || !fx.has(t, "e") {
			t.Errorf("= %+v, %v; want our own commit, not a replay", res, err)
		}
	})
}

// lostAnswerStore commits the first transaction but answers with err, as a
// connection that drops after the server committed.
type lostAnswerStore struct {
	*idempotency.MemoryStore
	err  error
	once sync.Once
}

func (s *lostAnswerStore) CommitTx(ctx context.Context, c idempotency.TxCommit) (*idempotency.Record, error) {
	held, err := s.MemoryStore.CommitTx(ctx, c)
	lost := false
	s.once.Do(func() { lost = true })
	if lost && err == nil && held == nil {
		return nil, s.err
	}
	return held, err
}

// TestTransactConcurrent: 128 first calls of one key, each with its own
// guard (its own container), all compute; one commits and all others get its
// result.
func TestTransactConcurrent(t *testing.T) {
	t.Parallel()
	const callers = 128
	mem := idempotency.NewMemoryStore()
	fx := newMemoryEffects(mem)
	results := make([]idempotency.Result[string], callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		g, err := idempotency.NewGuard(idempotency.Config{Store: mem, Namespace: "race"})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			results[i], errs[i] = idempotency.Transact(context.Background(), g, idempotency.Key{ID: "k"}, func(context.Context) (idempotency.Tx[string], error) {
				return idempotency.Tx[string]{Value: strconv.Itoa(i), Writes: []types.TransactWriteItem{put(fx, "e"+strconv.Itoa(i))}}, nil
			})
		})
	}
	wg.Wait()
	fresh, winner := 0, ""
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if !r.Replayed {
			fresh++
			winner = r.Value
		}
	}
	effects := 0
	for i := range callers {
		if fx.has(t, "e"+strconv.Itoa(i)) {
			effects++
		}
	}
	if fresh != 1 || effects != 1 || !fx.has(t, "e"+winner) {
		t.Fatalf("%d fresh results, %d effects; want exactly one of each, the winner's", fresh, effects)
	}
	for i, r := range results {
		if r.Value != winner {
			t.Errorf("caller %d got %q, want the winner's %q", i, r.Value, winner)
		}
	}
}

// TestTransactApplied: a ConditionFailed that finds the effect in place
// (an earlier run whose record is gone) commits the record alone with the
// value it read, and the call succeeds; duplicates then replay that value.
func TestTransactApplied(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newTxEnv(t, idempotency.Config{})
	fn := func(context.Context) idempotency.Tx[int] {
		return idempotency.Tx[int]{
			Value:  1,
			Writes: []types.TransactWriteItem{put(e.fx, "c1"), mustExist(e.fx, "absent")},
			ConditionFailed: func(*idempotency.ConditionFailedError) error {
				return idempotency.Applied(7)
			},
		}
	}
	res, err := idempotency.Transact(ctx, e.guard, idempotency.Key{ID: "k"}, func(ctx context.Context) (idempotency.Tx[int], error) { return fn(ctx), nil })
	if err != nil || res.Value != 7 || res.Replayed {
		t.Fatalf("= %+v, %v; want the applied value, fresh", res, err)
	}
	if r := e.record(t, "k"); r == nil || r.Status != idempotency.StatusCompleted || string(r.Data) != "7" || e.fx.has(t, "c1") {
		t.Errorf("record %+v, effect %t; want COMPLETED with 7 and no new effect", r, e.fx.has(t, "c1"))
	}
	res, err = idempotency.Transact(ctx, e.guard, idempotency.Key{ID: "k"}, func(ctx context.Context) (idempotency.Tx[int], error) { return fn(ctx), nil })
	if err != nil || res.Value != 7 || !res.Replayed {
		t.Errorf("duplicate = %+v, %v; want 7 replayed", res, err)
	}
}
