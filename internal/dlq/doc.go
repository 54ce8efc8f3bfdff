// Package dlq reads and redrives dead-letter queues that latch's SQS
// processor writes to.
//
// latch sends a permanently failing record to the dead-letter queue at
// once, with the reason in message attributes (pkg/handler's DLQAttr*
// names: the error, its class, the receive count, the source queue, the
// time, and the record's message id in its source queue). List shows those
// messages without consuming them; Redrive moves them back to the queue
// they came from, deleting each from the dead-letter queue only after its
// destination accepted it.
//
// The source message id is what ties the two together. A process killed
// between its DLQ send and the delete of the original sends a record
// twice: List shows such copies once, and Redrive moves the record once
// and deletes the other copies. And a redrive with the queue's consumer
// running, whose records fail again at once, must not chase its own tail:
// Redrive moves only what the queue held when it started, and recognises a
// message it moved when it comes back (its source id is the id its send
// returned), so it ends and never makes copies.
//
//	res, err := dlq.Redrive(ctx, client, dlqURL, dlq.RedriveOptions{Class: "permanent"})
package dlq
