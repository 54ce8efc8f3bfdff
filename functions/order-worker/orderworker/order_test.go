package orderworker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/latchkit/latch/functions/order-worker/orderworker"
	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/retry"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	good := orderworker.Order{OrderID: "o-1", CustomerID: "c-1", AmountCents: 1, Currency: "EUR", PlacedAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	tests := []struct {
		name   string
		change func(*orderworker.Order)
		want   []string // parts of the error; nil for valid
	}{
		{name: "valid", change: func(*orderworker.Order) {}},
		{name: "no customer", change: func(o *orderworker.Order) { o.CustomerID = " " }, want: []string{"invalid order o-1", "customerId is empty"}},
		{name: "zero amount", change: func(o *orderworker.Order) { o.AmountCents = 0 }, want: []string{"amountCents 0 is not positive"}},
		{name: "lower-case currency", change: func(o *orderworker.Order) { o.Currency = "eur" }, want: []string{`currency "eur"`}},
		{name: "no time", change: func(o *orderworker.Order) { o.PlacedAt = time.Time{} }, want: []string{"placedAt is missing"}},
		{name: "everything wrong", change: func(o *orderworker.Order) { *o = orderworker.Order{AmountCents: -5} },
			want: []string{"invalid order (no id)", "orderId is empty", "customerId is empty", "amountCents -5", "currency", "placedAt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := good
			tt.change(&o)
			err := o.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, orderworker.ErrInvalidOrder) {
				t.Fatalf("Validate() = %v, want ErrInvalidOrder", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	ids := make([]string, 2000)
	for i := range ids {
		ids[i] = fmt.Sprintf("r1-o%04d", i)
	}
	tests := []struct {
		name    string
		percent int
		lo, hi  int // selected ids out of 2000
	}{
		{name: "off", percent: 0, lo: 0, hi: 0},
		{name: "ten percent", percent: 10, lo: 150, hi: 250},
		{name: "half", percent: 50, lo: 900, hi: 1100},
		{name: "all", percent: 100, lo: 2000, hi: 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := orderworker.Faults{Percent: tt.percent}
			n := 0
			for _, id := range ids {
				if !f.Selects(id) {
					if f.Check(id, 1) != nil {
						t.Fatalf("%s not selected but Check fails it", id)
					}
					continue
				}
				n++
				for attempt := 1; attempt <= orderworker.FaultAttempts; attempt++ {
					err := f.Check(id, attempt)
					if err == nil || retry.Classify(err) != retry.ClassRetryable || !strings.Contains(err.Error(), "ThrottlingException") {
						t.Fatalf("Check(%s, %d) = %v, want a retryable throttling error", id, attempt, err)
					}
				}
				if err := f.Check(id, orderworker.FaultAttempts+1); err != nil {
					t.Fatalf("Check(%s, %d) = %v, want nil after the faulty attempts", id, orderworker.FaultAttempts+1, err)
				}
			}
			if n < tt.lo || n > tt.hi {
				t.Errorf("%d%% selects %d of %d ids, want %d to %d", tt.percent, n, len(ids), tt.lo, tt.hi)
			}
		})
	}
}

// TestBuildNamesEveryProblem: a cold start with nothing set names every
// required variable, and one malformed, in one error; with them set it
// builds.
func TestBuildNamesEveryProblem(t *testing.T) {
	t.Parallel()
	opts := function.Options{AWS: &aws.Config{Region: "us-east-1"}, Getenv: func(k string) string {
		if k == orderworker.EnvTransientFaultPercent {
			return "101"
		}
		return ""
	}}
	_, _, err := function.Prepare(context.Background(), opts, orderworker.Build)
	for _, want := range []string{"LATCH_IDEMPOTENCY_TABLE is not set", "ORDERS_TABLE is not set", "ORDERS_BUS is not set", "TRANSIENT_FAULT_PERCENT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Build with nothing set: %v; want it to say %q", err, want)
		}
	}
	vars := map[string]string{"LATCH_IDEMPOTENCY_TABLE": "idem", "ORDERS_TABLE": "orders", "ORDERS_BUS": "bus", "TRANSIENT_FAULT_PERCENT": "15"}
	opts.Getenv = func(k string) string { return vars[k] }
	if _, _, err := function.Prepare(context.Background(), opts, orderworker.Build); err != nil {
		t.Errorf("Build with every variable set: %v", err)
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	const good = `{"orderId":"o-1","customerId":"c-1","amountCents":100,"currency":"EUR","placedAt":"2026-11-22T10:00:00Z"}`
	tests := []struct {
		name, body string
		wantID     string
		wantErr    string // part of a permanent error
	}{
		{name: "valid", body: good, wantID: "o-1"},
		{name: "not JSON", body: "order o-1 <truncated", wantErr: "body is not an order"},
		{name: "invalid", body: `{"orderId":"o-2","amountCents":500,"currency":"EUR","placedAt":"2026-11-22T10:00:00Z"}`, wantErr: "customerId is empty"},
		{name: "no id", body: `{"customerId":"c-1","amountCents":500,"currency":"EUR","placedAt":"2026-11-22T10:00:00Z"}`, wantErr: "orderId is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := orderworker.Key(events.SQSMessage{Body: tt.body})
			if tt.wantErr != "" {
				if err == nil || retry.Classify(err) != retry.ClassPermanent || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Key() error %v, want a permanent one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || k.ID != tt.wantID || len(k.Payload) == 0 {
				t.Fatalf("Key() = %+v, %v; want id %s with a payload", k, err, tt.wantID)
			}
		})
	}
	// The same id with another amount is not the same request.
	a, _ := orderworker.Key(events.SQSMessage{Body: good})
	b, _ := orderworker.Key(events.SQSMessage{Body: strings.Replace(good, `"amountCents":100`, `"amountCents":101`, 1)})
	if a.ID != b.ID || string(a.Payload) == string(b.Payload) {
		t.Errorf("keys %+v and %+v: want one id, two payloads", a, b)
	}
}
