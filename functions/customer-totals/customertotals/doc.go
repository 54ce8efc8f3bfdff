// Package customertotals is the example DynamoDB Streams consumer: on
// every order inserted into the orders table it adds the order's amount to
// its customer's running total in the totals table.
//
// Each order is counted once however often its batch comes back (a failed
// record further on, a killed function, bisection): the total's update is
// committed in one transaction with the order's idempotency record
// (handler.NewDynamoDBStreamTx), keyed by the order id. An order the
// function cannot read (no customer, no amount) is permanent: it goes to
// the failure queue (LATCH_FAILURE_QUEUE_URL) with the reason and the
// record, and the shard moves on.
package customertotals
