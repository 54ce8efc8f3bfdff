// Package producer is the enqueue side of latch: typed producers that put
// work on an SQS queue (Queue) or an EventBridge bus (Bus) from inside a
// handler, so the consumer on the other end — a latch SQS or EventBridge
// handler — gets typed, correlated, traceable messages.
//
//	orders := producer.MustNewQueue(sqsClient, producer.QueueConfig[LedgerEntry]{URL: ledgerQueueURL,
//		GroupID:        func(e LedgerEntry) string { return e.CustomerID },
//		IdempotencyKey: func(e LedgerEntry) string { return e.OrderID },
//	})
//	res, err := orders.SendBatch(ctx, entries)
//
// # Bodies
//
// A Queue[T] encodes by the rule handler.Message[T] decodes by: a string or
// []byte is the body as it is, anything else is JSON (QueueConfig.Encode
// replaces it). So a Queue[string] and a consumer of Message[string] see
// the same text, and a Queue[Order] and Message[Order] the same struct.
//
// # Batching and retries
//
// SendBatch and PutBatch pack values into as few requests as the service's
// limits allow, by count and by request size (SendMessageBatch: ten
// messages, 1 MiB; PutEvents: ten entries, 1 MiB by EventBridge's
// entry-size rule), keeping their order. Batch calls succeed per entry:
// entries the service refused are retried alone, by their class
// (pkg/retry: throttling and server faults retry, malformed entries do
// not), with a short backoff, up to RetryConfig.MaxAttempts. Every value
// gets a Result — ids when it was sent, the reason when it was not — and
// the call's error (a *SendError) counts the failures: nothing is dropped
// without a word. A value over the queue's MaximumMessageSize (read once
// from the queue, or configured) fails with a *TooLargeError before any
// request, saying how large it is and what the limit is. So does a body
// SQS would not store as given (*InvalidTextError: bytes that are not
// UTF-8, which the SDK would replace with U+FFFD, or characters outside
// SQS's allowed set), naming the entry and the byte. The checksum SQS
// answers is checked per entry, not per call: an entry stored with another
// body is reported sent and altered (*AlteredError, with its MessageID),
// never retried into a copy.
//
// On a FIFO queue each message's group comes from GroupID, and its
// deduplication id from IdempotencyKey (hashed by DeduplicationID) or
// DeduplicationID. A group's order holds across retries: the entries behind
// a refused one wait for it, and are not sent at all if it fails for good
// (ErrGroupFailed).
//
// # Correlation and tracing
//
// A send made with the context of a latch handler carries the correlation
// id of the record being handled (or the invocation's request id) — in the
// handler.CorrelationIDAttribute message attribute on SQS, where the
// consumer's outcome lines pick it up, and in the detail's
// DetailCorrelationKey field on EventBridge — and the invocation's X-Ray
// trace header (SQS's AWSTraceHeader system attribute, PutEvents'
// TraceHeader), so the consumer's trace continues the producer's.
//
// # The at-least-once boundary of a send
//
// A send from inside a handler guarded by pkg/idempotency is not part of
// the guard's record. If the handler sends and then fails — a later step
// errors, the completion write fails, the process dies — the record is
// not completed, the delivery comes back, and the handler runs and sends
// again. The same holds when a request times out after SQS accepted it:
// the retry sends a second copy. The message can therefore arrive twice.
// There are two remedies, and a producer should use at least one:
//
//   - FIFO deduplication: derive the deduplication id from the handler's
//     own idempotency key (QueueConfig.IdempotencyKey). SQS drops a copy
//     sent within five minutes of the first; past that window (a retry
//     after a long backoff) the copy gets through, so the second remedy
//     still matters for slow retries.
//   - The consumer's idempotency: guard the consumer with pkg/idempotency
//     keyed on the business id the message carries (not the SQS message
//     id, which differs between copies). A copy then finds the completed
//     record and is a duplicate, whatever the delay.
//
// The order-worker example uses both: it sends each ledger entry to a FIFO
// queue with the order id as the deduplication key, and the ledger is
// guarded on the order id.
package producer
