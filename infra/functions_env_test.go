package infra_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/latchkit/latch/functions/customer-totals/customertotals"
	"github.com/latchkit/latch/functions/daily-report/dailyreport"
	"github.com/latchkit/latch/functions/feed-poller/feedpoller"
	"github.com/latchkit/latch/functions/ledger/ledger"
	"github.com/latchkit/latch/functions/order-worker/orderworker"
	"github.com/latchkit/latch/internal/template"
	"github.com/latchkit/latch/pkg/function"
)

// prepare builds a function as its cold start would, with the environment
// read through get and no AWS call made, and returns what it reports.
func prepare[In, Out any](build function.Build[In, Out]) func(get func(string) string) error {
	return func(get func(string) string) error {
		_, _, err := function.Prepare(context.Background(), function.Options{Getenv: get, AWS: &aws.Config{Region: "us-east-1"}}, build)
		return err
	}
}

// TestFunctionEnvironment: each function's Environment in the template,
// resolved with the parameters' defaults (Globals included), is a
// configuration its package's Build accepts. A variable renamed on one side only fails here, not at the first
// cold start after a deploy.
func TestFunctionEnvironment(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	r, err := template.NewResolver(tpl, template.Pseudo{Region: "us-east-1", AccountID: "123456789012", StackName: "latch-example"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for id, res := range tpl.Resources {
		// A queue's Ref is its URL: a FIFO queue's ends in .fifo, which the
		// producers check at construction.
		ref := "ref-" + id
		if fifo, _ := res.Properties["FifoQueue"].(bool); fifo {
			ref += ".fifo"
		}
		r.Set(id, template.Physical{Ref: ref, Attrs: map[string]string{
			"Arn": "arn:aws:test:us-east-1:123456789012:" + id, "QueueName": "q-" + id,
		}})
	}
	loaders := map[string]func(func(string) string) error{
		"OrderWorkerFunction":    prepare(orderworker.Build),
		"LedgerFunction":         prepare(ledger.Build),
		"DailyReportFunction":    prepare(dailyreport.Build),
		"FeedPollerFunction":     prepare(feedpoller.Build),
		"CustomerTotalsFunction": prepare(customertotals.Build),
	}
	for _, fn := range tpl.Functions() {
		load, ok := loaders[fn.LogicalID]
		if !ok {
			t.Errorf("%s: no Build to check its Environment against", fn.LogicalID)
			continue
		}
		v, err := r.Resolve(fn.LogicalID+".Environment", prop(fn, "Environment", "Variables"))
		if err != nil {
			t.Fatalf("%s: %v", fn.LogicalID, err)
		}
		vars, ok := template.AsMap(v)
		if !ok {
			t.Fatalf("%s: Environment.Variables is %T", fn.LogicalID, v)
		}
		get := func(k string) string {
			if v, ok := vars[k]; ok {
				return fmt.Sprint(v)
			}
			return ""
		}
		if err := load(get); err != nil {
			t.Errorf("%s: the template's environment %v is not accepted: %v", fn.LogicalID, vars, err)
		}
	}
}
