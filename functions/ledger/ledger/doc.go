// Package ledger is the logic of the ledger Lambda: it consumes
// OrderAccepted events that order-worker sends to an SQS FIFO queue (one
// message group per customer) and appends one entry per order to the customer's ledger, in the order
// the events arrive.
//
// The ledger table has one item per entry: partition key customerId, sort
// key seq (a Number, 1, 2, 3, ... per customer), and the orderId,
// acceptedAt (RFC 3339, copied from the event), amountCents and currency of
// the order. Nothing else is in the table, so counting items per orderId
// counts entries.
//
// Once per order: latch's SQS processor runs each order id under the
// idempotency guard (SQSConfig.Key = handler.KeyEvent(Key)) in the
// transactional form (handler.NewSQSTx): Consume reads the customer's last
// entry and returns the next entry's Put, conditional on its sequence
// number being free, and latch commits it together with the idempotency
// record in one transaction. An order published twice under two event ids
// is appended once, and the second is reported as a duplicate; an entry is
// never appended without its record, so no append can be left without one.
// If the record has expired and the order comes again, it is found as the
// customer's last entry and nothing is appended.
//
// In order: the SQS processor runs a FIFO message group in order and stops
// the group at the first failure, so an entry never overtakes one before it.
package ledger
