package idempotency_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkit/latch/pkg/idempotency"
)

// testStoreSemantics runs the Store contract against a store. The memory
// store runs it in the unit tests and DynamoDBStore in the integration
// tests, so "identical semantics" is checked, not promised.
//
// Times are built from the real clock, in the future, so that a table with
// TTL enabled never deletes a record under a running case.
func testStoreSemantics(t *testing.T, newStore func(t *testing.T) inspectable) {
	base := time.Now().Add(time.Minute).Truncate(time.Second)
	lock := base.Add(30 * time.Second).Add(250 * time.Millisecond)
	exp := base.Add(time.Hour)

	claim := func(key, owner string, now time.Time) idempotency.Claim {
		return idempotency.Claim{KeyHash: key, Owner: owner, Now: now, LockExpiry: lock, Expiry: exp, Validation: "v-" + key}
	}
	inProgress := func(key, owner string) *idempotency.Record {
		return &idempotency.Record{
			KeyHash: key, Status: idempotency.StatusInProgress, Expiry: exp, LockExpiry: lock,
			Owner: owner, Validation: "v-" + key,
		}
	}
	completed := func(key, owner, data string) *idempotency.Record {
		r := &idempotency.Record{
			KeyHash: key, Status: idempotency.StatusCompleted, Expiry: exp.Add(time.Hour),
			Owner: owner, Validation: "v-" + key,
		}
		if data != "" {
			r.Data = []byte(data)
		}
		return r
	}
	completion := func(key, owner, data string) idempotency.Completion {
		c := idempotency.Completion{KeyHash: key, Owner: owner, Expiry: exp.Add(time.Hour)}
		if data != "" {
			c.Data = []byte(data)
		}
		return c
	}

	// A case acts on a store through the Store API, then the record under
	// its key must be want (nil: no record).
	type step struct {
		claim    *idempotency.Claim
		complete *idempotency.Completion
		release  [2]string // key, owner
		// wantHeld is what a claim must return; wantErr what any call must.
		wantHeld *idempotency.Record
		wantErr  error
	}
	ptrC := func(c idempotency.Claim) *idempotency.Claim { return &c }
	ptrD := func(c idempotency.Completion) *idempotency.Completion { return &c }

	tests := []struct {
		name  string
		steps []step
		want  *idempotency.Record
	}{
		{
			name:  "claim on a free key takes it",
			steps: []step{{claim: ptrC(claim("k", "A", base))}},
			want:  inProgress("k", "A"),
		},
		{
			name: "claim on a live lock returns the holder",
			steps: []step{
				{claim: ptrC(claim("k", "A", base))},
				{claim: ptrC(claim("k", "B", base.Add(10*time.Second))), wantHeld: inProgress("k", "A")},
			},
			want: inProgress("k", "A"),
		},
		{
			name: "claim at the lock's last millisecond is refused",
			steps: []step{
				{claim: ptrC(claim("k", "A", base))},
				{claim: ptrC(claim("k", "B", lock)), wantHeld: inProgress("k", "A")},
			},
			want: inProgress("k", "A"),
		},
		{
			name: "claim a millisecond after the lock died takes over",
			steps: []step{
				{claim: ptrC(claim("k", "A", base))},
				{claim: ptrC(claim("k", "B", lock.Add(time.Millisecond)))},
			},
			want: inProgress("k", "B"),
		},
		{
			name: "claim on a completed record returns it with its data",
			steps: []step{
				{claim: ptrC(claim("k", "A", base))},
				{complete: ptrD(completion("k", "A", `{"n":1}`))},
				{claim: ptrC(claim("k", "B", lock.Add(time.Minute))), wantHeld: completed("k", "A", `{"n":1}`)},
			},
			want: completed("k", "A", `{"n":1}`),
		},
		{
			name: "claim in the record's last second is refused",
			steps: []step{
				{claim: ptrC(claim("k", "A", base))},
				{complete: ptrD(completion("k", "A", `1`))},
				{claim: ptrC(claim("k", "B", exp.Add(time.Hour).Add(999*time.Millisecond))), wantHeld: completed("k", "A", `1`)},
			},
			want: completed("k", "A", `1`),
		},
		{
			name: "claim after the record expired takes it",
			steps: []step{
				{claim: ptrC(claim("k", "A", base))},
				{complete: ptrD(completion("k", "A", `1`))},
				{claim: ptrC(claim("k", "B", exp.Add(time.Hour+time.Second)))},
			},
			want: inProgress("k", "B"),
		},
		{
			name: "claim after an abandoned in-progress record expired takes it",
			steps: []step{
				{claim: ptrC(idempotency.Claim{KeyHash: "k", Owner: "A", Now: base, LockExpiry: exp.Add(time.Hour), Expiry: exp, Validation: "v-k"})},
				{claim: ptrC(claim("k", "B", exp.Add(time.Second)))},
			},
			want: inProgress("k", "B"),
		},
		{
			name: "complete by the owner stores the data",
			steps: []step{
				{claim: ptrC(claim("k", "A", base))},
				{complete: ptrD(completion("k", "A", `"done"`))},
			},
			want: completed("k", "A", `"done"`),
		},
		{
			name: "complete without data",
			steps: []step{
				{claim: ptrC(claim("k", "A", base))},
				{complete: ptrD(completion("k", "A", ""))},
			},
			want: completed("k", "A", ""),
		},
		{
			name: "complete by a stranger is lock lost",
			steps: []step{
				{claim: ptrC(claim("k", "A", base))},
				{complete: ptrD(completion("k", "B", `1`)), wantErr: idempotency.ErrLockLost},
			},
			want: inProgress("k", "A"),
		},
		{
			name: "complete after a takeover is lock lost",
			steps: []step{
				{claim: ptrC(claim("k", "A", base))},
				{claim: ptrC(claim("k", "B", lock.Add(time.Second)))},
				{complete: ptrD(completion("k", "B", `"B"`))},
				{complete: ptrD(completion("k", "A", `"A"`)), wantErr: idempotency.ErrLockLost},
			},
			want: completed("k", "B", `"B"`),
		},
		{
			name:  "complete of a missing record is lock lost and creates nothing",
			steps: []step{{complete: ptrD(completion("k", "A", `1`)), wantErr: idempotency.ErrLockLost}},
			want:  nil,
		},
		{
			name: "release by the owner deletes",
			steps: []step{
				{claim: ptrC(claim("k", "A", base))},
				{release: [2]string{"k", "A"}},
			},
			want: nil,
		},
		{
			name: "release after a takeover is lock lost and keeps the new record",
			steps: []step{
				{claim: ptrC(claim("k", "A", base))},
				{claim: ptrC(claim("k", "B", lock.Add(time.Second)))},
				{release: [2]string{"k", "A"}, wantErr: idempotency.ErrLockLost},
			},
			want: inProgress("k", "B"),
		},
		{
			name:  "release of a missing record is lock lost",
			steps: []step{{release: [2]string{"k", "A"}, wantErr: idempotency.ErrLockLost}},
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := newStore(t)
			// Each case its own key, so stores can be shared.
			key := "ns#" + strings.ReplaceAll(tt.name, " ", "-")
			rekey := func(r *idempotency.Record) *idempotency.Record {
				if r == nil {
					return nil
				}
				c := *r
				c.KeyHash = key
				c.Validation = "v-" + key
				return &c
			}
			for i, st := range tt.steps {
				var err error
				switch {
				case st.claim != nil:
					c := *st.claim
					c.KeyHash, c.Validation = key, "v-"+key
					var held *idempotency.Record
					held, err = s.Claim(ctx, c)
					if diff := cmp.Diff(rekey(st.wantHeld), held); diff != "" {
						t.Errorf("step %d: Claim returned (-want +got):\n%s", i, diff)
					}
				case st.complete != nil:
					c := *st.complete
					c.KeyHash = key
					err = s.Complete(ctx, c)
				default:
					err = s.Release(ctx, key, st.release[1])
				}
				if !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
					t.Fatalf("step %d: error %v, want %v", i, err, st.wantErr)
				}
			}
			gotp := stored(ctx, t, s, key)
			if diff := cmp.Diff(rekey(tt.want), gotp); diff != "" {
				t.Errorf("stored record (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("size limit", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := newStore(t)
		// Three keys of one length share one limit: learn it from an
		// oversized result, then the limit fits and one byte more does not.
		keys := []string{"ns#size-limit-1", "ns#size-limit-2", "ns#size-limit-3"}
		for _, k := range keys {
			if held, err := s.Claim(ctx, claim(k, "A", base)); held != nil || err != nil {
				t.Fatalf("Claim(%s) = %v, %v", k, held, err)
			}
		}
		complete := func(key string, size int) error {
			return s.Complete(ctx, idempotency.Completion{KeyHash: key, Owner: "A", Data: bytes.Repeat([]byte("x"), size), Expiry: exp})
		}
		var tooLarge *idempotency.ResultTooLargeError
		if err := complete(keys[0], idempotency.MaxItemSize); !errors.As(err, &tooLarge) {
			t.Fatalf("Complete(%d bytes) = %v, want *ResultTooLargeError", idempotency.MaxItemSize, err)
		}
		limit := tooLarge.Limit
		if want := (&idempotency.ResultTooLargeError{KeyHash: keys[0], Size: idempotency.MaxItemSize, Limit: limit}); !cmp.Equal(tooLarge, want) {
			t.Errorf("error = %+v, want %+v", tooLarge, want)
		}
		if limit < idempotency.MaxItemSize-1024 || limit >= idempotency.MaxItemSize {
			t.Errorf("limit %d is not within 1 KB under the item size limit", limit)
		}
		if err := complete(keys[1], limit); err != nil {
			t.Fatalf("Complete(limit = %d bytes) = %v, want it stored", limit, err)
		}
		if err := complete(keys[2], limit+1); !errors.Is(err, idempotency.ErrResultTooLarge) {
			t.Fatalf("Complete(limit+1) = %v, want ErrResultTooLarge", err)
		}
		for i, k := range keys {
			r, ok, err := s.Get(ctx, k)
			if err != nil || !ok {
				t.Fatalf("Get(%s) = %v, %v", k, ok, err)
			}
			wantLen := 0
			if i == 1 {
				wantLen = limit
			}
			if r.Status != idempotency.StatusCompleted || len(r.Data) != wantLen {
				t.Errorf("%s: status %s, %d bytes of data; want COMPLETED with %d", k, r.Status, len(r.Data), wantLen)
			}
		}
	})
}

func TestMemoryStoreSemantics(t *testing.T) {
	t.Parallel()
	testStoreSemantics(t, func(*testing.T) inspectable { return idempotency.NewMemoryStore(idempotency.MemoryConfig{}) })
}
