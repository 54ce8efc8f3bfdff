// Package shop is a fixture for doccheck: every line marked as bad names
// something that does not exist, and every other reference resolves (or
// is not this module's to know).
//
//	cart := shop.NewCart(shop.Config{Limit: 3})
//	shop.MustNewCart(cfg) // (bad)
package shop

import (
	"errors"
	"strings"

	"example.com/broken/billing"
)

// ErrFull means the cart is full. See [Cart.Add] and [Config.Limit];
// not [Cart.Remove] (bad),
// nor [Missing] (bad).
var ErrFull = errors.New("shop: full")

// Config configures NewCart. Config.Limit is checked;
// Config.Color is not a field (bad).
// A slice index such as items[Index] is not a link.
type Config struct {
	// Limit bounds the cart. Zero means DefaultLimit;
	// DefaultSize does not exist (bad).
	Limit int
	// Bill is where totals go: billing.Invoice.Total is a field,
	// billing.Invoice.Tax is not (bad),
	// billing.Receipt does not exist (bad).
	Bill *billing.Invoice
}

// DefaultLimit is Config.Limit's default. strings.Builder is another
// module's name and is not checked; nor is cfg.Whatever, a local variable.
const DefaultLimit = 10

// Cart holds items. It embeds Basket, so Cart.Count is a member too.
type Cart struct {
	Basket
	items []string
}

// Basket counts items.
type Basket struct{ n int }

// Count returns the number of items.
func (b *Basket) Count() int { return b.n }

// NewCart returns an empty Cart. It never fails with ErrFull,
// nor with ErrClosed (bad).
func NewCart(cfg Config) *Cart { return &Cart{} }

// Add adds an item; [billing.Invoice] records it,
// [billing.Refund] does not exist (bad).
func (c *Cart) Add(item string) error {
	c.items = append(c.items, strings.TrimSpace(item)) // ErrNotInADocComment is ignored
	return nil
}
