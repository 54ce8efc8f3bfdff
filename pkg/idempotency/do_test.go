package idempotency_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/clock/clocktest"
	"github.com/latchkit/latch/pkg/idempotency"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is one guard on one memory store with a fake clock.
type env struct {
	store *idempotency.MemoryStore
	count *countingStore
	clock *clocktest.Clock
	guard *idempotency.Guard
}

func newEnv(t *testing.T, cfg idempotency.Config) *env {
	t.Helper()
	return newEnvOn(t, idempotency.NewMemoryStore(idempotency.MemoryConfig{}), cfg)
}

// newEnvOn is newEnv on a store of the caller's (one with a TxApplier).
func newEnvOn(t *testing.T, mem *idempotency.MemoryStore, cfg idempotency.Config) *env {
	t.Helper()
	e := &env{store: mem, clock: clocktest.New(t0)}
	e.count = &countingStore{Store: e.store}
	if cfg.Store == nil {
		cfg.Store = e.count
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "test"
	}
	cfg.Now = e.clock.Now
	g, err := idempotency.NewGuard(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.guard = g
	return e
}

// record returns the stored record of key id, or nil.
func (e *env) record(t *testing.T, id string) *idempotency.Record {
	t.Helper()
	r, ok, err := e.store.Get(context.Background(), e.guard.KeyHash(id))
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return nil
	}
	return &r
}

// call is one call of Do in a scenario.
type call struct {
	advance time.Duration // move the clock first
	key     idempotency.Key
	value   string // what fn returns
	fnErr   error  // or this
}

// do runs c on e and reports whether fn ran.
func (e *env) do(ctx context.Context, c call) (idempotency.Result[string], bool, error) {
	e.clock.Advance(c.advance)
	ran := false
	res, err := idempotency.Do(ctx, e.guard, c.key, func(context.Context) (string, error) {
		ran = true
		return c.value, c.fnErr
	})
	return res, ran, err
}

