//go:build integration && slow

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// TestNewModuleRunsUnderLatchLocal is issue 22's check of `latch new`, from
// an empty directory as a user runs it: a module with a function of every
// kind (the built CLI's `new`, then `new --add-function`), its `go vet` and
// `go test`, then `latch local` on its template with each function
// triggered as its README says (`latch send`, `latch local fire`) and its
// outcome read from what the function logged and what the queues hold.
func TestNewModuleRunsUnderLatchLocal(t *testing.T) {
	env := emulator.New(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "latch")
	runIn(t, root, "go", "build", "-o", bin, "./cmd/latch")
	dir := filepath.Join(t.TempDir(), "svc")
	runIn(t, filepath.Dir(dir), bin, "new", "svc", "--replace", root)
	for _, add := range [][]string{
		{"refunds", "--fifo"}, {"nightly", "--schedule", "cron(0 3 * * ? *)"}, {"feed", "--poller"}, {"order-events", "--events"},
	} {
		runIn(t, dir, bin, append([]string{"new", "--add-function"}, add...)...)
	}
	runIn(t, dir, "go", "vet", "./...")
	runIn(t, dir, "go", "test", "-count=1", "./...")

	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"items": []map[string]any{{"id": "item-1", "amount": 1}, {"id": "item-2", "amount": 2}}, "next": "2", "more": false,
		})
	}))
	t.Cleanup(feed.Close)
	tmpl := filepath.Join(dir, "template.yaml")
	params := map[string]string{"RetryBaseSeconds": "1", "FeedFeedURL": feed.URL}
	local := emulator.StartLocal(t, emulator.LocalConfig{Template: tmpl, Params: params})
	queue := local.Name("BillingQueue")
	emulator.Eventually(t, 4*time.Minute, "provisioned and polling", func() bool {
		return strings.Contains(local.Output(), "Ctrl-C to stop")
	})

	local.Latch(t, "send", queue, `{"id":"job-1","amount":5}`)
	local.Latch(t, "send", queue, `{"id":"job-2","amount":0}`)
	local.Latch(t, "send", local.Prefix()+"-refunds.fifo", "--group", "customer-1", `{"id":"job-1","amount":5}`)
	local.Latch(t, "send", local.Name("OrderEventsQueue"),
		`{"id":"ev-1","source":"svc","detail-type":"OrderEventsRequested","detail":{"id":"r-1","amount":5}}`)
	fire := []string{"--template", tmpl, "--prefix", local.Prefix(), "--param", "FeedFeedURL=" + feed.URL}
	local.Latch(t, append([]string{"local", "fire", "NightlySchedule"}, fire...)...)
	local.Latch(t, append([]string{"local", "fire", "FeedSchedule"}, fire...)...)

	want := map[string]int{"BillingFunction": 1, "RefundsFunction": 1, "OrderEventsFunction": 1, "NightlyFunction": 1, "FeedFunction": 2}
	emulator.Eventually(t, 2*time.Minute, "every function's records succeeded", func() bool {
		for fn, n := range want {
			if succeeded(local.Output(), local.Name(fn)) < n {
				return false
			}
		}
		return true
	})
	env.AssertDeadLettered(t, queueURL(t, env, local.Name("BillingDLQ")), `{"id":"job-2","amount":0}`, "job job-2: amount must be positive")
}

// succeeded counts the outcome lines of function fn that say succeeded.
func succeeded(output, fn string) int {
	n := 0
	for line := range strings.SplitSeq(output, "\n") {
		if strings.Contains(line, `"function_name":"`+fn+`"`) && strings.Contains(line, `"outcome":"succeeded"`) {
			n++
		}
	}
	return n
}

func queueURL(t *testing.T, env *emulator.Env, name string) string {
	t.Helper()
	out, err := env.SQS.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

// runIn runs a command in dir and fails the test with its output if it fails.
func runIn(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
