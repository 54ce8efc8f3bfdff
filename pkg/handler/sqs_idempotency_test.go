package handler_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
)

func newGuard(t testing.TB, cfg idempotency.Config) *idempotency.Guard {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	}
	g, err := idempotency.NewGuard(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestSQSIdempotencyDuplicates(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 3)
	guard := newGuard(t, idempotency.Config{Namespace: "test"})
	var ran atomic.Int32
	obs := &recorder{}
	h := handler.MustNewSQS(func(context.Context, handler.Message[order]) error { ran.Add(1); return nil },
		handler.SQSConfig{Client: client, Idempotency: guard, Key: handler.KeyJSONField("order_id"), Observer: obs, Logger: discard, Concurrency: 1})
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
	if ran.Load() != 2 {
		t.Errorf("ran %d times, want 2", ran.Load())
	}
	if got, want := obs.report("m3").KeyHash, guard.KeyHash("o-1"); got != want || obs.report("m1").KeyHash != want {
		t.Errorf("key hash %q, want %q on both records of o-1", got, want)
	}
	if k := obs.report("m1").KeyDisplay; k != "" {
		t.Errorf("report names the key %q without WithDisplay; want only its hash", k)
	}
}

// A key function WithDisplay names the key in the report (and so in the
// outcome line), on the first run and on the duplicate alike.
func TestSQSIdempotencyKeyDisplay(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 3)
	guard := newGuard(t, idempotency.Config{Namespace: "test"})
	obs := &recorder{}
	h := handler.MustNewSQS(func(context.Context, handler.Message[order]) error { return nil },
		handler.SQSConfig{Client: client, Idempotency: guard, Key: handler.KeyJSONField("order_id").WithDisplay("order %s"), Observer: obs, Logger: discard, Concurrency: 1})
	if _, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("o-17")}, msg{id: "m2", body: body("o-17")})); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"m1", "m2"} {
		if r := obs.report(id); r.KeyDisplay != "order o-17" || r.KeyHash != guard.KeyHash("o-17") {
			t.Errorf("%s: report key %q hash %q; want %q and the hash of o-17", id, r.KeyDisplay, r.KeyHash, "order o-17")
		}
	}
}

func TestSQSIdempotencyFailureReleasesKey(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 5)
	guard := newGuard(t, idempotency.Config{})
	calls := 0
	obs := &recorder{}
	h := handler.MustNewSQS(func(context.Context, handler.Message[order]) error {
		calls++
		if calls == 1 {
			return errFlaky
		}
		return nil
	}, handler.SQSConfig{Client: client, Idempotency: guard, Key: handler.KeyMessageID, Observer: obs, Logger: discard})
	ev := sqsEvent("orders", msg{id: "m1", body: body("o-1")})
	if _, err := h(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	ev.Records[0].Attributes["ApproximateReceiveCount"] = "2"
	ev.Records[0].MessageId = "m1" // same delivery id, second receive
	obs2 := &recorder{}
	h2 := handler.MustNewSQS(func(context.Context, handler.Message[order]) error { calls++; return nil },
		handler.SQSConfig{Client: client, Idempotency: guard, Key: handler.KeyMessageID, Observer: obs2, Logger: discard})
	if _, err := h2(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if got := obs2.report("m1").Outcome; got != handler.Succeeded || calls != 2 {
		t.Errorf("retry after a failure: %s after %d calls; want it to run again and succeed", got, calls)
	}
}

// TestSQSIdempotencyInProgress runs two records with one key at once: the
// second finds the first's lock and comes back when that lock dies, which is
// the invocation's deadline.
func TestSQSIdempotencyInProgress(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 5)
	now := time.Now()
	store := &conflictSignal{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), conflict: make(chan struct{}, 2)}
	guard := newGuard(t, idempotency.Config{Store: store, Now: func() time.Time { return now }})
	release := make(chan struct{})
	obs := &recorder{}
	var ran atomic.Int32
	h := handler.MustNewSQS(func(ctx context.Context, m handler.Message[order]) error {
		ran.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}, handler.SQSConfig{Client: client, Idempotency: guard, Key: handler.KeyJSONField("order_id"), Observer: obs, Logger: discard, Now: func() time.Time { return now }})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	go func() {
		<-store.conflict // the second record has found the first's lock
		close(release)
	}()
	resp, err := h(ctx, sqsEvent("orders", msg{id: "m1", body: body("o-1")}, msg{id: "m2", body: body("o-1")}))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || ran.Load() != 1 {
		t.Fatalf("failures %v, ran %d; want one run and one record back", resp.BatchItemFailures, ran.Load())
	}
	back := resp.BatchItemFailures[0].ItemIdentifier
	r := obs.report(back)
	if !errors.Is(r.Err, idempotency.ErrInProgress) || r.Outcome != handler.RetryScheduled {
		t.Fatalf("report %+v; want retry_scheduled on ErrInProgress", r)
	}
	// the lock dies at the context deadline, 40s away less what has passed
	if secs, _ := client.visibilityOf("rh-" + back); secs < 35 || secs > 40 {
		t.Errorf("visibility %ds, want the lock's remaining life (about 40s)", secs)
	}
}

