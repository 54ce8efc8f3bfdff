package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Logical ids of infra/template.yaml the scenario uses.
const (
	OrdersQueue         = "OrdersQueue"
	OrdersDLQ           = "OrdersDLQ"
	OrdersTable         = "OrdersTable"
	LedgerTable         = "LedgerTable"
	ReportsTable        = "ReportsTable"
	OrderWorkerFunction = "OrderWorkerFunction"
	LedgerFunction      = "LedgerFunction"
	DailyReportFunction = "DailyReportFunction"
	DailyReportSchedule = "DailyReportSchedule"
	// The stream example: customer-totals on the orders table's stream.
	CustomerTotalsFunction = "CustomerTotalsFunction"
	TotalsTable            = "TotalsTable"
)

// Target is the running local stack the scenario drives.
type Target struct {
	SQS      *sqs.Client
	DynamoDB *dynamodb.Client
	// Resolve returns a resource's physical id (its Ref): queue URL, table
	// name, function name.
	Resolve func(logicalID string) (string, error)
	// Fire delivers the schedule rule's event for the tick at `at`, as
	// EventBridge would, and waits for the invocation to end.
	Fire func(ctx context.Context, rule string, at time.Time) error
	// Outcomes sees every function's log output.
	Outcomes *Outcomes
}

// Config sizes the scenario. The zero value is the demo's.
type Config struct {
	Orders     int // distinct valid orders; default 240
	Customers  int // default 12
	Duplicates int // re-sent valid orders; default 30
	Invalid    int // invalid orders (bad fields and undecodable bodies); default 30
	// Deadline bounds the whole run; default 5 minutes. A typical run takes
	// under a minute, but SQS delivers at least once: a message whose
	// receive or delete goes astray stays in flight for the queue's
	// visibility timeout, 180 s for the orders queue, before it is
	// delivered again. The deadline leaves room for one such round.
	Deadline time.Duration
	// Seed makes the order stream reproducible; default 1.
	Seed uint64
	// Feed, when set, is the feed FeedPollerFunction reads (the template's
	// FeedURL): the demo then polls it to the end and checks that every
	// item was handled once. Default none.
	Feed *Feed
	// Totals checks the stream example: customer-totals, run with
	// TOTALS_FAIL_EVERY = TotalsFailEvery, counts every valid order once
	// (checkTotals). `latch demo` sets it; a deployed stack, whose
	// function runs without the injected failures, does not. Default off.
	Totals bool
}

func (c *Config) defaults() {
	if c.Orders == 0 {
		c.Orders = 240
	}
	if c.Customers == 0 {
		c.Customers = 12
	}
	if c.Duplicates == 0 {
		c.Duplicates = 30
	}
	if c.Invalid == 0 {
		c.Invalid = 30
	}
	if c.Deadline == 0 {
		c.Deadline = 5 * time.Minute
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
}

// order is the order-worker's input (events/order-worker-sqs-batch.json).
type order struct {
	OrderID     string `json:"orderId"`
	CustomerID  string `json:"customerId,omitempty"`
	AmountCents int64  `json:"amountCents"`
	Currency    string `json:"currency"`
	PlacedAt    string `json:"placedAt"`
}

// message is one send of the scenario.
type message struct {
	body    string
	orderID string // "" for an undecodable body
	valid   bool
}

// plan builds the message stream: valid orders with duplicates and invalid
// orders mixed in at random places.
func plan(cfg Config, runID string) (msgs []message, valid []order) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 42))
	start := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for i := range cfg.Orders {
		o := order{
			OrderID:     fmt.Sprintf("%s-o%04d", runID, i),
			CustomerID:  fmt.Sprintf("c%02d", rng.IntN(cfg.Customers)),
			AmountCents: int64(100 + rng.IntN(50000)),
			Currency:    "EUR",
			PlacedAt:    start.Add(time.Duration(i) * time.Second).Format(time.RFC3339),
		}
		valid = append(valid, o)
		b, _ := json.Marshal(o)
		msgs = append(msgs, message{body: string(b), orderID: o.OrderID, valid: true})
	}
	for range cfg.Duplicates {
		m := msgs[rng.IntN(cfg.Orders)]
		msgs = append(msgs, m)
	}
	for i := range cfg.Invalid {
		id := fmt.Sprintf("%s-bad%03d", runID, i)
		var body string
		switch i % 3 {
		case 0: // a zero amount
			b, _ := json.Marshal(order{OrderID: id, CustomerID: "c00", AmountCents: 0, Currency: "EUR", PlacedAt: start.Format(time.RFC3339)})
			body = string(b)
		case 1: // no customer
			b, _ := json.Marshal(order{OrderID: id, AmountCents: 500, Currency: "EUR", PlacedAt: start.Format(time.RFC3339)})
			body = string(b)
		default: // not JSON at all
			body = "order " + id + " <truncated"
		}
		msgs = append(msgs, message{body: body, orderID: id})
	}
	rng.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
	return msgs, valid
}

