// Package orderworker is the logic of the order-worker Lambda: it takes
// orders from an SQS standard queue and accepts each one once.
//
// For each message latch's SQS processor hands it (handler.SQS), the Worker
//
//  1. validates the order; an invalid one is a permanent failure
//     (retry.Permanent), which latch sends to the dead-letter queue at once
//     with the reason in its message attributes;
//  2. under an idempotency guard keyed on the order id, records the order in
//     the orders table (a conditional write: once per id) and publishes an
//     OrderAccepted event to the custom bus.
//
// A throttled or failing downstream call is retryable: the message comes
// back after latch's growing backoff, and on its last attempt goes to the
// dead-letter queue with the reason. A duplicate message (same order id)
// changes nothing.
//
// Wiring from the environment (see Env and the Env* constants) is in
// Handler and FromEnv; main.go is FromEnv plus handler.Start.
package orderworker