func TestDo(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	order := idempotency.Key{ID: "order-42"}
	withPayload := func(p string) idempotency.Key { return idempotency.Key{ID: "order-42", Payload: []byte(p)} }
	hash := "test#" + sha256Hex("order-42")
	big := strings.Repeat("x", idempotency.MaxItemSize)

	// recordView is the part of a record a scenario asserts on.
	type recordView struct {
		Status     idempotency.Status
		Data       string
		Validation bool
		Expiry     time.Time
		LockExpiry time.Time
	}

	tests := []struct {
		name string
		cfg  idempotency.Config
		// seed puts a record in the store through the Store API first.
		seed   func(t *testing.T, s idempotency.Store)
		before []call // earlier calls; their results are not checked
		call   call
		// want: the result, whether fn ran, the error (errors.Is), the record.
		want       idempotency.Result[string]
		wantRan    bool
		wantErr    error
		wantRecord *recordView
	}{
		{
			name:       "first call runs and stores the result",
			call:       call{key: order, value: "v1"},
			want:       idempotency.Result[string]{Value: "v1", KeyHash: hash},
			wantRan:    true,
			wantRecord: &recordView{Status: idempotency.StatusCompleted, Data: `"v1"`, Expiry: t0.Add(time.Hour)},
		},
		{
			name:       "TTL counts from completion",
			cfg:        idempotency.Config{TTL: 10 * time.Minute},
			call:       call{advance: time.Minute, key: order, value: "v1"},
			want:       idempotency.Result[string]{Value: "v1", KeyHash: hash},
			wantRan:    true,
			wantRecord: &recordView{Status: idempotency.StatusCompleted, Data: `"v1"`, Expiry: t0.Add(11 * time.Minute)},
		},
		{
			name:       "duplicate replays the stored result",
			before:     []call{{key: order, value: "v1"}},
			call:       call{advance: time.Minute, key: order, value: "v2"},
			want:       idempotency.Result[string]{Value: "v1", Replayed: true, KeyHash: hash},
			wantRecord: &recordView{Status: idempotency.StatusCompleted, Data: `"v1"`, Expiry: t0.Add(time.Hour)},
		},
		{
			name:       "duplicate in the record's last second replays",
			before:     []call{{key: order, value: "v1"}},
			call:       call{advance: time.Hour + 999*time.Millisecond, key: order, value: "v2"},
			want:       idempotency.Result[string]{Value: "v1", Replayed: true, KeyHash: hash},
			wantRecord: &recordView{Status: idempotency.StatusCompleted, Data: `"v1"`, Expiry: t0.Add(time.Hour)},
		},
		{
			name:       "expired record runs again",
			before:     []call{{key: order, value: "v1"}},
			call:       call{advance: time.Hour + time.Second, key: order, value: "v2"},
			want:       idempotency.Result[string]{Value: "v2", KeyHash: hash},
			wantRan:    true,
			wantRecord: &recordView{Status: idempotency.StatusCompleted, Data: `"v2"`, Expiry: t0.Add(2*time.Hour + time.Second)},
		},
		{
			name: "live lock is in progress until its expiry",
			seed: func(t *testing.T, s idempotency.Store) {
				claimSeed(t, s, hash, t0.Add(30*time.Second+500*time.Millisecond), "")
			},
			call:       call{advance: 30 * time.Second, key: order, value: "v2"},
			want:       idempotency.Result[string]{KeyHash: hash},
			wantErr:    idempotency.ErrInProgress,
			wantRecord: &recordView{Status: idempotency.StatusInProgress, Expiry: t0.Add(time.Hour), LockExpiry: t0.Add(30*time.Second + 500*time.Millisecond)},
		},
		{
			name: "dead lock is taken over",
			seed: func(t *testing.T, s idempotency.Store) {
				claimSeed(t, s, hash, t0.Add(30*time.Second), "")
			},
			call:       call{advance: 30*time.Second + time.Millisecond, key: order, value: "v2"},
			want:       idempotency.Result[string]{Value: "v2", KeyHash: hash},
			wantRan:    true,
			wantRecord: &recordView{Status: idempotency.StatusCompleted, Data: `"v2"`, Expiry: t0.Add(time.Hour + 30*time.Second)},
		},
		{
			name:       "same payload replays",
			before:     []call{{key: withPayload(`{"amount":5}`), value: "v1"}},
			call:       call{key: withPayload(`{"amount":5}`), value: "v2"},
			want:       idempotency.Result[string]{Value: "v1", Replayed: true, KeyHash: hash},
			wantRecord: &recordView{Status: idempotency.StatusCompleted, Data: `"v1"`, Validation: true, Expiry: t0.Add(time.Hour)},
		},
		{
			name:       "different payload on a completed record is refused",
			before:     []call{{key: withPayload(`{"amount":5}`), value: "v1"}},
			call:       call{key: withPayload(`{"amount":6}`), value: "v2"},
			want:       idempotency.Result[string]{KeyHash: hash},
			wantErr:    idempotency.ErrPayloadMismatch,
			wantRecord: &recordView{Status: idempotency.StatusCompleted, Data: `"v1"`, Validation: true, Expiry: t0.Add(time.Hour)},
		},
		{
			name: "different payload on an in-progress record is refused",
			seed: func(t *testing.T, s idempotency.Store) {
				claimSeed(t, s, hash, t0.Add(time.Minute), sha256Hex(`{"amount":5}`))
			},
			call:       call{key: withPayload(`{"amount":6}`), value: "v2"},
			want:       idempotency.Result[string]{KeyHash: hash},
			wantErr:    idempotency.ErrPayloadMismatch,
			wantRecord: &recordView{Status: idempotency.StatusInProgress, Validation: true, Expiry: t0.Add(time.Hour), LockExpiry: t0.Add(time.Minute)},
		},
		{
			name:       "payload hash on one side only replays",
			before:     []call{{key: order, value: "v1"}},
			call:       call{key: withPayload(`{"amount":6}`), value: "v2"},
			want:       idempotency.Result[string]{Value: "v1", Replayed: true, KeyHash: hash},
			wantRecord: &recordView{Status: idempotency.StatusCompleted, Data: `"v1"`, Expiry: t0.Add(time.Hour)},
		},
		{
			name:       "failed function releases the key",
			call:       call{key: order, fnErr: errBoom},
			want:       idempotency.Result[string]{KeyHash: hash},
			wantRan:    true,
			wantErr:    errBoom,
			wantRecord: nil,
		},
		{
			name:       "call after a failure runs again",
			before:     []call{{key: order, fnErr: errBoom}},
			call:       call{key: order, value: "v2"},
			want:       idempotency.Result[string]{Value: "v2", KeyHash: hash},
			wantRan:    true,
			wantRecord: &recordView{Status: idempotency.StatusCompleted, Data: `"v2"`, Expiry: t0.Add(time.Hour)},
		},
		{
			name:    "missing key is ErrNoKey",
			call:    call{key: idempotency.Key{Payload: []byte("p")}, value: "v"},
			wantErr: idempotency.ErrNoKey,
		},
		{
			name:    "missing key allowed runs without a record",
			cfg:     idempotency.Config{AllowMissingKey: true},
			before:  []call{{key: idempotency.Key{}, value: "v1"}},
			call:    call{key: idempotency.Key{}, value: "v2"},
			want:    idempotency.Result[string]{Value: "v2"},
			wantRan: true,
		},
		{
			name:       "result too large is completed without data",
			call:       call{key: order, value: big},
			want:       idempotency.Result[string]{Value: big, KeyHash: hash},
			wantRan:    true,
			wantErr:    idempotency.ErrResultTooLarge,
			wantRecord: &recordView{Status: idempotency.StatusCompleted, Expiry: t0.Add(time.Hour)},
		},
		{
			name:       "result too large is not run again",
			before:     []call{{key: order, value: big}},
			call:       call{key: order, value: "v2"},
			want:       idempotency.Result[string]{Replayed: true, KeyHash: hash},
			wantErr:    idempotency.ErrResultTooLarge,
			wantRecord: &recordView{Status: idempotency.StatusCompleted, Expiry: t0.Add(time.Hour)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.cfg)
			ctx := context.Background()
			if tt.seed != nil {
				tt.seed(t, e.store)
			}
			for _, c := range tt.before {
				_, _, _ = e.do(ctx, c)
			}
			got, ran, err := e.do(ctx, tt.call)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if ran != tt.wantRan {
				t.Errorf("fn ran = %t, want %t", ran, tt.wantRan)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			var view *recordView
			if tt.call.key.ID != "" {
				if r := e.record(t, tt.call.key.ID); r != nil {
					view = &recordView{Status: r.Status, Data: string(r.Data), Validation: r.Validation != "", Expiry: r.Expiry, LockExpiry: r.LockExpiry}
				}
			}
			if diff := cmp.Diff(tt.wantRecord, view); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

// claimSeed claims hash in s at t0 with the given lock expiry, as another
// caller that is still running would.
func claimSeed(t *testing.T, s idempotency.Store, hash string, lock time.Time, validation string) {
	t.Helper()
	held, err := s.Claim(context.Background(), idempotency.Claim{
		KeyHash: hash, Owner: "other", Now: t0, LockExpiry: lock, Expiry: t0.Add(time.Hour), Validation: validation,
	})
	if held != nil || err != nil {
		t.Fatalf("seed claim = %v, %v", held, err)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestDoErrorTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, idempotency.Config{})
	ctx := context.Background()
	hash := e.guard.KeyHash("k")
	lock := t0.Add(45 * time.Second)
	claimSeed(t, e.store, hash, lock, sha256Hex("p1"))

	t.Run("in progress carries the lock expiry", func(t *testing.T) {
		t.Parallel()
		_, _, err := e.do(ctx, call{key: idempotency.Key{ID: "k"}})
		var ip *idempotency.InProgressError
		if !errors.As(err, &ip) {
			t.Fatalf("error %v is not *InProgressError", err)
		}
		want := &idempotency.InProgressError{KeyHash: hash, LockExpiry: lock}
		if diff := cmp.Diff(want, ip); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		var ra retryAter
		if !errors.As(err, &ra) || !ra.RetryAt().Equal(lock) {
			t.Errorf("RetryAt via errors.As = %v, want %v", ra, lock)
		}
		if errors.As(err, new(permanent)) {
			t.Error("in progress must not be permanent")
		}
	})
	t.Run("payload mismatch is permanent", func(t *testing.T) {
		t.Parallel()
		_, _, err := e.do(ctx, call{key: idempotency.Key{ID: "k", Payload: []byte("p2")}})
		var pm *idempotency.PayloadMismatchError
		if !errors.As(err, &pm) || pm.KeyHash != hash {
			t.Fatalf("error %v is not *PayloadMismatchError for %s", err, hash)
		}
		var p permanent
		if !errors.As(err, &p) || !p.Permanent() {
			t.Errorf("payload mismatch is not permanent")
		}
	})
	t.Run("errors name the key by its display form, the table keeps the hash", func(t *testing.T) {
		t.Parallel()
		d := newEnv(t, idempotency.Config{CacheSize: 4})
		key := func(payload string) idempotency.Key {
			return idempotency.Key{ID: "o-17", Display: "order o-17", Payload: []byte(payload)}
		}
		res, _, err := d.do(ctx, call{key: key("a"), value: "v"})
		if err != nil || res.KeyDisplay != "order o-17" {
			t.Fatalf("first call = %+v, %v; want Result.Key %q", res, err, "order o-17")
		}
		for _, name := range []string{"from the store", "from the cache"} {
			if name == "from the store" {
				// A fresh guard on the same store: no cache to answer.
				g, err := idempotency.NewGuard(idempotency.Config{Store: d.store, Namespace: "test", Now: d.clock.Now})
				if err != nil {
					t.Fatal(err)
				}
				_, err = idempotency.Do(ctx, g, key("b"), func(context.Context) (string, error) { return "", nil })
				checkDisplayed(t, name, err, d.guard.KeyHash("o-17"))
				continue
			}
			_, _, err := d.do(ctx, call{key: key("b")})
			checkDisplayed(t, name, err, d.guard.KeyHash("o-17"))
		}
		r := d.record(t, "o-17")
		if r == nil || strings.Contains(r.KeyHash, "o-17") || strings.Contains(string(r.Data), "o-17") {
			t.Errorf("record %+v: want it stored under the hash only", r)
		}
	})
	t.Run("missing key is permanent", func(t *testing.T) {
		t.Parallel()
		_, _, err := e.do(ctx, call{})
		var p permanent
		if !errors.Is(err, idempotency.ErrNoKey) || !errors.As(err, &p) || !p.Permanent() {
			t.Errorf("error %v: want permanent ErrNoKey", err)
		}
	})
	t.Run("too large is permanent and says why", func(t *testing.T) {
		t.Parallel()
		_, _, err := e.do(ctx, call{key: idempotency.Key{ID: "big"}, value: strings.Repeat("y", idempotency.MaxItemSize)})
		var tl *idempotency.ResultTooLargeError
		if !errors.As(err, &tl) || tl.Size != idempotency.MaxItemSize+2 || tl.Limit <= 0 || tl.Replayed {
			t.Fatalf("error %#v: want *ResultTooLargeError with size and limit", err)
		}
		var p permanent
		if !errors.As(err, &p) || !p.Permanent() {
			t.Errorf("too large is not permanent")
		}
		_, _, err = e.do(ctx, call{key: idempotency.Key{ID: "big"}})
		if !errors.As(err, &tl) || !tl.Replayed || tl.KeyHash != e.guard.KeyHash("big") {
			t.Fatalf("replay error %#v: want replayed *ResultTooLargeError", err)
		}
	})
	t.Run("store errors wrap the cause and are not permanent", func(t *testing.T) {
		t.Parallel()
		cause := errors.New("connection reset")
		f := newEnv(t, idempotency.Config{Store: &faultyStore{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), claimErr: cause}})
		_, ran, err := f.do(ctx, call{key: idempotency.Key{ID: "k"}})
		var se *idempotency.StoreError
		if !errors.As(err, &se) || se.Op != "claim" || !errors.Is(err, cause) || ran {
			t.Fatalf("error %v, ran %t: want *StoreError(claim) wrapping the cause, fn not run", err, ran)
		}
		if errors.As(err, new(permanent)) {
			t.Error("store error must not be permanent")
		}
	})
}

// TestDoLockLost: A's lock dies while A runs; B takes the key over and
// completes. A can then neither complete nor release B's record.
func TestDoLockLost(t *testing.T) {
	t.Parallel()
	errA := errors.New("A failed")
	tests := []struct {
		name  string
		aErr  error // A's function result
		check func(t *testing.T, err error)
	}{
		{
			name: "complete after takeover",
			check: func(t *testing.T, err error) {
				if !errors.Is(err, idempotency.ErrLockLost) {
					t.Errorf("A's error = %v, want ErrLockLost", err)
				}
			},
		},
		{
			name: "release after takeover",
			aErr: errA,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, idempotency.ErrLockLost) || !errors.Is(err, errA) {
					t.Errorf("A's error = %v, want A's error joined with ErrLockLost", err)
				}
				// It ends up in one log line and one DLQ attribute.
				if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, errA.Error()) || !strings.Contains(msg, idempotency.ErrLockLost.Error()) {
					t.Errorf("A's error prints %q, want one line naming both errors", msg)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, idempotency.Config{MaxLock: time.Minute})
			ctx := context.Background()
			key := idempotency.Key{ID: "k"}
			_, errA := idempotency.Do(ctx, e.guard, key, func(ctx context.Context) (string, error) {
				e.clock.Advance(time.Minute + time.Millisecond)
				res, err := idempotency.Do(ctx, e.guard, key, func(context.Context) (string, error) { return "B", nil })
				if err != nil || res.Value != "B" || res.Replayed {
					t.Errorf("B = %+v, %v; want it to run", res, err)
				}
				return "A", tt.aErr
			})
			tt.check(t, errA)
			r := e.record(t, "k")
			if r == nil || r.Status != idempotency.StatusCompleted || string(r.Data) != `"B"` {
				t.Fatalf("record = %+v, want COMPLETED with B's result", r)
			}
			res, ran, err := e.do(ctx, call{key: key, value: "C"})
			if err != nil || ran || res.Value != "B" || !res.Replayed {
				t.Errorf("later call = %+v, %v, ran %t; want B's result replayed", res, err, ran)
			}
		})
	}
}