// send puts the messages on the queue in batches of ten.
func send(ctx context.Context, client *sqs.Client, queueURL string, msgs []message) error {
	for i := 0; i < len(msgs); i += 10 {
		end := min(i+10, len(msgs))
		var entries []sqstypes.SendMessageBatchRequestEntry
		for j, m := range msgs[i:end] {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), MessageBody: aws.String(m.body)})
		}
		out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
		if err != nil {
			return fmt.Errorf("send orders: %w", err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("send orders: %d of a batch failed: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
	}
	return nil
}

// Run plays the scenario against t, writing progress and the summary to w.
// It returns an error when the stack could not be driven or any invariant
// fails.
func Run(ctx context.Context, t Target, cfg Config, w io.Writer) error {
	cfg.defaults()
	ctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
	defer cancel()
	names, err := resolveAll(t, cfg.Feed != nil, cfg.Totals)
	if err != nil {
		return err
	}
	runID := fmt.Sprintf("r%d", time.Now().Unix()%100000)
	msgs, valid := plan(cfg, runID)
	fmt.Fprintf(w, "demo: sending %d messages: %d distinct valid orders, %d duplicates, %d invalid\n",
		len(msgs), cfg.Orders, cfg.Duplicates, cfg.Invalid)
	started := time.Now()
	if err := send(ctx, t.SQS, names[OrdersQueue], msgs); err != nil {
		return err
	}

	w8 := &watcher{t: t, names: names, w: w}
	if err := w8.untilSettled(ctx, cfg.Orders, cfg.Invalid); err != nil {
		return err
	}
	ordersTook := time.Since(started)
	// The totals follow the orders table's stream: wait until every valid
	// order is counted (or for the timeout; the check says what is missing).
	if cfg.Totals {
		waitTotals(ctx, t, names[TotalsTable], len(valid), 60*time.Second)
	}

	// The daily report's tick, delivered twice: EventBridge delivers at least
	// once, and the job must run once.
	tick := time.Now().UTC().Truncate(24 * time.Hour).Add(3 * time.Hour)
	fmt.Fprintf(w, "demo: firing %s for %s twice\n", DailyReportSchedule, tick.Format(time.RFC3339))
	for range 2 {
		if err := t.Fire(ctx, DailyReportSchedule, tick); err != nil {
			return fmt.Errorf("fire %s: %w", DailyReportSchedule, err)
		}
	}

	// Fire returns when the invocation ends; its log line may still be on
	// its way through the runner's output.
	waitOutcomes(ctx, t.Outcomes, names[DailyReportFunction], 2, 10*time.Second)

	var fst feedStats
	if cfg.Feed != nil {
		if fst, err = runFeed(ctx, t, names, cfg.Feed, w); err != nil {
			return err
		}
	}

	res, err := check(ctx, t, names, valid, msgs, tick)
	if err != nil {
		return err
	}
	if cfg.Totals {
		if err := checkTotals(ctx, t, names, valid, res); err != nil {
			return err
		}
	}
	if cfg.Feed != nil {
		res.counts[names[FeedPollerFunction]] = t.Outcomes.Count(names[FeedPollerFunction])
		if err := checkFeed(ctx, t, names, cfg.Feed, fst, res); err != nil {
			return err
		}
	}
	res.took = ordersTook
	res.print(w)
	if res.failed() {
		return fmt.Errorf("demo: %d invariant(s) failed", res.failures())
	}
	fmt.Fprintln(w, "demo: all invariants hold")
	return nil
}

func resolveAll(t Target, feed, totals bool) (map[string]string, error) {
	names := map[string]string{}
	ids := []string{OrdersQueue, OrdersDLQ, OrdersTable, LedgerTable, ReportsTable, OrderWorkerFunction, LedgerFunction, DailyReportFunction}
	if totals {
		ids = append(ids, CustomerTotalsFunction, TotalsTable)
	}
	if feed {
		ids = append(ids, IdempotencyTable, FeedTable, FeedPollerFunction)
	}
	for _, id := range ids {
		v, err := t.Resolve(id)
		if err != nil {
			return nil, fmt.Errorf("demo: resolve %s: %w", id, err)
		}
		names[id] = v
	}
	return names, nil
}

// waitOutcomes waits until fn has logged n outcomes, or until the timeout:
// the checks that follow report what is missing.
func waitOutcomes(ctx context.Context, o *Outcomes, fn string, n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		total := 0
		for _, c := range o.Count(fn) {
			total += c
		}
		if total >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
