package invoices_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"example.com/invoices"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest"
	"github.com/latchkit/latch/pkg/retry"
)

// fakeCharger counts charges by invoice and fails when told to.
type fakeCharger struct {
	mu      sync.Mutex
	charged map[string]int
	err     error
}

func (c *fakeCharger) Charge(_ context.Context, inv invoices.Invoice) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	if c.charged == nil {
		c.charged = map[string]int{}
	}
	c.charged[inv.ID]++
	return nil
}

func chargeHandler(c invoices.Charger, client *latchtest.SQS) handler.Func[events.SQSEvent, events.SQSEventResponse] {
	guard := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{})})
	return handler.MustNewSQS(invoices.Charge(c), handler.SQSConfig{
		Client:      client,
		Idempotency: guard,
		Key:         handler.KeyJSONField("id"),
		Backoff:     retry.Backoff{Base: 10 * time.Second, Jitter: -1},
	})
}

func TestChargeOnce(t *testing.T) {
	t.Parallel()
	client := latchtest.NewSQS()
	client.AddQueue("invoices", 5)
	c := &fakeCharger{}
	h := chargeHandler(c, client)
	inv := latchtest.JSON(invoices.Invoice{ID: "inv-1", Customer: "c-1", Cents: 500})
	for _, ev := range []events.SQSEvent{
		latchtest.SQSEvent("invoices", latchtest.Message{ID: "m1", Body: inv}, latchtest.Message{ID: "m2", Body: inv}),
		latchtest.SQSEvent("invoices", latchtest.Message{ID: "m3", Body: inv, Attempt: 2}), // redelivered later
	} {
		resp, err := h(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("resp %+v, err %v", resp, err)
		}
	}
	if n := c.charged["inv-1"]; n != 1 {
		t.Fatalf("inv-1 charged %d times, want once", n)
	}
	client.AssertNoDeadLetters(t)
}

func TestInvalidInvoicesGoToTheDLQ(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		reason string
	}{
		{name: "no amount", body: `{"id":"inv-2","cents":0}`, reason: "inv-2: amount must be positive"},
		{name: "no id", body: `{"cents":100}`, reason: "no idempotency key"},
		{name: "not JSON", body: `charge me`, reason: "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := latchtest.NewSQS()
			client.AddQueue("invoices", 5)
			c := &fakeCharger{}
			resp, err := chargeHandler(c, client)(context.Background(), latchtest.SQSEvent("invoices", latchtest.Message{Body: tt.body}))
			if err != nil || len(resp.BatchItemFailures) > 0 {
				t.Fatalf("resp %+v, err %v: want the record dead-lettered and not reported", resp, err)
			}
			d := client.AssertDeadLettered(t, tt.body, tt.reason)
			if d.Class != retry.ClassPermanent.String() {
				t.Errorf("class %q, want permanent", d.Class)
			}
			if len(c.charged) > 0 {
				t.Errorf("charged %v", c.charged)
			}
		})
	}
}

func TestProviderOutageIsRetried(t *testing.T) {
	t.Parallel()
	client := latchtest.NewSQS()
	client.AddQueue("invoices", 5)
	c := &fakeCharger{err: errors.New("provider unavailable")}
	h := chargeHandler(c, client)
	body := `{"id":"inv-3","cents":100}`
	resp, err := h(context.Background(), latchtest.SQSEvent("invoices", latchtest.Message{ID: "m1", Body: body}))
	if err != nil || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("resp %+v, err %v: want m1 reported for a retry", resp, err)
	}
	if d, ok := client.Visibility("m1"); !ok || d != 10*time.Second {
		t.Fatalf("retry in %s (%v), want 10s", d, ok)
	}
	// The last attempt dead-letters it with the provider's error.
	if _, err := h(context.Background(), latchtest.SQSEvent("invoices", latchtest.Message{ID: "m1", Body: body, Attempt: 5})); err != nil {
		t.Fatal(err)
	}
	client.AssertDeadLettered(t, body, "provider unavailable")
}

// fakeReporter keeps the days reported.
type fakeReporter struct {
	mu   sync.Mutex
	days []string
	err  error
}

func (r *fakeReporter) Report(_ context.Context, day time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.days = append(r.days, day.Format(time.DateOnly))
	return nil
}

func TestNightlyReportsTheDayBeforeOnce(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		tick []byte
	}{
		{name: "schedule rule", tick: latchtest.RuleTick("nightly", at)},
		{name: "scheduler", tick: latchtest.SchedulerTick("nightly", at, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &fakeReporter{}
			guard := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{})})
			job := handler.MustNewSchedule(invoices.Nightly(r), handler.ScheduleConfig{Idempotency: guard})
			for range 2 { // delivered twice
				if _, err := job(context.Background(), tt.tick); err != nil {
					t.Fatal(err)
				}
			}
			if len(r.days) != 1 || r.days[0] != "2026-11-26" {
				t.Fatalf("reported %v, want 2026-11-26 once", r.days)
			}
		})
	}
}

func TestNightlyPermanentFailureToFailureQueue(t *testing.T) {
	t.Parallel()
	fq := latchtest.NewFailureQueue()
	r := &fakeReporter{err: retry.Permanent(errors.New("report bucket is gone"))}
	job := handler.MustNewSchedule(invoices.Nightly(r), handler.ScheduleConfig{FailureQueue: fq.Config()})
	tick := latchtest.RuleTick("nightly", time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC))
	if _, err := job(context.Background(), tick); err != nil {
		t.Fatalf("a permanent failure with a failure queue succeeds, got %v", err)
	}
	fq.AssertHolds(t, string(tick), "report bucket is gone")
}
