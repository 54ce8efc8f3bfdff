package demo

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// TotalsFailEvery is what the demo sets customer-totals' TOTALS_FAIL_EVERY
// to: every seventh record a process sees fails once, retryably, so that
// stream batches stop in the middle and come back from the failed record.
const TotalsFailEvery = "7"

// waitTotals waits until the totals table counts n orders, or until the
// timeout.
func waitTotals(ctx context.Context, t Target, table string, n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		items, err := scanAll(ctx, t.DynamoDB, table)
		counted := 0
		for _, it := range items {
			c, _ := strconv.Atoi(str(it, "orders"))
			counted += c
		}
		if err == nil && counted >= n {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkTotals: every customer's running total is the sum of their valid
// orders, each counted once, although customer-totals failed in the middle
// of its batches (the failures must have happened, or the check proves
// nothing about retries).
func checkTotals(ctx context.Context, t Target, names map[string]string, valid []order, r *result) error {
	want := map[string][2]int64{}
	for _, o := range valid {
		w := want[o.CustomerID]
		want[o.CustomerID] = [2]int64{w[0] + o.AmountCents, w[1] + 1}
	}
	items, err := scanAll(ctx, t.DynamoDB, names[TotalsTable])
	if err != nil {
		return err
	}
	got := map[string][2]int64{}
	for _, it := range items {
		cents, _ := strconv.ParseInt(str(it, "totalCents"), 10, 64)
		n, _ := strconv.ParseInt(str(it, "orders"), 10, 64)
		got[str(it, "customerId")] = [2]int64{cents, n}
	}
	var wrong []string
	for c, w := range want {
		if got[c] != w {
			wrong = append(wrong, fmt.Sprintf("%s: %d cents in %d orders, want %d in %d", c, got[c][0], got[c][1], w[0], w[1]))
		}
	}
	for c := range got {
		if _, ok := want[c]; !ok {
			wrong = append(wrong, "unexpected customer "+c)
		}
	}
	sort.Strings(wrong)
	counts := t.Outcomes.Count(names[CustomerTotalsFunction])
	r.counts[names[CustomerTotalsFunction]] = counts
	r.add("customer totals count each order once", len(wrong) == 0 && len(want) > 0 && counts["failed"] > 0,
		"%d customers; wrong %v; %d injected failures mid-batch, %d records blocked behind them, %d duplicates on the retries",
		len(want), head(wrong), counts["failed"], counts["blocked"], counts["duplicate"])
	return nil
}
