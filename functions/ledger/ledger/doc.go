// Package ledger is the logic of the ledger Lambda: it consumes
// OrderAccepted events that an EventBridge rule puts on an SQS FIFO queue
// and appends one entry per order to the customer's ledger, in the order
// the events arrive.
//
// The ledger table has one item per entry: partition key customerId, sort
// key seq (a Number, 1, 2, 3, ... per customer), and the orderId,
// acceptedAt (RFC 3339, copied from the event), amountCents and currency of
// the order. Nothing else is in the table, so counting items per orderId
// counts entries.
//
// Once per order: latch's idempotency guard runs each order id once
// (EventBridgeConfig.Key), so an order published twice under two event ids
// is appended once. The gap the guard cannot close by itself, an append
// that committed before the invocation died and never completed its
// idempotency record, is closed by the queue's order: the redelivery of that
// message comes before anything later in its group, so it finds its own
// order as the customer's last entry and appends nothing.
//
// In order: the SQS processor runs a FIFO message group in order and stops
// the group at the first failure, so an entry never overtakes one before it.
package ledger
