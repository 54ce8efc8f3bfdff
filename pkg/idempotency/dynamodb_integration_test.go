//go:build integration

package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/clock/clocktest"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// opCounter is an SDK middleware that counts DynamoDB operations by name.
// It sits in the Initialize step, so it counts each API call once, however
// many HTTP attempts the SDK's retryer makes for it.
type opCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *opCounter) register(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("latchCountOperations",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.n[middleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// take returns the counts since the last take and resets them.
func (c *opCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// dynamoStore returns a DynamoDBStore on a fresh table (unless cfg names
// one) through a client that counts its operations.
func dynamoStore(t testing.TB, stack *emulator.Env, cfg idempotency.DynamoDBConfig) (*idempotency.DynamoDBStore, *opCounter) {
	t.Helper()
	if cfg.Table == "" {
		cfg.Table = stack.Table(t)
	}
	counter := &opCounter{n: map[string]int{}}
	client := dynamodb.NewFromConfig(stack.Cfg, func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = true
		o.APIOptions = append(o.APIOptions, counter.register)
	})
	return idempotency.MustNewDynamoDBStore(client, cfg), counter
}

// guardOn returns a guard on store with the given clock (nil: real time).
func guardOn(t testing.TB, store idempotency.Store, clock *clocktest.Clock, cfg idempotency.Config) *idempotency.Guard {
	t.Helper()
	cfg.Store = store
	if cfg.Namespace == "" {
		cfg.Namespace = "it"
	}
	if clock != nil {
		cfg.Now = clock.Now
	}
	g, err := idempotency.NewGuard(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestDynamoDBStoreSemantics(t *testing.T) {
	t.Parallel()
	stack := emulator.New(t)

	t.Run("default table", func(t *testing.T) {
		t.Parallel()
		store, _ := dynamoStore(t, stack, idempotency.DynamoDBConfig{})
		testStoreSemantics(t, func(*testing.T) inspectable { return store })
	})

	t.Run("single-table design with sort key and own attribute names", func(t *testing.T) {
		t.Parallel()
		table := stack.TableWith(t, emulator.TableSpec{PartitionKey: "pk", SortKey: "sk", TTLAttribute: "ttl"})
		store, _ := dynamoStore(t, stack, idempotency.DynamoDBConfig{
			Table: table, PartitionKey: "pk", SortKey: "sk",
			Attributes: idempotency.AttributeNames{
				Status: "st", Expiration: "ttl", LockExpiration: "lock_until", Owner: "holder", Data: "result", Validation: "payload_hash",
			},
		})
		testStoreSemantics(t, func(*testing.T) inspectable { return store })

		// The item as DynamoDB holds it: the configured names, the constant
		// sort key, and the id in the partition key.
		g := guardOn(t, store, nil, idempotency.Config{})
		if _, err := idempotency.Do(context.Background(), g, idempotency.Key{ID: "raw", Payload: []byte("p")}, func(context.Context) (int, error) { return 7, nil }); err != nil {
			t.Fatal(err)
		}
		out, err := stack.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
			TableName: aws.String(table),
			Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: g.KeyHash("raw")},
				"sk": &types.AttributeValueMemberS{Value: idempotency.DefaultSortKeyValue},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for k := range out.Item {
			names = append(names, k)
		}
		want := []string{"holder", "payload_hash", "pk", "result", "sk", "st", "ttl"}
		slices.Sort(names)
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("item attributes (-want +got):\n%s", diff)
		}
		if d, ok := out.Item["result"].(*types.AttributeValueMemberS); !ok || d.Value != "7" {
			t.Errorf("result attribute = %#v, want S \"7\"", out.Item["result"])
		}
	})
}

// TestDynamoDBConcurrentCallers: 50 callers, each with its own guard (its
// own Lambda, say), race for one key. The winner's function holds the lock
// until the 49 others have answered, so every other caller must have met
// the live lock: the function runs once, 49 get ErrInProgress, and a later
// caller gets the stored result.
func TestDynamoDBConcurrentCallers(t *testing.T) {
	t.Parallel()
	stack := emulator.New(t)
	store, _ := dynamoStore(t, stack, idempotency.DynamoDBConfig{})
	const callers = 50
	key := idempotency.Key{ID: "order-42", Payload: []byte(`{"amount":5}`)}

	var runs atomic.Int32
	finished := make(chan struct{}, callers)
	start := make(chan struct{})
	type answer struct {
		res idempotency.Result[string]
		err error
	}
	answers := make(chan answer, callers)
	var wg sync.WaitGroup
	for range callers {
		g := guardOn(t, store, nil, idempotency.Config{MaxLock: time.Minute})
		wg.Go(func() {
			<-start
			res, err := idempotency.Do(context.Background(), g, key, func(ctx context.Context) (string, error) {
				runs.Add(1)
				timeout := time.After(30 * time.Second)
				for range callers - 1 {
					select {
					case <-finished:
					case <-timeout:
						return "", errors.New("the other callers did not all answer within 30s")
					}
				}
				return "charged once", nil
			})
			answers <- answer{res, err}
			finished <- struct{}{}
		})
	}
	close(start)
	wg.Wait()
	close(answers)

	var fresh, inProgress int
	for a := range answers {
		var ip *idempotency.InProgressError
		switch {
		case a.err == nil && !a.res.Replayed && a.res.Value == "charged once":
			fresh++
		case errors.As(a.err, &ip) && ip.RetryAt().After(time.Now()):
			inProgress++
		default:
			t.Errorf("unexpected answer %+v, %v", a.res, a.err)
		}
	}
	if runs.Load() != 1 || fresh != 1 || inProgress != callers-1 {
		t.Errorf("function ran %d times; %d fresh results and %d ErrInProgress; want 1, 1, %d", runs.Load(), fresh, inProgress, callers-1)
	}
	g := guardOn(t, store, nil, idempotency.Config{})
	res, err := idempotency.Do(context.Background(), g, key, func(context.Context) (string, error) {
		runs.Add(1)
		return "charged twice", nil
	})
	if err != nil || !res.Replayed || res.Value != "charged once" || runs.Load() != 1 {
		t.Errorf("later caller = %+v, %v after %d runs; want the stored result", res, err, runs.Load())
	}
}

// TestDynamoDBLockTakeover: A's lock expires mid-run; B claims and
// completes; A's complete (or release) fails with ErrLockLost and the
// record keeps B's result.
func TestDynamoDBLockTakeover(t *testing.T) {
	t.Parallel()
	stack := emulator.New(t)
	store, _ := dynamoStore(t, stack, idempotency.DynamoDBConfig{})
	errA := errors.New("A failed")
	tests := []struct {
		name string
		aErr error
	}{
		{name: "complete", aErr: nil},
		{name: "release", aErr: errA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := clocktest.New(time.Now())
			a := guardOn(t, store, clock, idempotency.Config{MaxLock: time.Minute})
			b := guardOn(t, store, clock, idempotency.Config{MaxLock: time.Minute})
			key := idempotency.Key{ID: "takeover-" + tt.name}
			_, err := idempotency.Do(ctx, a, key, func(ctx context.Context) (string, error) {
				clock.Advance(time.Minute + time.Millisecond)
				res, err := idempotency.Do(ctx, b, key, func(context.Context) (string, error) { return "B", nil })
				if err != nil || res.Replayed || res.Value != "B" {
					t.Errorf("B = %+v, %v; want it to run", res, err)
				}
				return "A", tt.aErr
			})
			if !errors.Is(err, idempotency.ErrLockLost) || (tt.aErr != nil && !errors.Is(err, tt.aErr)) {
				t.Fatalf("A's error = %v, want ErrLockLost", err)
			}
			r, ok, err := store.Get(ctx, a.KeyHash(key.ID))
			if err != nil || !ok || r.Status != idempotency.StatusCompleted || string(r.Data) != `"B"` {
				t.Errorf("record = %+v, %t, %v; want COMPLETED with B's result", r, ok, err)
			}
		})
	}
}

// TestDynamoDBScenarios: what a duplicate gets back, and that the function
// runs only when it should.
func TestDynamoDBScenarios(t *testing.T) {
	t.Parallel()
	stack := emulator.New(t)
	store, _ := dynamoStore(t, stack, idempotency.DynamoDBConfig{})
	big := strings.Repeat("z", 500*1024)
	tests := []struct {
		name    string
		first   call
		advance time.Duration
		second  call
		want    idempotency.Result[string] // of the second call, KeyHash aside
		wantRan bool                       // of the second call
		wantErr error
		// the record after the second call
		wantStatus idempotency.Status
		wantData   string
	}{
		{
			name:  "duplicate replays",
			first: call{key: idempotency.Key{ID: "dup"}, value: "v1"}, second: call{key: idempotency.Key{ID: "dup"}, value: "v2"},
			want: idempotency.Result[string]{Value: "v1", Replayed: true}, wantStatus: idempotency.StatusCompleted, wantData: `"v1"`,
		},
		{
			name:  "expired record runs again",
			first: call{key: idempotency.Key{ID: "exp"}, value: "v1"}, advance: time.Hour + time.Second, second: call{key: idempotency.Key{ID: "exp"}, value: "v2"},
			want: idempotency.Result[string]{Value: "v2"}, wantRan: true, wantStatus: idempotency.StatusCompleted, wantData: `"v2"`,
		},
		{
			name:    "payload mismatch is refused",
			first:   call{key: idempotency.Key{ID: "pm", Payload: []byte("a")}, value: "v1"},
			second:  call{key: idempotency.Key{ID: "pm", Payload: []byte("b")}, value: "v2"},
			wantErr: idempotency.ErrPayloadMismatch, wantStatus: idempotency.StatusCompleted, wantData: `"v1"`,
		},
		{
			name:  "too large is completed without data and not run again",
			first: call{key: idempotency.Key{ID: "big"}, value: big}, second: call{key: idempotency.Key{ID: "big"}, value: "v2"},
			want: idempotency.Result[string]{Replayed: true}, wantErr: idempotency.ErrResultTooLarge, wantStatus: idempotency.StatusCompleted,
		},
		{
			name:  "failure leaves the key free",
			first: call{key: idempotency.Key{ID: "fail"}, fnErr: errors.New("x")}, second: call{key: idempotency.Key{ID: "fail"}, value: "v2"},
			want: idempotency.Result[string]{Value: "v2"}, wantRan: true, wantStatus: idempotency.StatusCompleted, wantData: `"v2"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := clocktest.New(time.Now())
			e := &env{guard: guardOn(t, store, clock, idempotency.Config{}), clock: clock}
			first, _, firstErr := e.do(ctx, tt.first)
			if tt.first.value == big && (!errors.Is(firstErr, idempotency.ErrResultTooLarge) || first.Value != big) {
				t.Fatalf("first call = %v; want ErrResultTooLarge with the value", firstErr)
			}
			tt.second.advance = tt.advance
			got, ran, err := e.do(ctx, tt.second)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if ran != tt.wantRan {
				t.Errorf("ran = %t, want %t", ran, tt.wantRan)
			}
			got.KeyHash = ""
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			r, ok, err := store.Get(ctx, e.guard.KeyHash(tt.second.key.ID))
			if err != nil || !ok || r.Status != tt.wantStatus || string(r.Data) != tt.wantData {
				t.Errorf("record = %s %q (%t, %v), want %s %q", r.Status, r.Data, ok, err, tt.wantStatus, tt.wantData)
			}
		})
	}
}

// TestDynamoDBCallsPerCall counts DynamoDB operations with an SDK
// middleware: the protocol's cost, checked on the wire.
func TestDynamoDBCallsPerCall(t *testing.T) {
	t.Parallel()
	stack := emulator.New(t)
	store, counter := dynamoStore(t, stack, idempotency.DynamoDBConfig{})
	cached := guardOn(t, store, nil, idempotency.Config{CacheSize: 16})
	uncached := guardOn(t, store, nil, idempotency.Config{})
	errBoom := errors.New("boom")
	steps := []struct {
		name  string
		guard *idempotency.Guard
		call  call
		want  map[string]int
	}{
		{name: "first success", guard: cached, call: call{key: idempotency.Key{ID: "a"}, value: "1"},
			want: map[string]int{"PutItem": 1, "UpdateItem": 1}},
		{name: "duplicate hit in the local cache", guard: cached, call: call{key: idempotency.Key{ID: "a"}},
			want: map[string]int{}},
		{name: "duplicate of a completed record", guard: uncached, call: call{key: idempotency.Key{ID: "a"}},
			want: map[string]int{"PutItem": 1}},
		{name: "failed function", guard: uncached, call: call{key: idempotency.Key{ID: "b"}, fnErr: errBoom},
			want: map[string]int{"PutItem": 1, "DeleteItem": 1}},
		{name: "in progress", guard: uncached, call: call{key: idempotency.Key{ID: "c"}},
			want: map[string]int{"PutItem": 1}},
	}
	// "c" is held by a claim that never finishes.
	if held, err := store.Claim(context.Background(), idempotency.Claim{
		KeyHash: uncached.KeyHash("c"), Owner: "elsewhere", Now: time.Now(),
		LockExpiry: time.Now().Add(time.Minute), Expiry: time.Now().Add(time.Hour),
	}); held != nil || err != nil {
		t.Fatalf("seed claim = %v, %v", held, err)
	}
	counter.take()
	for _, st := range steps {
		e := &env{guard: st.guard, clock: clocktest.New(time.Now())}
		_, _, err := e.do(context.Background(), st.call)
		if err != nil && !errors.Is(err, errBoom) && !errors.Is(err, idempotency.ErrInProgress) {
			t.Fatalf("%s: %v", st.name, err)
		}
		if diff := cmp.Diff(st.want, counter.take()); diff != "" {
			t.Errorf("%s: DynamoDB calls (-want +got):\n%s", st.name, diff)
		}
	}
}

// TestDynamoDBStoreErrors: failures of the table itself come back as
// *StoreError wrapping the SDK's error, and malformed records are refused.
func TestDynamoDBStoreErrors(t *testing.T) {
	t.Parallel()
	stack := emulator.New(t)
	ctx := context.Background()

	t.Run("missing table", func(t *testing.T) {
		t.Parallel()
		store, _ := dynamoStore(t, stack, idempotency.DynamoDBConfig{Table: emulator.UniqueName(t, "absent")})
		g := guardOn(t, store, nil, idempotency.Config{})
		ran := false
		_, err := idempotency.Do(ctx, g, idempotency.Key{ID: "k"}, func(context.Context) (int, error) { ran = true; return 1, nil })
		var se *idempotency.StoreError
		var rnf *types.ResourceNotFoundException
		if !errors.As(err, &se) || se.Op != "claim" || !errors.As(err, &rnf) || ran {
			t.Errorf("error %v (ran %t): want *StoreError(claim) wrapping ResourceNotFoundException", err, ran)
		}
	})

	t.Run("malformed record", func(t *testing.T) {
		t.Parallel()
		store, _ := dynamoStore(t, stack, idempotency.DynamoDBConfig{})
		g := guardOn(t, store, nil, idempotency.Config{})
		if _, err := stack.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(store.Table()),
			Item: map[string]types.AttributeValue{
				"id":         &types.AttributeValueMemberS{Value: g.KeyHash("k")},
				"status":     &types.AttributeValueMemberS{Value: "DONE"},
				"expiration": &types.AttributeValueMemberN{Value: fmt.Sprint(time.Now().Add(time.Hour).Unix())},
			},
		}); err != nil {
			t.Fatal(err)
		}
		_, err := idempotency.Do(ctx, g, idempotency.Key{ID: "k"}, func(context.Context) (int, error) { return 1, nil })
		var se *idempotency.StoreError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), `"DONE"`) {
			t.Errorf("error %v: want a *StoreError naming the bad status", err)
		}
	})
}
