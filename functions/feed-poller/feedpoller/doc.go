// Package feedpoller is the logic of the feed-poller Lambda: a feed that
// cannot push (a partner's paged HTTP API) read on a schedule with
// handler.Poller (its Poll method, run by handler.NewPollSchedule).
//
// Each tick takes the feed's checkpoint under a lease (pkg/checkpoint, in
// the idempotency table), fetches pages from the cursor, handles each item
// under the idempotency guard (its effect: one counter update per item in
// the feed table), commits the cursor after each whole page, and stops
// before the Lambda deadline. A tick that finds the checkpoint held by
// another does nothing; a tick that dies mid-page leaves the cursor at the
// page's start, and the guard makes the items it had done duplicates when
// the next tick fetches the page again.
//
// For the local demo the feed can ask the function to crash on an item
// (Item.Crash) when fault injection is on (TRANSIENT_FAULT_PERCENT > 0):
// the process exits before the item's effect, as a killed function would.
package feedpoller
