// Package orderworker is the logic of the order-worker Lambda: it takes
// orders from an SQS standard queue and accepts each one once.
//
// latch's SQS processor (handler.NewSQS) keys each message by its order id
// (Key) and runs it under the idempotency guard; Key refuses an invalid
// order as a permanent failure (retry.Permanent), which latch sends to the
// dead-letter queue at once with the reasons in its message attributes. For
// each new order the Worker computes its write to the orders table (a Put
// conditional on the order id), which latch commits together with the
// idempotency record in one transaction (handler.NewSQSTx, idempotency.
// Transact): the order is in the table once, never without its record, in
// one round trip. After the commit the Worker publishes an OrderAccepted
// event to the custom bus and sends it to the ledger's FIFO queue through a
// producer.Queue (NewLedgerQueue): message group = customer id, so
// customers are processed in parallel and each in order, and a
// deduplication id from the order id, so a redelivery's send is dropped.
//
// A throttled or failing downstream call is retryable: the message comes
// back after latch's growing backoff, and on its last attempt goes to the
// dead-letter queue with the reason. A duplicate message (same order id)
// changes nothing.
//
// Wiring from the environment (see Env and the Env* constants) is in
// Handler and FromEnv; main.go is FromEnv plus handler.Start.
package orderworker