// TestDoLockExpiry: the lock dies at the context deadline, capped by
// MaxLock; without a deadline it lasts LockWithoutDeadline, capped too.
func TestDoLockExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		maxLock    time.Duration
		noDeadline time.Duration
		deadline   time.Duration // 0: none
		// the lock must die within [want-slack, want] of t0
		want, slack time.Duration
	}{
		{name: "no deadline, default", want: idempotency.DefaultLockWithoutDeadline},
		{name: "no deadline, configured", noDeadline: 2 * time.Minute, want: 2 * time.Minute},
		{name: "no deadline, capped", noDeadline: 2 * time.Minute, maxLock: time.Minute, want: time.Minute},
		{name: "deadline beyond the no-deadline length", deadline: time.Hour, want: idempotency.DefaultMaxLock},
		{name: "deadline before cap", maxLock: 2 * time.Minute, deadline: 20 * time.Second, want: 20 * time.Second, slack: 5 * time.Second},
		{name: "cap before deadline", maxLock: 10 * time.Second, deadline: time.Hour, want: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, idempotency.Config{MaxLock: tt.maxLock, LockWithoutDeadline: tt.noDeadline})
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			var lock time.Time
			_, err := idempotency.Do(ctx, e.guard, idempotency.Key{ID: "k"}, func(context.Context) (int, error) {
				lock = e.record(t, "k").LockExpiry
				return 1, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := t0.Add(tt.want-tt.slack), t0.Add(tt.want)
			if lock.Before(lo) || lock.After(hi) {
				t.Errorf("lock expiry %s, want within [%s, %s]", lock, lo, hi)
			}
		})
	}

	t.Run("context already done", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, idempotency.Config{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, ran, err := e.do(ctx, call{key: idempotency.Key{ID: "k"}})
		var se *idempotency.StoreError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &se) || se.Op != "claim" || ran || e.record(t, "k") != nil {
			t.Errorf("error %v, ran %t, record %v: want a claim *StoreError wrapping context.Canceled, nothing run or stored", err, ran, e.record(t, "k"))
		}
	})

	t.Run("deadline already passed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, idempotency.Config{})
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		_, ran, err := e.do(ctx, call{key: idempotency.Key{ID: "k"}})
		var se *idempotency.StoreError
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &se) || se.Op != "claim" || ran {
			t.Errorf("error %v, ran %t: want a claim *StoreError wrapping context.DeadlineExceeded, nothing run", err, ran)
		}
	})
}

