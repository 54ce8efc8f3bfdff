package handler

import (
	"context"
	"time"
)

// Source is a feed that cannot push: a partner API read page by page, an
// S3 prefix listed from a marker, a table's "updated since". Poll reads it
// from a cursor it keeps in a checkpoint.
type Source[T any] interface {
	// Fetch returns the page that starts at cursor ("" is the feed's
	// beginning). It must be repeatable: the same cursor gives the same
	// items (or, for a live feed, the same items and newer ones), because a
	// page whose processing did not finish is fetched again.
	Fetch(ctx context.Context, cursor string) (Page[T], error)
}

// SourceFunc adapts a function to Source.
type SourceFunc[T any] func(ctx context.Context, cursor string) (Page[T], error)

// Fetch calls f.
func (f SourceFunc[T]) Fetch(ctx context.Context, cursor string) (Page[T], error) {
	return f(ctx, cursor)
}

// Page is one fetch's answer.
type Page[T any] struct {
	// Items are the page's items, in feed order.
	Items []T
	// Next is the cursor after this page: where the next fetch starts.
	Next string
	// More says the feed has more after Next now. False ends the poll
	// after this page: the feed is caught up until the next tick.
	More bool
	// Watermark is the feed time the page reaches (its newest item's),
	// zero when the feed has no such time. Poll reports the lag from it.
	Watermark time.Time
}
