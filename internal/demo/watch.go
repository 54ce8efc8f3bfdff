package demo

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// watcher shows live progress until the orders have settled: every valid
// order recorded and in the ledger, every invalid one dead-lettered, and
// nothing left in flight.
type watcher struct {
	t     Target
	names map[string]string
	w     io.Writer
}

type progress struct {
	orders, ledger, dlq, inFlight int
	counts                        map[string]int
}

func (p progress) String() string {
	return fmt.Sprintf("orders %d  ledger %d  dead-lettered %d  in flight %d  | outcomes: succeeded %d  duplicate %d  retry_scheduled %d  blocked %d  dead_lettered %d  failed %d",
		p.orders, p.ledger, p.dlq, p.inFlight,
		p.counts["succeeded"], p.counts["duplicate"], p.counts["retry_scheduled"], p.counts["blocked"], p.counts["dead_lettered"], p.counts["failed"])
}

func (w8 *watcher) untilSettled(ctx context.Context, wantOrders, wantDLQ int) error {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	var last progress
	for {
		p, err := w8.sample(ctx)
		if err != nil {
			return err
		}
		if p.String() != last.String() {
			fmt.Fprintf(w8.w, "demo: %s\n", p)
		}
		last = p
		if p.orders >= wantOrders && p.ledger >= wantOrders && p.dlq >= wantDLQ && p.inFlight == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("demo: not settled before the deadline (want %d orders, %d in the ledger, %d dead-lettered): last %s", wantOrders, wantOrders, wantDLQ, last)
		case <-tick.C:
		}
	}
}

func (w8 *watcher) sample(ctx context.Context) (progress, error) {
	var p progress
	var err error
	if p.orders, err = countItems(ctx, w8.t.DynamoDB, w8.names[OrdersTable]); err != nil {
		return p, err
	}
	if p.ledger, err = countItems(ctx, w8.t.DynamoDB, w8.names[LedgerTable]); err != nil {
		return p, err
	}
	src, err := queueDepth(ctx, w8.t.SQS, w8.names[OrdersQueue])
	if err != nil {
		return p, err
	}
	p.inFlight = src
	if p.dlq, err = queueDepth(ctx, w8.t.SQS, w8.names[OrdersDLQ]); err != nil {
		return p, err
	}
	p.counts = w8.t.Outcomes.Count("")
	return p, nil
}

func countItems(ctx context.Context, c *dynamodb.Client, table string) (int, error) {
	n := 0
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), Select: ddbtypes.SelectCount})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("demo: count %s: %w", table, err)
		}
		n += int(out.Count)
	}
	return n, nil
}

func scanAll(ctx context.Context, c *dynamodb.Client, table string) ([]map[string]ddbtypes.AttributeValue, error) {
	var items []map[string]ddbtypes.AttributeValue
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("demo: scan %s: %w", table, err)
		}
		items = append(items, out.Items...)
	}
	return items, nil
}

// queueDepth is visible plus in-flight plus delayed messages.
func queueDepth(ctx context.Context, c *sqs.Client, url string) (int, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return 0, fmt.Errorf("demo: depth of %s: %w", url, err)
	}
	n := 0
	for _, v := range out.Attributes {
		k, _ := strconv.Atoi(v)
		n += k
	}
	return n, nil
}