// TestDoCache: a cached duplicate costs no store call; INPROGRESS is never
// cached; expired entries are dropped.
func TestDoCache(t *testing.T) {
	t.Parallel()
	e := newEnv(t, idempotency.Config{CacheSize: 2})
	ctx := context.Background()
	k := idempotency.Key{ID: "k", Payload: []byte("p")}
	steps := []struct {
		name    string
		call    call
		want    idempotency.Result[string]
		wantErr error
		counts  callCounts // cumulative
	}{
		{name: "first call", call: call{key: k, value: "v1"}, want: idempotency.Result[string]{Value: "v1"}, counts: callCounts{1, 1, 0}},
		{name: "cached duplicate", call: call{key: k, value: "v2"}, want: idempotency.Result[string]{Value: "v1", Replayed: true}, counts: callCounts{1, 1, 0}},
		{name: "cached mismatch", call: call{key: idempotency.Key{ID: "k", Payload: []byte("q")}}, wantErr: idempotency.ErrPayloadMismatch, counts: callCounts{1, 1, 0}},
		{name: "expired entry goes to the store", call: call{advance: time.Hour + time.Second, key: k, value: "v3"}, want: idempotency.Result[string]{Value: "v3"}, counts: callCounts{2, 2, 0}},
		{name: "fresh entry cached again", call: call{key: k}, want: idempotency.Result[string]{Value: "v3", Replayed: true}, counts: callCounts{2, 2, 0}},
		{name: "failure is not cached", call: call{key: idempotency.Key{ID: "f"}, fnErr: errors.New("x")}, wantErr: nil, counts: callCounts{3, 2, 1}},
	}
	for _, st := range steps {
		got, _, err := e.do(ctx, st.call)
		if st.name == "failure is not cached" {
			if err == nil {
				t.Fatalf("%s: want the function's error", st.name)
			}
		} else if !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
			t.Fatalf("%s: error %v, want %v", st.name, err, st.wantErr)
		}
		got.KeyHash = ""
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s: result (-want +got):\n%s", st.name, diff)
		}
		if diff := cmp.Diff(st.counts, e.count.counts()); diff != "" {
			t.Errorf("%s: store calls (-want +got):\n%s", st.name, diff)
		}
	}

	t.Run("in progress is never cached", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, idempotency.Config{CacheSize: 8})
		claimSeed(t, e.store, e.guard.KeyHash("busy"), t0.Add(time.Minute), "")
		for i := range 2 {
			if _, _, err := e.do(ctx, call{key: idempotency.Key{ID: "busy"}}); !errors.Is(err, idempotency.ErrInProgress) {
				t.Fatalf("call %d: %v, want ErrInProgress", i, err)
			}
		}
		if got := e.count.counts().Claims; got != 2 {
			t.Errorf("claims = %d, want 2 (every in-progress answer from the store)", got)
		}
	})

	t.Run("a record completed elsewhere is cached after one claim", func(t *testing.T) {
		t.Parallel()
		other := newEnv(t, idempotency.Config{})
		mine, err := idempotency.NewGuard(idempotency.Config{Store: other.count, Namespace: "test", CacheSize: 8, Now: other.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := other.do(ctx, call{key: idempotency.Key{ID: "x"}, value: "theirs"}); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			res, err := idempotency.Do(ctx, mine, idempotency.Key{ID: "x"}, func(context.Context) (string, error) { return "mine", nil })
			if err != nil || res.Value != "theirs" || !res.Replayed {
				t.Fatalf("call %d = %+v, %v", i, res, err)
			}
		}
		if got := other.count.counts(); got != (callCounts{2, 1, 0}) {
			t.Errorf("store calls = %+v, want the first success (claim, complete) and one claim", got)
		}
	})
}

func TestDoStoreFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cause := errors.New("throttled")
	errFn := errors.New("fn failed")

	t.Run("complete fails: error returned, record stays in progress", func(t *testing.T) {
		t.Parallel()
		mem := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
		e := newEnv(t, idempotency.Config{Store: &faultyStore{Store: mem, completeErr: cause}, MaxLock: time.Minute})
		res, ran, err := e.do(ctx, call{key: idempotency.Key{ID: "k"}, value: "v"})
		if !errors.Is(err, cause) || !ran || res.Value != "v" {
			t.Fatalf("= %+v, %v, ran %t; want the store's error after running", res, err, ran)
		}
		r, _, _ := mem.Get(ctx, e.guard.KeyHash("k"))
		if r.Status != idempotency.StatusInProgress || !r.LockExpiry.Equal(t0.Add(time.Minute)) {
			t.Errorf("record %+v: want INPROGRESS until the lock dies", r)
		}
	})
	t.Run("release fails: both errors returned", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, idempotency.Config{Store: &faultyStore{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), releaseErr: cause}})
		_, _, err := e.do(ctx, call{key: idempotency.Key{ID: "k"}, fnErr: errFn})
		var se *idempotency.StoreError
		if !errors.Is(err, errFn) || !errors.As(err, &se) || se.Op != "release" {
			t.Errorf("error %v: want the function's error and the release's", err)
		}
	})
	t.Run("cancelled context still records the result", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, idempotency.Config{})
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		res, err := idempotency.Do(ctx, e.guard, idempotency.Key{ID: "k"}, func(context.Context) (string, error) {
			cancel() // the work is done; only its bookkeeping remains
			return "done", nil
		})
		if err != nil || res.Value != "done" {
			t.Fatalf("= %+v, %v", res, err)
		}
		if r := e.record(t, "k"); r == nil || r.Status != idempotency.StatusCompleted {
			t.Errorf("record %+v: want COMPLETED", r)
		}
	})
}

