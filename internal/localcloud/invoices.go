package localcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/internal/demo"
	"github.com/latchkit/latch/pkg/handler"
)

// Logical ids of examples/invoices/template.yaml. SAM names a function's
// Schedule event's rule <function><event>.
const (
	InvoicesQueue       = "InvoicesQueue"
	InvoicesDLQ         = "InvoicesDLQ"
	InvoicesLedgerTable = "InvoicesLedgerTable"
	NightlyFunction     = "NightlyFunction"
	NightlyRule         = "NightlyFunctionNightly"
)

// Invoices drives the deployed examples/invoices stack as its user would:
// invoices sent to its queue (each valid one twice, and invalid ones), the
// emulator's mapping invoking ChargeFunction; the nightly rule's tick
// delivered twice. It checks each invoice charged once, each invalid one in
// the DLQ with latch's reason, one report for the night.
func Invoices(ctx context.Context, d *Deployment, f *Follower, outcomes *demo.Outcomes, w io.Writer) error {
	names := map[string]string{}
	for _, id := range []string{InvoicesQueue, InvoicesDLQ, InvoicesLedgerTable, NightlyFunction} {
		v, err := d.Stack.Resolve(id)
		if err != nil {
			return err
		}
		names[id] = v
	}
	run := fmt.Sprintf("i%d", time.Now().Unix()%100000)
	const valid, invalid = 40, 6
	var bodies []string
	for i := range valid {
		b, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("%s-%03d", run, i), "customer": fmt.Sprintf("c-%d", i%5), "cents": 100 + i})
		bodies = append(bodies, string(b), string(b)) // each sent twice
	}
	for i := range invalid {
		if i%2 == 0 {
			bodies = append(bodies, fmt.Sprintf(`{"id":"%s-bad%d","customer":"c-1","cents":0}`, run, i))
		} else {
			bodies = append(bodies, fmt.Sprintf(`{"customer":"c-1","cents":%d}`, 100+i))
		}
	}
	fmt.Fprintf(w, "invoices: sending %d messages (%d invoices, each twice; %d invalid) to %s\n", len(bodies), valid, invalid, names[InvoicesQueue])
	for i := 0; i < len(bodies); i += 10 {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for j, b := range bodies[i:min(i+10, len(bodies))] {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), MessageBody: aws.String(b)})
		}
		out, err := d.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(names[InvoicesQueue]), Entries: entries})
		if err != nil {
			return fmt.Errorf("invoices: send: %w", err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("invoices: send: %d of a batch failed", len(out.Failed))
		}
	}
	charged := func() (map[string]int, error) {
		out := map[string]int{}
		p := dynamodb.NewScanPaginator(d.DynamoDB, &dynamodb.ScanInput{TableName: aws.String(names[InvoicesLedgerTable]), ConsistentRead: aws.Bool(true)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, it := range page.Items {
				id, _ := it["id"].(*ddbtypes.AttributeValueMemberS)
				n, _ := it["times"].(*ddbtypes.AttributeValueMemberN)
				if id != nil && n != nil {
					k, _ := strconv.Atoi(n.Value)
					out[id.Value] = k
				}
			}
		}
		return out, nil
	}
	deadline := time.Now().Add(4 * time.Minute)
	for {
		c, err := charged()
		if err != nil {
			return err
		}
		inQueue, err := depth(ctx, d, names[InvoicesQueue])
		if err != nil {
			return err
		}
		dlq, err := depth(ctx, d, names[InvoicesDLQ])
		if err != nil {
			return err
		}
		if countPrefix(c, "charge#"+run) >= valid && inQueue == 0 && dlq >= invalid {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("invoices: not settled in 4 minutes: %d of %d charged, %d in the queue, %d in the DLQ", countPrefix(c, "charge#"+run), valid, inQueue, dlq)
		}
		time.Sleep(time.Second)
	}
	tick := time.Now().UTC().Truncate(24 * time.Hour).Add(2 * time.Hour)
	s := d.Schedules(f)
	for range 2 {
		if err := s.Fire(ctx, NightlyRule, tick); err != nil {
			return err
		}
	}
	_ = f.Sync(ctx)

	var failed []string
	c, err := charged()
	if err != nil {
		return err
	}
	twice := 0
	for i := range valid {
		if n := c[fmt.Sprintf("charge#%s-%03d", run, i)]; n != 1 {
			twice++
		}
	}
	fmt.Fprintf(w, "invoices: %d of %d invoices charged exactly once (each delivered twice)\n", valid-twice, valid)
	if twice > 0 {
		failed = append(failed, fmt.Sprintf("%d invoices not charged exactly once", twice))
	}
	msgs, err := d.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(names[InvoicesDLQ]), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
	if err != nil {
		return err
	}
	withReason := 0
	for _, m := range msgs.Messages {
		if v, ok := m.MessageAttributes[handler.DLQAttrErrorClass]; ok && aws.ToString(v.StringValue) == "permanent" {
			withReason++
		}
	}
	fmt.Fprintf(w, "invoices: %d invalid invoices in the DLQ, %d with a permanent reason\n", len(msgs.Messages), withReason)
	if len(msgs.Messages) != invalid || withReason != invalid {
		failed = append(failed, fmt.Sprintf("DLQ has %d messages (%d with reason), want %d", len(msgs.Messages), withReason, invalid))
	}
	day := tick.AddDate(0, 0, -1).Format(time.DateOnly)
	hasDay := false
	if out, err := d.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(names[InvoicesLedgerTable]),
		Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "report#" + day}}}); err == nil {
		hasDay = out.Item != nil
	}
	oc := outcomes.Count(names[NightlyFunction])
	fmt.Fprintf(w, "invoices: nightly tick delivered twice: report for %s present %v; nightly outcomes %v\n", day, hasDay, oc)
	if !hasDay || oc[string(handler.Succeeded)] != 1 || oc[string(handler.Duplicate)] != 1 {
		failed = append(failed, fmt.Sprintf("nightly: report present %v, outcomes %v (want one succeeded, one duplicate)", hasDay, oc))
	}
	if len(failed) > 0 {
		return fmt.Errorf("invoices: %v", failed)
	}
	fmt.Fprintln(w, "invoices: all invariants hold")
	return nil
}

func countPrefix(m map[string]int, prefix string) int {
	n := 0
	for k := range m {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

// depth is a queue's visible, in-flight and delayed messages.
func depth(ctx context.Context, d *Deployment, url string) (int, error) {
	out, err := d.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range out.Attributes {
		k, _ := strconv.Atoi(v)
		n += k
	}
	return n, nil
}
