// Package checkpoint keeps durable cursors for pollers: where a poller
// reading a feed that cannot push (a partner API page by page, an S3
// prefix, a table's "updated since") has got to, so the next run resumes
// there.
//
// A cursor is only safe to move for one reader at a time, so a checkpoint is
// held under a lease with an owner token, fenced the way pkg/idempotency
// fences its records: Acquire takes a checkpoint nobody holds (or whose
// lease died) with a fresh token, Commit moves the cursor only for that
// token, from the version it read, while the lease lives, and Release gives
// it up. Two overlapping holders therefore never both commit the same page,
// and a stale holder — one that stalled past its lease — can neither move
// the cursor nor free the new holder's lease. What a stale holder read is
// read again by the next one: never skipped, and the items' own idempotency
// keeps their effects single.
//
// DynamoDBStore keeps each checkpoint as one item, by default in the
// idempotency table under "checkpoint#<name>"; MemoryStore has the same
// semantics for tests and local runs. handler.Poller is the poller built on it.
//
//	store := checkpoint.MustNewDynamoDBStore(db, checkpoint.DynamoDBConfig{Table: table})
//	lease, err := store.Acquire(ctx, "partner-feed", time.Minute)
//	if errors.Is(err, checkpoint.ErrHeld) {
//		return nil // another run has it
//	}
//	page := fetch(lease.Cursor)
//	handle(page.Items)
//	lease, err = store.Commit(ctx, lease, checkpoint.Position{Cursor: page.Next})
//	...
//	store.Release(ctx, lease)
package checkpoint
