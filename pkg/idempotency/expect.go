package idempotency

import (
	"context"

	lru "github.com/hashicorp/golang-lru/v2"
)

// seenSize is how many stored ids a Guard remembers as held in its store
// (committed, or found held) for Transact's prediction. An id is a string of
// about a hundred bytes, so the set stays near 200 KB however busy the
// function; it holds no results, so it never answers a call by itself.
const seenSize = 1024

// newSeen returns the set of stored ids a Guard remembers as held.
func newSeen() *lru.Cache[string, struct{}] {
	s, err := lru.New[string, struct{}](seenSize)
	if err != nil {
		panic(err) // only for a size <= 0
	}
	return s
}

type expectKey struct{}

// ExpectDuplicate returns ctx marked to say that the call made under it is
// likely a duplicate, such as a redelivered message (SQS
// ApproximateReceiveCount > 1; handler.NewSQSTx marks those itself).
// Transact then reads the record first, with one consistent read, and
// answers a held key from it without running the function or sending a
// transaction; when the read finds no record, the call costs that read more
// than unmarked.
//
// Do ignores the mark: its first call, the claim, is already that read.
func ExpectDuplicate(ctx context.Context) context.Context {
	return context.WithValue(ctx, expectKey{}, true)
}

// expects reports whether Transact should read hash's record before
// computing: ctx says the call is likely a duplicate, or this guard has
// seen the key held before (it committed it, or found it held) and the
// cache, if any, no longer answers for it.
//
// Why predict at all: a duplicate sent as a transaction is cancelled on the
// record's condition, and DynamoDB prices and times a cancelled transaction
// as one (two writes per item, the slowest call there is), while a
// consistent GetItem is the cheapest call there is. Reading first for every
// call would add a round trip to every first call, the case Transact exists
// to make cheap; reading first only when a duplicate is likely makes both
// cases cheap when the prediction is right and costs one read when wrong.
func (g *Guard) expects(ctx context.Context, hash string) bool {
	if v, _ := ctx.Value(expectKey{}).(bool); v {
		return true
	}
	return g.seen.Contains(hash)
}

// readFirst reads t's record and answers from it when it is live: true
// with t set to replay it, or the error a held key gives (in progress,
// payload mismatch). False: no live record, commit as usual.
func (g *Guard) readFirst(ctx context.Context, ts TxStore, t *ticket) (bool, error) {
	r, ok, err := ts.Get(ctx, t.hash)
	if err != nil {
		return false, err
	}
	if !ok {
		g.seen.Remove(t.hash)
		return false, nil
	}
	if !r.Live(g.now()) {
		return false, nil
	}
	g.seen.Add(t.hash, struct{}{})
	if err := g.answer(t, &r); err != nil {
		return false, err
	}
	return true, nil
}
