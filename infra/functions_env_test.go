package infra_test

import (
	"fmt"
	"testing"

	"github.com/latchkit/latch/functions/daily-report/dailyreport"
	"github.com/latchkit/latch/functions/feed-poller/feedpoller"
	"github.com/latchkit/latch/functions/ledger/ledger"
	"github.com/latchkit/latch/functions/order-worker/orderworker"
	"github.com/latchkit/latch/internal/template"
)

// TestFunctionEnvironment: each function's Environment in the template,
// resolved with the parameters' defaults, is a configuration its package
// accepts. A variable renamed on one side only fails here, not at the first
// cold start after a deploy.
func TestFunctionEnvironment(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	r, err := template.NewResolver(tpl, template.Pseudo{Region: "us-east-1", AccountID: "123456789012", StackName: "latch-example"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for id := range tpl.Resources {
		r.Set(id, template.Physical{Ref: "ref-" + id, Attrs: map[string]string{
			"Arn": "arn:aws:test:us-east-1:123456789012:" + id, "QueueName": "q-" + id,
		}})
	}
	loaders := map[string]func(func(string) string) error{
		"OrderWorkerFunction": func(get func(string) string) error { _, err := orderworker.LoadEnv(get); return err },
		"LedgerFunction":      func(get func(string) string) error { _, err := ledger.LoadEnv(get); return err },
		"DailyReportFunction": func(get func(string) string) error { _, err := dailyreport.LoadEnv(get); return err },
		"FeedPollerFunction":  func(get func(string) string) error { _, err := feedpoller.LoadEnv(get); return err },
	}
	for _, fn := range tpl.Functions() {
		load, ok := loaders[fn.LogicalID]
		if !ok {
			t.Errorf("%s: no LoadEnv to check its Environment against", fn.LogicalID)
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
