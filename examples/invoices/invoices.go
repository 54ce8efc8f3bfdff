// Package invoices is a small service built on latch, in a module of its
// own: an SQS consumer that charges each invoice once, and a nightly job
// that writes one report per night. It uses only latch's public packages,
// and its tests use only latch's public test kit.
package invoices

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/retry"
)

// Invoice is the body of a message on the invoices queue.
type Invoice struct {
	ID       string `json:"id"`
	Customer string `json:"customer"`
	Cents    int64  `json:"cents"`
}

// Charger takes the money: a payment provider in production, a table
// here. Its errors are classified by latch: wrap one in retry.Permanent if
// retrying it cannot help.
type Charger interface {
	Charge(ctx context.Context, inv Invoice) error
}

// Reporter writes the report of the day before a nightly tick.
type Reporter interface {
	Report(ctx context.Context, day time.Time) error
}

// ErrInvalidInvoice is an invoice that cannot be charged: it goes to the
// dead-letter queue at once, with the reason.
var ErrInvalidInvoice = errors.New("invalid invoice")

// Charge returns the record function of the invoices queue. Run under an
// idempotency guard keyed by the invoice id, an invoice sent twice is
// charged once.
func Charge(c Charger) func(ctx context.Context, m handler.Message[Invoice]) error {
	return func(ctx context.Context, m handler.Message[Invoice]) error {
		inv := m.Body
		switch {
		case inv.ID == "":
			return retry.Permanent(fmt.Errorf("%w: no id", ErrInvalidInvoice))
		case inv.Cents <= 0:
			return retry.Permanent(fmt.Errorf("%w %s: amount must be positive, got %d cents", ErrInvalidInvoice, inv.ID, inv.Cents))
		}
		return c.Charge(ctx, inv)
	}
}

// Nightly returns the job of the nightly schedule, cron(0 2 * * ? *): the
// report of the day before the tick's scheduled time (not the time it
// arrived, which a retry moves).
func Nightly(r Reporter) func(ctx context.Context, t handler.Tick) error {
	return func(ctx context.Context, t handler.Tick) error {
		day := t.Time.UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
		return r.Report(ctx, day)
	}
}
