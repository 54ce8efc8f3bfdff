package demo

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/handler"
)

// invariant is one thing the demo promises, and whether it held.
type invariant struct {
	name   string
	ok     bool
	detail string
}

type result struct {
	took       time.Duration
	counts     map[string]map[string]int // function → outcome → n
	invariants []invariant
}

func (r *result) add(name string, ok bool, format string, args ...any) {
	r.invariants = append(r.invariants, invariant{name: name, ok: ok, detail: fmt.Sprintf(format, args...)})
}

func (r *result) failures() int {
	n := 0
	for _, iv := range r.invariants {
		if !iv.ok {
			n++
		}
	}
	return n
}

func (r *result) failed() bool { return r.failures() > 0 }

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "\ndemo: orders settled in %s\n\n", r.took.Round(100*time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "function\tsucceeded\tduplicate\tretry_scheduled\tblocked\tdead_lettered\tfailed")
	fns := make([]string, 0, len(r.counts))
	for fn := range r.counts {
		fns = append(fns, fn)
	}
	sort.Strings(fns)
	for _, fn := range fns {
		c := r.counts[fn]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\n", fn, c["succeeded"], c["duplicate"], c["retry_scheduled"], c["blocked"], c["dead_lettered"], c["failed"])
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "invariant\tresult\tdetail")
	for _, iv := range r.invariants {
		mark := "ok"
		if !iv.ok {
			mark = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", iv.name, mark, iv.detail)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func str(item map[string]ddbtypes.AttributeValue, name string) string {
	if v, ok := item[name].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	if v, ok := item[name].(*ddbtypes.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}

// check reads what the stack did and tests every invariant.
func check(ctx context.Context, t Target, names map[string]string, valid []order, msgs []message, tick time.Time) (*result, error) {
	r := &result{counts: map[string]map[string]int{}}
	for _, id := range []string{OrderWorkerFunction, LedgerFunction, DailyReportFunction} {
		r.counts[names[id]] = t.Outcomes.Count(names[id])
	}
	want := map[string]order{}
	for _, o := range valid {
		want[o.OrderID] = o
	}

	// 1. Every distinct valid order recorded exactly once, nothing else.
	orders, err := scanAll(ctx, t.DynamoDB, names[OrdersTable])
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for _, it := range orders {
		seen[str(it, "orderId")]++
	}
	missing, extra := diffIDs(want, seen)
	r.add("orders recorded once", len(missing) == 0 && len(extra) == 0 && len(orders) == len(want),
		"%d of %d distinct valid orders in %s; missing %v; unexpected %v", len(orders), len(want), names[OrdersTable], head(missing), head(extra))

	// 2. The ledger: one entry per order (OrderAccepted published once), and
	// each customer's entries appended in the order the FIFO queue delivered
	// their events: along seq, the first-delivery time each entry kept
	// (firstReceivedAt, epoch ms) never falls, and seq runs 1..n without
	// gaps. Publish times cannot order them (order-workers publish
	// concurrently), nor can SentTimestamp (moto stamps a message before it
	// queues it, so concurrent sends can queue out of stamp order), nor
	// SequenceNumber (moto makes it random).
	ledger, err := scanAll(ctx, t.DynamoDB, names[LedgerTable])
	if err != nil {
		return nil, err
	}
	perOrder := map[string]int{}
	type entry struct{ seq, receivedAt, orderID string }
	perCustomer := map[string][]entry{}
	for _, it := range ledger {
		id := str(it, "orderId")
		perOrder[id]++
		perCustomer[str(it, "customerId")] = append(perCustomer[str(it, "customerId")], entry{seq: str(it, "seq"), receivedAt: str(it, "firstReceivedAt"), orderID: id})
	}
	missing, extra = diffIDs(want, perOrder)
	var twice []string
	for id, n := range perOrder {
		if n > 1 {
			twice = append(twice, id)
		}
	}
	sort.Strings(twice)
	r.add("ledger entry once per order", len(missing) == 0 && len(extra) == 0 && len(twice) == 0,
		"%d entries for %d orders; missing %v; unexpected %v; more than once %v", len(ledger), len(want), head(missing), head(extra), head(twice))
	var disorder []string
	wrongCustomer := 0
	for cust, es := range perCustomer {
		sort.Slice(es, func(i, j int) bool { return lessNumeric(es[i].seq, es[j].seq) })
		for i, e := range es {
			if o, ok := want[e.orderID]; ok && o.CustomerID != cust {
				wrongCustomer++
			}
			if e.seq != strconv.Itoa(i+1) {
				disorder = append(disorder, fmt.Sprintf("%s: seq %s at position %d", cust, e.seq, i+1))
			}
			if e.receivedAt == "" || (i > 0 && lessNumeric(e.receivedAt, es[i-1].receivedAt)) {
				disorder = append(disorder, fmt.Sprintf("%s: %s (first received %q) before %s (first received %q)", cust, es[max(i-1, 0)].orderID, es[max(i-1, 0)].receivedAt, e.orderID, e.receivedAt))
			}
		}
	}
	r.add("ledger in per-customer order", len(disorder) == 0 && wrongCustomer == 0 && len(perCustomer) > 0,
		"%d customers; out of order %v; entries under the wrong customer %d", len(perCustomer), head(disorder), wrongCustomer)

	// 3. Every invalid order in the DLQ, with latch's reason attributes.
	invalid := map[string]bool{}
	for _, m := range msgs {
		if !m.valid {
			invalid[m.body] = true
		}
	}
	dlq, err := drain(ctx, t.SQS, names[OrdersDLQ], len(invalid))
	if err != nil {
		return nil, err
	}
	found, noReason := 0, 0
	var reasons []string
	for _, m := range dlq {
		if invalid[aws.ToString(m.Body)] {
			found++
		}
		reason := attr(m, handler.DLQAttrError)
		if reason == "" || attr(m, handler.DLQAttrErrorClass) != "permanent" || attr(m, handler.DLQAttrSourceQueue) == "" {
			noReason++
		} else if len(reasons) < 3 {
			reasons = append(reasons, fmt.Sprintf("%q", reason))
		}
	}
	r.add("invalid orders dead-lettered with reason", found == len(invalid) && len(dlq) == len(invalid) && noReason == 0,
		"%d of %d invalid orders in %s (%d messages), %d without a permanent reason; e.g. %s",
		found, len(invalid), names[OrdersDLQ], len(dlq), noReason, strings.Join(reasons, ", "))

	// 4. Transient failures: retried with growing delays, then processed.
	name, ok, detail := transientInvariant(t.Outcomes.Snapshot(), names[OrderWorkerFunction])
	r.add(name, ok, "%s", detail)

	// 5. The tick delivered twice made one report.
	reports, err := scanAll(ctx, t.DynamoDB, names[ReportsTable])
	if err != nil {
		return nil, err
	}
	rc := t.Outcomes.Count(names[DailyReportFunction])
	r.add("one report for the tick delivered twice", len(reports) == 1 && rc["succeeded"] == 1 && rc["duplicate"] == 1,
		"%d report item(s) for %s; daily-report outcomes: %d succeeded, %d duplicate", len(reports), tick.Format(time.RFC3339), rc["succeeded"], rc["duplicate"])
	return r, nil
}

// transientInvariant follows every order-worker message that was scheduled
// for a retry: each retry waited longer than the one before, and the
// message was processed in the end.
func transientInvariant(all []Outcome, fn string) (name string, ok bool, detail string) {
	type history struct {
		delays   []int64
		attempts []int
		settled  bool
	}
	byMsg := map[string]*history{}
	for _, oc := range all {
		if oc.Function != fn {
			continue
		}
		h := byMsg[oc.MessageID]
		if h == nil {
			h = &history{}
			byMsg[oc.MessageID] = h
		}
		switch oc.Outcome {
		case string(handler.RetryScheduled):
			h.delays = append(h.delays, oc.RetryDelayMS)
			h.attempts = append(h.attempts, oc.Attempt)
		case string(handler.Succeeded), string(handler.Duplicate):
			h.settled = true
		}
	}
	retried, unsettled, flat := 0, 0, 0
	var sample string
	for _, h := range byMsg {
		if len(h.delays) == 0 {
			continue
		}
		retried++
		if !h.settled {
			unsettled++
		}
		sort.Sort(byAttempt{h.attempts, h.delays})
		for i := 1; i < len(h.delays); i++ {
			if h.delays[i] <= h.delays[i-1] {
				flat++
			}
		}
		if sample == "" && len(h.delays) > 1 {
			sample = fmt.Sprintf("%v ms", h.delays)
		}
	}
	return "transient failures retried, growing, then processed", retried > 0 && unsettled == 0 && flat == 0,
		fmt.Sprintf("%d messages retried; %d never processed; %d retries not longer than the one before; delays e.g. %s", retried, unsettled, flat, sample)
}

type byAttempt struct {
	attempts []int
	delays   []int64
}

func (b byAttempt) Len() int           { return len(b.attempts) }
func (b byAttempt) Less(i, j int) bool { return b.attempts[i] < b.attempts[j] }
func (b byAttempt) Swap(i, j int) {
	b.attempts[i], b.attempts[j] = b.attempts[j], b.attempts[i]
	b.delays[i], b.delays[j] = b.delays[j], b.delays[i]
}

func attr(m sqstypes.Message, name string) string {
	if v, ok := m.MessageAttributes[name]; ok {
		return aws.ToString(v.StringValue)
	}
	return ""
}

// drain receives every message in the queue (the demo owns it and stops
// after this), up to want or until the queue is empty.
func drain(ctx context.Context, c *sqs.Client, url string, want int) ([]sqstypes.Message, error) {
	var all []sqstypes.Message
	empty := 0
	for empty < 2 && len(all) < want+10 {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:              aws.String(url),
			MaxNumberOfMessages:   10,
			WaitTimeSeconds:       1,
			VisibilityTimeout:     300,
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			return nil, fmt.Errorf("demo: read %s: %w", url, err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		all = append(all, out.Messages...)
	}
	return all, nil
}

func diffIDs(want map[string]order, got map[string]int) (missing, extra []string) {
	for id := range want {
		if got[id] == 0 {
			missing = append(missing, id)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			extra = append(extra, id)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

func head(s []string) []string {
	if len(s) > 5 {
		return append(s[:5:5], fmt.Sprintf("… %d more", len(s)-5))
	}
	return s
}

// lessNumeric orders decimal strings by value (sequence numbers).
func lessNumeric(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
