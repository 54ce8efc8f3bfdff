package ledger_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/latchkit/latch/functions/ledger/ledger"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	good := ledger.OrderAccepted{OrderID: "o-1", CustomerID: "c-1", AmountCents: 5, Currency: "EUR", AcceptedAt: "2026-11-22T10:15:01Z"}
	tests := []struct {
		name   string
		change func(*ledger.OrderAccepted)
		want   string
	}{
		{name: "valid", change: func(*ledger.OrderAccepted) {}},
		{name: "no customer", change: func(o *ledger.OrderAccepted) { o.CustomerID = "" }, want: "customerId is empty"},
		{name: "no order id", change: func(o *ledger.OrderAccepted) { o.OrderID = "" }, want: "orderId is empty"},
		{name: "negative amount", change: func(o *ledger.OrderAccepted) { o.AmountCents = -1 }, want: "amountCents -1"},
		{name: "time not RFC 3339", change: func(o *ledger.OrderAccepted) { o.AcceptedAt = "22/11/2026" }, want: "acceptedAt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := good
			tt.change(&o)
			err := o.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ledger.ErrInvalidEvent) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want ErrInvalidEvent saying %q", err, tt.want)
			}
		})
	}
}

// TestKey: an order republished under another event id and acceptance time
// is the same request; the same order id for another amount is not.
func TestKey(t *testing.T) {
	t.Parallel()
	ev := func(id, at string, amount int64) handler.Event[ledger.OrderAccepted] {
		return handler.Event[ledger.OrderAccepted]{ID: id, Detail: ledger.OrderAccepted{OrderID: "o-1", CustomerID: "c-1", AmountCents: amount, Currency: "EUR", AcceptedAt: at}}
	}
	key := func(e handler.Event[ledger.OrderAccepted]) idempotency.Key { k, _ := ledger.Key(e); return k }
	a, b, c := key(ev("e1", "2026-11-22T10:15:01Z", 5)), key(ev("e2", "2026-11-22T10:15:04Z", 5)), key(ev("e3", "2026-11-22T10:15:01Z", 6))
	if a.ID != "o-1" || b.ID != a.ID || !bytes.Equal(a.Payload, b.Payload) {
		t.Errorf("republished order: keys %+v and %+v differ", a, b)
	}
	if bytes.Equal(a.Payload, c.Payload) {
		t.Errorf("another amount has the same payload %q", a.Payload)
	}
}