func TestDoPanicReleases(t *testing.T) {
	t.Parallel()
	e := newEnv(t, idempotency.Config{})
	func() {
		defer func() {
			if p := recover(); p != "kaboom" {
				t.Errorf("recovered %v, want the function's panic", p)
			}
		}()
		_, _ = idempotency.Do(context.Background(), e.guard, idempotency.Key{ID: "k"}, func(context.Context) (int, error) {
			panic("kaboom")
		})
	}()
	if r := e.record(t, "k"); r != nil {
		t.Fatalf("record %+v after a panic, want it released", r)
	}
	if _, ran, err := e.do(context.Background(), call{key: idempotency.Key{ID: "k"}, value: "v"}); err != nil || !ran {
		t.Errorf("retry after panic: %v, ran %t; want it to run", err, ran)
	}
}

func TestDoEncoding(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type order struct {
		ID    string   `json:"id"`
		Items []string `json:"items"`
		Total float64  `json:"total"`
	}
	t.Run("struct round-trips through JSON", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, idempotency.Config{})
		want := order{ID: "o1", Items: []string{"a", "b"}, Total: 12.5}
		for i := range 2 {
			res, err := idempotency.Do(ctx, e.guard, idempotency.Key{ID: "o1"}, func(context.Context) (order, error) { return want, nil })
			if err != nil || res.Replayed != (i == 1) {
				t.Fatalf("call %d: %+v, %v", i, res, err)
			}
			if diff := cmp.Diff(want, res.Value); diff != "" {
				t.Errorf("call %d (-want +got):\n%s", i, diff)
			}
		}
	})
	t.Run("unencodable result completes without data", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, idempotency.Config{})
		var runs atomic.Int32
		fn := func(context.Context) (float64, error) { runs.Add(1); return math.NaN(), nil }
		res, err := idempotency.Do(ctx, e.guard, idempotency.Key{ID: "nan"}, fn)
		var p permanent
		if err == nil || !errors.As(err, &p) || !math.IsNaN(res.Value) {
			t.Fatalf("= %+v, %v; want NaN and a permanent error", res, err)
		}
		if r := e.record(t, "nan"); r == nil || r.Status != idempotency.StatusCompleted || r.Data != nil {
			t.Errorf("record %+v: want COMPLETED without data", r)
		}
		if _, err := idempotency.Do(ctx, e.guard, idempotency.Key{ID: "nan"}, fn); !errors.Is(err, idempotency.ErrResultTooLarge) || runs.Load() != 1 {
			t.Errorf("replay: %v after %d runs; want no second run", err, runs.Load())
		}
	})
	t.Run("stored result of another type is a permanent error", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, idempotency.Config{})
		if _, err := idempotency.Do(ctx, e.guard, idempotency.Key{ID: "t"}, func(context.Context) (string, error) { return "text", nil }); err != nil {
			t.Fatal(err)
		}
		res, err := idempotency.Do(ctx, e.guard, idempotency.Key{ID: "t"}, func(context.Context) (int, error) { return 1, nil })
		var p permanent
		if err == nil || !errors.As(err, &p) || res.Value != 0 || !res.Replayed {
			t.Errorf("= %+v, %v; want a permanent decode error, zero value", res, err)
		}
	})
}

