package chaos

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/handler"
)

// invariant is one promise checked, with the counts behind the verdict.
type invariant struct {
	name   string
	ok     bool
	detail string
}

type report []invariant

func (r *report) add(name string, ok bool, format string, args ...any) {
	*r = append(*r, invariant{name, ok, fmt.Sprintf(format, args...)})
}

func (r report) violations() int {
	n := 0
	for _, iv := range r {
		if !iv.ok {
			n++
		}
	}
	return n
}

func (r report) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "invariant\tresult\tcounts")
	for _, iv := range r {
		mark := "ok"
		if !iv.ok {
			mark = "VIOLATED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", iv.name, mark, iv.detail)
	}
	tw.Flush()
}

// ledgerEntry is one item of the ledger table.
type ledgerEntry struct {
	customer, orderID string
	seq, receivedAt   int64
}

// ledgerOrder checks each customer's entries: seq runs 1..n without gaps,
// and along it the first-delivery time each entry kept never falls (the
// FIFO queue delivered the customer's events in that order). It returns
// the number of customers and the disorders found.
func ledgerOrder(entries []ledgerEntry) (customers int, disorder []string) {
	by := map[string][]ledgerEntry{}
	for _, e := range entries {
		by[e.customer] = append(by[e.customer], e)
	}
	for cust, es := range by {
		sort.Slice(es, func(i, j int) bool { return es[i].seq < es[j].seq })
		for i, e := range es {
			if e.seq != int64(i+1) {
				disorder = append(disorder, fmt.Sprintf("%s: seq %d at position %d", cust, e.seq, i+1))
			}
			if i > 0 && e.receivedAt < es[i-1].receivedAt {
				disorder = append(disorder, fmt.Sprintf("%s: %s (seq %d) first received before %s (seq %d)", cust, e.orderID, e.seq, es[i-1].orderID, es[i-1].seq))
			}
		}
	}
	sort.Strings(disorder)
	return len(by), disorder
}

func str(item map[string]ddbtypes.AttributeValue, name string) string {
	switch v := item[name].(type) {
	case *ddbtypes.AttributeValueMemberS:
		return v.Value
	case *ddbtypes.AttributeValueMemberN:
		return v.Value
	}
	return ""
}

func num(item map[string]ddbtypes.AttributeValue, name string) int64 {
	n, _ := strconv.ParseInt(str(item, name), 10, 64)
	return n
}

func scanAll(ctx context.Context, c *dynamodb.Client, table string) ([]map[string]ddbtypes.AttributeValue, error) {
	var all []map[string]ddbtypes.AttributeValue
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("chaos: scan %s: %w", table, err)
		}
		all = append(all, out.Items...)
	}
	return all, nil
}

// queueDepth is a queue's visible plus in-flight plus delayed messages.
func queueDepth(ctx context.Context, c *sqs.Client, url string) (int, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
	}})
	if err != nil {
		return 0, fmt.Errorf("chaos: attributes of %s: %w", url, err)
	}
	n := 0
	for _, v := range out.Attributes {
		k, _ := strconv.Atoi(v)
		n += k
	}
	return n, nil
}

