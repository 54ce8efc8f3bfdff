// Package billing is the second package of the fixture, named by shop's
// comments.
package billing

// Invoice is a bill.
type Invoice struct {
	// Total in cents.
	Total int
}
