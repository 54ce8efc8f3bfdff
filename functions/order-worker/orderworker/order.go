package orderworker

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Order is an order message as it arrives on OrdersQueue.
type Order struct {
	OrderID     string    `json:"orderId"`
	CustomerID  string    `json:"customerId"`
	AmountCents int64     `json:"amountCents"`
	Currency    string    `json:"currency"`
	PlacedAt    time.Time `json:"placedAt"`
}

// ErrInvalidOrder is what every validation failure matches. The worker
// marks it permanent: the same message fails the same way every time, so it
// goes to the dead-letter queue at once, with the reasons.
var ErrInvalidOrder = errors.New("invalid order")

// Validate returns nil for an order the worker can accept, else an error
// matching ErrInvalidOrder that lists every problem.
func (o Order) Validate() error {
	var why []string
	if strings.TrimSpace(o.OrderID) == "" {
		why = append(why, "orderId is empty")
	}
	if strings.TrimSpace(o.CustomerID) == "" {
		why = append(why, "customerId is empty")
	}
	if o.AmountCents <= 0 {
		why = append(why, fmt.Sprintf("amountCents %d is not positive", o.AmountCents))
	}
	if !isCurrency(o.Currency) {
		why = append(why, fmt.Sprintf("currency %q is not an ISO 4217 code", o.Currency))
	}
	if o.PlacedAt.IsZero() {
		why = append(why, "placedAt is missing")
	}
	if len(why) == 0 {
		return nil
	}
	id := o.OrderID
	if id == "" {
		id = "(no id)"
	}
	return fmt.Errorf("%w %s: %s", ErrInvalidOrder, id, strings.Join(why, "; "))
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// fingerprint is what must match when an order id comes again: the same id
// with other contents is a client bug, not a duplicate.
func (o Order) fingerprint() []byte {
	b, _ := json.Marshal(struct {
		CustomerID  string `json:"customerId"`
		AmountCents int64  `json:"amountCents"`
		Currency    string `json:"currency"`
		PlacedAt    string `json:"placedAt"`
	}{o.CustomerID, o.AmountCents, o.Currency, o.PlacedAt.UTC().Format(time.RFC3339Nano)})
	return b
}

// OrderAccepted is the detail of the event the worker publishes once an
// order is recorded. AcceptedAt is RFC 3339 in UTC, to the second, and is
// the time the order was first recorded: a republish carries the same one.
type OrderAccepted struct {
	OrderID     string `json:"orderId"`
	CustomerID  string `json:"customerId"`
	AmountCents int64  `json:"amountCents"`
	Currency    string `json:"currency"`
	AcceptedAt  string `json:"acceptedAt"`
}

// The OrderAccepted event's envelope: on the bus, and in the messages the
// worker sends to the ledger's queue.
const (
	EventSource     = "latch.orders"
	EventDetailType = "OrderAccepted"
)
