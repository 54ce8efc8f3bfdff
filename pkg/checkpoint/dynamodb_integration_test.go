//go:build integration

package checkpoint_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

func TestDynamoDBStore(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	table := env.Table(t)
	testStoreSemantics(t, func(t *testing.T, now func() time.Time) checkpoint.Store {
		// One table, a prefix per case: checkpoints of different cases never
		// meet, which is also what makes sharing the idempotency table safe.
		s, err := checkpoint.NewDynamoDBStore(env.DynamoDB, checkpoint.DynamoDBConfig{
			Table: table, KeyPrefix: emulator.UniqueName(t, "cp") + "#", Now: now,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestNewDynamoDBStoreConfig(t *testing.T) {
	t.Parallel()
	if _, err := checkpoint.NewDynamoDBStore(nil, checkpoint.DynamoDBConfig{Table: "t"}); !errors.Is(err, checkpoint.ErrConfig) {
		t.Errorf("nil client: %v", err)
	}
	env := emulator.New(t)
	if _, err := checkpoint.NewDynamoDBStore(env.DynamoDB, checkpoint.DynamoDBConfig{}); !errors.Is(err, checkpoint.ErrConfig) {
		t.Errorf("no table: %v", err)
	}
	s := checkpoint.MustNewDynamoDBStore(env.DynamoDB, checkpoint.DynamoDBConfig{Table: "no-such-table-" + emulator.UniqueName(t, "x")})
	_, err := s.Acquire(context.Background(), "feed", time.Second)
	var se *checkpoint.StoreError
	if !errors.As(err, &se) || se.Op != "acquire" {
		t.Errorf("Acquire on a missing table: %v, want a StoreError", err)
	}
}