// conflictSignal is a store that says when a claim finds the key held.
type conflictSignal struct {
	idempotency.Store
	conflict chan struct{}
}

func (s *conflictSignal) Claim(ctx context.Context, c idempotency.Claim) (*idempotency.Record, error) {
	held, err := s.Store.Claim(ctx, c)
	if held != nil {
		s.conflict <- struct{}{}
	}
	return held, err
}

func TestSQSIdempotencyPayloadMismatchIsDeadLettered(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 5)
	guard := newGuard(t, idempotency.Config{})
	// a key of one's own: order id, checked against the amount
	key := func(m events.SQSMessage) (idempotency.Key, error) {
		k, err := handler.KeyJSONField("order_id")(m)
		k.Payload = []byte(m.Body)
		return k, err
	}
	obs := &recorder{}
	h := handler.MustNewSQS(func(context.Context, handler.Message[order]) error { return nil },
		handler.SQSConfig{Client: client, Idempotency: guard, Key: key, Observer: obs, Logger: discard, Concurrency: 1})
	_, err := h(context.Background(), sqsEvent("orders", msg{id: "m1", body: body("o-1")}, msg{id: "m2", body: `{"order_id":"o-1","amount":999}`}))
	if err != nil {
		t.Fatal(err)
	}
	if r := obs.report("m2"); r.Outcome != handler.DeadLettered || !errors.Is(r.Err, idempotency.ErrPayloadMismatch) {
		t.Errorf("report %+v; want the mismatch dead-lettered", r)
	}
	if len(client.sent) != 1 || aws.ToString(client.sent[0].MessageAttributes[handler.DLQAttrErrorClass].StringValue) != "permanent" {
		t.Errorf("DLQ sends %d", len(client.sent))
	}
}

func TestSQSIdempotencyMissingKey(t *testing.T) {
	t.Parallel()
	client := newFakeSQS()
	client.addQueue("orders", 5)
	obs := &recorder{}
	var ran atomic.Int32
	fn := func(context.Context, handler.Message[string]) error { ran.Add(1); return nil }
	strict := handler.MustNewSQS(fn, handler.SQSConfig{Client: client, Idempotency: newGuard(t, idempotency.Config{}), Key: handler.KeyJSONField("order_id"), Observer: obs, Logger: discard})
	if _, err := strict(context.Background(), sqsEvent("orders", msg{id: "m1", body: `{"id":1}`}, msg{id: "m2", body: `not json`})); err != nil {
		t.Fatal(err)
	}
	if r := obs.report("m1"); r.Outcome != handler.DeadLettered || !errors.Is(r.Err, idempotency.ErrNoKey) {
		t.Errorf("missing key: %+v; want dead-lettered with ErrNoKey", r)
	}
	if r := obs.report("m2"); r.Outcome != handler.DeadLettered {
		t.Errorf("unreadable key: %+v; want dead-lettered", r)
	}
	if ran.Load() != 0 {
		t.Errorf("ran %d records without a key", ran.Load())
	}
	lenient := handler.MustNewSQS(fn, handler.SQSConfig{Client: client, Idempotency: newGuard(t, idempotency.Config{AllowMissingKey: true}), Key: handler.KeyJSONField("order_id"), Logger: discard})
	if resp, err := lenient(context.Background(), sqsEvent("orders", msg{id: "m3", body: `{"id":1}`})); err != nil || len(resp.BatchItemFailures) != 0 || ran.Load() != 1 {
		t.Errorf("AllowMissingKey: resp %v, err %v, ran %d; want it run unguarded", resp, err, ran.Load())
	}
}

func TestSQSIdempotencyConfig(t *testing.T) {
	t.Parallel()
	guard := newGuard(t, idempotency.Config{})
	for _, tc := range []struct {
		name string
		cfg  handler.SQSConfig
		ok   bool
	}{
		{name: "guard without key", cfg: handler.SQSConfig{Client: newFakeSQS(), Idempotency: guard}},
		{name: "key without guard", cfg: handler.SQSConfig{Client: newFakeSQS(), Key: handler.KeyMessageID}},
		{name: "both", cfg: handler.SQSConfig{Client: newFakeSQS(), Idempotency: guard, Key: handler.KeyBodyHash}, ok: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := handler.NewSQS(func(context.Context, handler.Message[string]) error { return nil }, tc.cfg)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, handler.ErrConfig)) {
				t.Errorf("NewSQS error = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