func TestGuardKeys(t *testing.T) {
	t.Run("stored id is namespace and SHA-256, never the raw key", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, idempotency.Config{Namespace: "payments"})
		res, err := idempotency.Do(context.Background(), e.guard, idempotency.Key{ID: "card-4242", Payload: []byte("secret")}, func(context.Context) (string, error) { return "ok", nil })
		if err != nil {
			t.Fatal(err)
		}
		want := "payments#" + sha256Hex("card-4242")
		if res.KeyHash != want || e.guard.KeyHash("card-4242") != want {
			t.Errorf("KeyHash = %q / %q, want %q", res.KeyHash, e.guard.KeyHash("card-4242"), want)
		}
		r, ok, _ := e.store.Get(context.Background(), want)
		if !ok || r.Validation != sha256Hex("secret") {
			t.Fatalf("record %+v, %t", r, ok)
		}
		for _, s := range []string{r.KeyHash, r.Owner, r.Validation, string(r.Data)} {
			if strings.Contains(s, "card-4242") || strings.Contains(s, "secret") {
				t.Errorf("raw key or payload stored in %q", s)
			}
		}
	})
	t.Run("namespace defaults to the Lambda function name", func(t *testing.T) {
		t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "orders-fn")
		g := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{})})
		if g.Namespace() != "orders-fn" || !strings.HasPrefix(g.KeyHash("x"), "orders-fn#") {
			t.Errorf("namespace %q, hash %q", g.Namespace(), g.KeyHash("x"))
		}
		t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "")
		g = idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{})})
		if g.Namespace() != idempotency.DefaultNamespace {
			t.Errorf("namespace outside Lambda %q, want %q", g.Namespace(), idempotency.DefaultNamespace)
		}
	})
}

