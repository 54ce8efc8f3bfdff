// Package batch packs entries for the AWS batch calls latch makes —
// SQS SendMessageBatch and EventBridge PutEvents — so that no request
// exceeds either the service's entry count or its request size.
//
// Both calls take at most ten entries, and both reject the whole request
// when the entries together are too large (SQS: BatchRequestTooLong), so a
// batch cut by count alone fails as soon as a few entries are big. Pack
// cuts by both, in order: entries keep their relative order, which FIFO
// queues depend on, and each batch is a consecutive run of the input, so a
// caller maps a batch's results back to its entries by position.
//
// The size of an entry is what the service counts, not the encoded request:
// SQSMessageSize follows SQS (the body plus each attribute's name, data type
// and value) and EventSize follows EventBridge's published entry-size rule.
//
//	batches, err := batch.Pack(entries, batch.SQSEntrySize, batch.SQSLimits)
//	if err != nil { // one entry alone is over the limit
//		return err
//	}
//	for _, b := range batches {
//		client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: b})
//	}
package batch