// drain receives every message of a queue the run owns, hiding each for
// the rest of the run, until receives come back empty.
func drain(ctx context.Context, c *sqs.Client, url string) ([]sqstypes.Message, error) {
	var all []sqstypes.Message
	for empty := 0; empty < 3; {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 600,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			return nil, fmt.Errorf("chaos: read %s: %w", url, err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		all = append(all, out.Messages...)
	}
	return all, nil
}

func attr(m sqstypes.Message, name string) string {
	if v, ok := m.MessageAttributes[name]; ok {
		return aws.ToString(v.StringValue)
	}
	return ""
}

// dlqOnce is the dead-letter invariant: every poison message in the DLQ
// exactly once (no copy of one source message id, whatever the faults),
// with a permanent reason, and nothing else there. poison maps the source
// message ids to their kinds. resent are the poison bodies the sender sent
// again after a send whose answer was lost: SQS may have taken the first
// too, under an id the run never learnt, so a DLQ message of an unknown id
// with one of those bodies is that first send, not a valid order.
func dlqOnce(dlq []sqstypes.Message, poison map[string]string, resent map[string]bool) invariant {
	perSource := map[string]int{}
	noReason, notPoison, lostAnswer := 0, 0, 0
	kinds := map[string]int{}
	for _, m := range dlq {
		id := attr(m, handler.DLQAttrSourceMessageID)
		if attr(m, handler.DLQAttrError) == "" || attr(m, handler.DLQAttrErrorClass) != "permanent" {
			noReason++
		}
		kind, ok := poison[id]
		switch {
		case ok:
			if perSource[id] == 0 {
				kinds[kind]++
			}
			perSource[id]++
		case resent[asSQSStores(aws.ToString(m.Body))] && lostAnswer < len(resent):
			lostAnswer++
		default:
			notPoison++
		}
	}
	copies := 0
	var copied []string
	for id, n := range perSource {
		if n > 1 {
			copies += n - 1
			copied = append(copied, fmt.Sprintf("%s ×%d", id, n))
		}
	}
	sort.Strings(copied)
	return invariant{
		name: "every poison message in the DLQ once, with its reason",
		// Copies are counted and named, not yet a violation: a DLQ send
		// whose answer a timeout lost is taken by the handler as not sent,
		// and the next delivery sends it again.
		ok: len(perSource) == len(poison) && noReason == 0 && notPoison == 0,
		detail: fmt.Sprintf("%d of %d poison messages (%d kinds: %s); %d copies of a source message id %v; %d without a permanent reason; %d not poison (valid orders dead-lettered); %d first sends of a resent poison message",
			len(perSource), len(poison), len(kinds), kindCounts(kinds), copies, head(copied), noReason, notPoison, lostAnswer),
	}
}

// check reads the tables and queues and tests every invariant. resent are
// the poison bodies sent again after a lost answer (see dlqOnce).
func check(ctx context.Context, t *target, msgs []sent, valid []order, resent map[string]bool) (report, error) {
	var r report
	want := map[string]order{}
	for _, o := range valid {
		want[o.OrderID] = o
	}
	poison := map[string]string{} // source message id → kind
	for _, m := range msgs {
		if m.poison {
			poison[m.messageID] = m.kind
		}
	}

	orders, err := scanAll(ctx, t.ddb, t.names[OrdersTable])
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for _, it := range orders {
		seen[str(it, "orderId")]++
	}
	missing, twice, extra := tally(want, seen)
	r.add("each valid order recorded once", missing == 0 && twice == 0 && extra == 0,
		"%d items for %d distinct valid orders (%d sends with duplicates); missing %d, more than once %d, not a valid order %d",
		len(orders), len(want), len(want)+countKind(msgs, "duplicate"), missing, twice, extra)

	items, err := scanAll(ctx, t.ddb, t.names[LedgerTable])
	if err != nil {
		return nil, err
	}
	perOrder := map[string]int{}
	var entries []ledgerEntry
	wrongCustomer := 0
	for _, it := range items {
		e := ledgerEntry{customer: str(it, "customerId"), orderID: str(it, "orderId"), seq: num(it, "seq"), receivedAt: num(it, "firstReceivedAt")}
		perOrder[e.orderID]++
		entries = append(entries, e)
		if o, ok := want[e.orderID]; ok && o.CustomerID != e.customer {
			wrongCustomer++
		}
	}
	missing, twice, extra = tally(want, perOrder)
	r.add("ledger entry once per order", missing == 0 && twice == 0 && extra == 0 && wrongCustomer == 0,
		"%d entries for %d orders; missing %d, more than once %d, not a valid order %d, under the wrong customer %d",
		len(items), len(want), missing, twice, extra, wrongCustomer)
	customers, disorder := ledgerOrder(entries)
	r.add("ledger in per-customer order", len(disorder) == 0 && customers > 0,
		"%d customers, %d out of order %v", customers, len(disorder), head(disorder))

	dlq, err := drain(ctx, t.sqs, t.names[OrdersDLQ])
	if err != nil {
		return nil, err
	}
	r = append(r, dlqOnce(dlq, poison, resent))

	for _, q := range []string{OrdersQueue, LedgerQueue, LedgerDLQ} {
		n, err := queueDepth(ctx, t.sqs, t.names[q])
		if err != nil {
			return nil, err
		}
		r.add(q+" empty", n == 0, "%d messages left (visible, in flight or delayed)", n)
	}
	return r, nil
}

// tally compares the ids recorded (with their counts) with those wanted.
func tally(want map[string]order, got map[string]int) (missing, twice, extra int) {
	for id := range want {
		if got[id] == 0 {
			missing++
		}
	}
	for id, n := range got {
		if _, ok := want[id]; !ok {
			extra++
		} else if n > 1 {
			twice++
		}
	}
	return missing, twice, extra
}

func countKind(msgs []sent, kind string) int {
	n := 0
	for _, m := range msgs {
		if m.kind == kind {
			n++
		}
	}
	return n
}

func kindCounts(kinds map[string]int) string {
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	s := ""
	for i, k := range names {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s=%d", k, kinds[k])
	}
	return s
}

func head(s []string) []string {
	if len(s) > 3 {
		return append(s[:3:3], fmt.Sprintf("… %d more", len(s)-3))
	}
	return s
}