func TestNewGuardErrors(t *testing.T) {
	t.Parallel()
	s := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	tests := []struct {
		name string
		cfg  idempotency.Config
	}{
		{name: "no store", cfg: idempotency.Config{}},
		{name: "negative TTL", cfg: idempotency.Config{Store: s, TTL: -time.Second}},
		{name: "negative MaxLock", cfg: idempotency.Config{Store: s, MaxLock: -time.Second}},
		{name: "negative cache", cfg: idempotency.Config{Store: s, CacheSize: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if g, err := idempotency.NewGuard(tt.cfg); err == nil {
				t.Errorf("NewGuard = %v, nil; want an error", g)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	t.Parallel()
	type event struct {
		OrderID string
		Amount  int
	}
	e := newEnv(t, idempotency.Config{})
	var runs atomic.Int32
	errNoOrder := errors.New("event has no order id")
	h := idempotency.Wrap(e.guard,
		func(ev event) (idempotency.Key, error) {
			if ev.OrderID == "" {
				return idempotency.Key{}, errNoOrder
			}
			return idempotency.Key{ID: ev.OrderID, Payload: []byte{byte(ev.Amount)}}, nil
		},
		func(_ context.Context, ev event) (string, error) {
			runs.Add(1)
			return "charged " + ev.OrderID, nil
		})
	tests := []struct {
		name     string
		in       event
		want     string
		wantErr  error
		wantRuns int32
	}{
		{name: "first", in: event{OrderID: "o1", Amount: 5}, want: "charged o1", wantRuns: 1},
		{name: "duplicate", in: event{OrderID: "o1", Amount: 5}, want: "charged o1", wantRuns: 1},
		{name: "mismatch", in: event{OrderID: "o1", Amount: 6}, wantErr: idempotency.ErrPayloadMismatch, wantRuns: 1},
		{name: "key error passes through", in: event{}, wantErr: errNoOrder, wantRuns: 1},
		{name: "other key", in: event{OrderID: "o2"}, want: "charged o2", wantRuns: 2},
	}
	for _, tt := range tests { // in order: each step builds on the last
		got, err := h(context.Background(), tt.in)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Fatalf("%s: error %v, want %v", tt.name, err, tt.wantErr)
		}
		if got != tt.want || runs.Load() != tt.wantRuns {
			t.Errorf("%s: = %q after %d runs, want %q after %d", tt.name, got, runs.Load(), tt.want, tt.wantRuns)
		}
	}
}

// checkDisplayed asserts err is a payload mismatch that names the key by its
// display form and still carries the hash.
func checkDisplayed(t *testing.T, name string, err error, hash string) {
	t.Helper()
	var pm *idempotency.PayloadMismatchError
	if !errors.As(err, &pm) || pm.KeyHash != hash || pm.KeyDisplay != "order o-17" {
		t.Fatalf("%s: error %#v, want *PayloadMismatchError with Key and KeyHash", name, err)
	}
	if msg := err.Error(); !strings.Contains(msg, `"order o-17"`) || strings.Contains(msg, hash) {
		t.Errorf("%s: error says %q, want the display form instead of the hash", name, msg)
	}
}
