// Package dlq reads and redrives dead-letter queues that latch's SQS
// processor writes to.
//
// latch sends a permanently failing record to the dead-letter queue at
// once, with the reason in message attributes (pkg/handler's DLQAttr*
// names: the error, its class, the receive count, the source queue, the
// time). List shows those messages without consuming them; Redrive moves
// them back to the queue they came from, deleting each from the
// dead-letter queue only after its destination accepted it.
package dlq
