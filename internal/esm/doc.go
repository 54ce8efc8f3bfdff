// Package esm does locally what a Lambda event source mapping does for an
// SQS trigger with ReportBatchItemFailures on: long-poll the queue, hand
// each batch to the function as an events.SQSEvent, delete the records that
// succeeded, and leave the rest for SQS's visibility timeout and redrive.
//
// The integration tests and the local runner use it to drive handlers
// against an emulator exactly as Lambda would:
//
//	cfg := esm.Config{Client: sqsClient, QueueURL: url, BatchSize: 10}
//	err := esm.Run(ctx, cfg, handler) // until ctx is done
//
// Poll does a single receive–invoke–delete step, for tests that want to
// look between batches.
package esm
