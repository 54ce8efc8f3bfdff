package idempotency_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/idempotency"
)

// txInspectable is a TxStore whose records a test can read back.
type txInspectable interface {
	idempotency.TxStore
	Get(ctx context.Context, key string) (idempotency.Record, bool, error)
}

var (
	_ txInspectable = (*idempotency.MemoryStore)(nil)
	_ txInspectable = (*idempotency.DynamoDBStore)(nil)
)

// effects is where the suite's writes land: a table with partition key "id"
// (DynamoDB) or its model (memory).
type effects interface {
	// table is the name the writes use.
	table() string
	// has reports whether the item with this id exists.
	has(t *testing.T, id string) bool
}

// put is a write that creates the effect item id.
func put(e effects, id string) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(e.table()),
		Item:      map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
	}}
}

// mustExist is a write whose condition fails unless the effect item id
// exists.
func mustExist(e effects, id string) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:           aws.String(e.table()),
		Key:                 map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
		ConditionExpression: aws.String("attribute_exists(id)"),
	}}
}

// testTxStoreSemantics runs the TxStore contract against a store. Times are
// real and in the future, as in testStoreSemantics.
func testTxStoreSemantics(t *testing.T, s txInspectable, fx effects) {
	base := time.Now().Add(time.Minute).Truncate(time.Second)
	exp := base.Add(time.Hour)
	lock := base.Add(30 * time.Second)

	commit := func(key, owner string, now time.Time, writes ...types.TransactWriteItem) idempotency.TxCommit {
		return idempotency.TxCommit{
			// A token per request: DynamoDB refuses one token for two
			// different requests.
			KeyHash: key, Owner: owner, Token: rand.Text(), Now: now, Expiry: exp,
			Validation: "v-" + key, Data: []byte(`"` + owner + `"`), Writes: writes,
		}
	}
	completed := func(key, owner string) *idempotency.Record {
		return &idempotency.Record{KeyHash: key, Status: idempotency.StatusCompleted, Expiry: exp, Owner: owner, Validation: "v-" + key, Data: []byte(`"` + owner + `"`)}
	}
	// seed is what is in the store before the commit under test.
	type seed int
	const (
		none seed = iota
		committed
		claimed
	)
	tests := []struct {
		name string
		seed seed
		now  time.Time // of the commit under test
		// the commit's writes, given the case's unique effect ids
		writes func(id string) []types.TransactWriteItem
		// want: the held record (nil: committed), the error, the record
		// after, and whether the effect item exists.
		wantHeld   func(key string) *idempotency.Record
		wantErr    error
		wantIndex  int
		wantRecord func(key string) *idempotency.Record
		wantEffect bool
	}{
		{
			name:       "commit on a free key writes record and effect",
			now:        base,
			writes:     func(id string) []types.TransactWriteItem { return []types.TransactWriteItem{put(fx, id)} },
			wantRecord: func(k string) *idempotency.Record { return completed(k, "B") },
			wantEffect: true,
		},
		{
			name:       "commit without writes writes the record",
			now:        base,
			writes:     func(string) []types.TransactWriteItem { return nil },
			wantRecord: func(k string) *idempotency.Record { return completed(k, "B") },
		},
		{
			name:       "commit on a completed record returns it and writes nothing",
			seed:       committed,
			now:        base.Add(time.Minute),
			writes:     func(id string) []types.TransactWriteItem { return []types.TransactWriteItem{put(fx, id)} },
			wantHeld:   func(k string) *idempotency.Record { return completed(k, "A") },
			wantRecord: func(k string) *idempotency.Record { return completed(k, "A") },
		},
		{
			name:   "commit on a live lock returns the holder and writes nothing",
			seed:   claimed,
			now:    lock,
			writes: func(id string) []types.TransactWriteItem { return []types.TransactWriteItem{put(fx, id)} },
			wantHeld: func(k string) *idempotency.Record {
				return &idempotency.Record{KeyHash: k, Status: idempotency.StatusInProgress, Expiry: exp, LockExpiry: lock, Owner: "A", Validation: "v-" + k}
			},
			wantRecord: func(k string) *idempotency.Record {
				return &idempotency.Record{KeyHash: k, Status: idempotency.StatusInProgress, Expiry: exp, LockExpiry: lock, Owner: "A", Validation: "v-" + k}
			},
		},
		{
			name:       "commit after the lock died takes the key",
			seed:       claimed,
			now:        lock.Add(time.Millisecond),
			writes:     func(id string) []types.TransactWriteItem { return []types.TransactWriteItem{put(fx, id)} },
			wantRecord: func(k string) *idempotency.Record { return completed(k, "B") },
			wantEffect: true,
		},
		{
			name:       "commit after the record expired takes the key",
			seed:       committed,
			now:        exp.Add(time.Second),
			writes:     func(id string) []types.TransactWriteItem { return []types.TransactWriteItem{put(fx, id)} },
			wantRecord: func(k string) *idempotency.Record { return completed(k, "B") },
			wantEffect: true,
		},
		{
			name: "a failed condition of a write commits nothing",
			now:  base,
			writes: func(id string) []types.TransactWriteItem {
				return []types.TransactWriteItem{put(fx, id), mustExist(fx, id+"-missing")}
			},
			wantErr:   idempotency.ErrConditionFailed,
			wantIndex: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			name := strings.ReplaceAll(tt.name, " ", "-")
			key, id := "ns#tx-"+name, "fx-"+name
			switch tt.seed {
			case committed:
				if held, err := s.CommitTx(ctx, commit(key, "A", base)); held != nil || err != nil {
					t.Fatalf("seed commit = %v, %v", held, err)
				}
			case claimed:
				c := idempotency.Claim{KeyHash: key, Owner: "A", Now: base, LockExpiry: lock, Expiry: exp, Validation: "v-" + key}
				if held, err := s.Claim(ctx, c); held != nil || err != nil {
					t.Fatalf("seed claim = %v, %v", held, err)
				}
			}
			held, err := s.CommitTx(ctx, commit(key, "B", tt.now, tt.writes(id)...))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("CommitTx error %v, want %v", err, tt.wantErr)
			}
			var cf *idempotency.ConditionFailedError
			if errors.As(err, &cf) && cf.Index != tt.wantIndex {
				t.Errorf("failed write index %d, want %d", cf.Index, tt.wantIndex)
			}
			var want *idempotency.Record
			if tt.wantHeld != nil {
				want = tt.wantHeld(key)
			}
			if diff := cmp.Diff(want, held); diff != "" {
				t.Errorf("held record (-want +got):\n%s", diff)
			}
			gotp := stored(ctx, t, s, key)
			want = nil
			if tt.wantRecord != nil {
				want = tt.wantRecord(key)
			}
			if diff := cmp.Diff(want, gotp); diff != "" {
				t.Errorf("stored record (-want +got):\n%s", diff)
			}
			if got := fx.has(t, id); got != tt.wantEffect {
				t.Errorf("effect item exists = %t, want %t", got, tt.wantEffect)
			}
		})
	}

	t.Run("no key writes the writes alone", func(t *testing.T) {
		t.Parallel()
		if held, err := s.CommitTx(context.Background(), idempotency.TxCommit{Writes: []types.TransactWriteItem{put(fx, "fx-no-key")}}); held != nil || err != nil {
			t.Fatalf("CommitTx = %v, %v", held, err)
		}
		if !fx.has(t, "fx-no-key") {
			t.Error("effect item missing")
		}
	})

	t.Run("a result too large for the record is refused before any write", func(t *testing.T) {
		t.Parallel()
		c := commit("ns#tx-too-large", "B", base, put(fx, "fx-too-large"))
		c.Data = bytes.Repeat([]byte("x"), idempotency.MaxItemSize)
		held, err := s.CommitTx(context.Background(), c)
		var it *idempotency.InvalidTransactionError
		if held != nil || !errors.As(err, &it) || !strings.Contains(it.Reason, "bytes a record can hold") {
			t.Fatalf("CommitTx = %v, %v; want *InvalidTransactionError about the record's size", held, err)
		}
		if _, ok, _ := s.Get(context.Background(), c.KeyHash); ok || fx.has(t, "fx-too-large") {
			t.Error("something was written")
		}
	})
}

// memoryEffects models the effects table for the memory store: its applier
// performs Puts and fails ConditionChecks on missing items.
type memoryEffects struct {
	mu    sync.Mutex
	items map[string]bool
}

// newMemoryEffects returns a MemoryStore whose transactions apply their
// writes to the returned model.
func newMemoryEffects() (*idempotency.MemoryStore, *memoryEffects) {
	fx := &memoryEffects{items: map[string]bool{}}
	return idempotency.NewMemoryStore(idempotency.MemoryConfig{TxApplier: fx.apply}), fx
}

func (fx *memoryEffects) table() string { return "effects" }

func (fx *memoryEffects) apply(_ context.Context, writes []types.TransactWriteItem) error {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	for i, w := range writes {
		if c := w.ConditionCheck; c != nil {
			if id := c.Key["id"].(*types.AttributeValueMemberS).Value; !fx.items[id] {
				return &idempotency.ConditionFailedError{Index: i, Err: errors.New("item " + id + " does not exist")}
			}
		}
	}
	for _, w := range writes {
		if p := w.Put; p != nil {
			fx.items[p.Item["id"].(*types.AttributeValueMemberS).Value] = true
		}
	}
	return nil
}

func (fx *memoryEffects) has(_ *testing.T, id string) bool {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	return fx.items[id]
}

func TestMemoryStoreTxSemantics(t *testing.T) {
	t.Parallel()
	mem, fx := newMemoryEffects()
	testTxStoreSemantics(t, mem, fx)
}
