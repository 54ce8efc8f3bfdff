// Command deploylocal is `make deploy-local`: it deploys a SAM template to
// the local cloud that `latch emulators exec --backend ministack` started
// (its endpoints in this process's environment) with the pinned SAM CLI,
// checks the deployed resources against the template, times invokes
// through the local cloud and through latch's local runner, drives the
// stack as its user would, and deletes it.
//
//	latch emulators exec --backend ministack -- \
//	  go run ./tools/deploylocal -sam $(SAM_VENV)/bin/sam -dir infra -scenario orders
//
// Scenarios: "orders" is internal/demo's order scenario on
// infra/template.yaml (orders with duplicates, invalid ones and transient
// failures; the ledger's FIFO queue; the feed poller fired by its own rate
// rule; the daily report's tick delivered twice). "invoices" is
// examples/invoices's, run from that module's directory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/latchkit/latch/internal/demo"
	"github.com/latchkit/latch/internal/localcloud"
)

func main() {
	sam := flag.String("sam", "", "the sam executable (the Makefile's pinned one)")
	dir := flag.String("dir", "infra", "the template's directory: sam runs there, as a user runs it")
	tmpl := flag.String("template", "template.yaml", "the template, relative to -dir")
	stack := flag.String("stack", "latch-local", "the stack's name")
	scenario := flag.String("scenario", "orders", "what to drive: orders (infra/template.yaml) or invoices (examples/invoices)")
	work := flag.String("work", ".run/deploy-local", "sam's build directory and the functions' log go here")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *sam, *dir, *tmpl, *stack, *scenario, *work, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "deploy-local:", err)
		os.Exit(1)
	}
}

// localEnv returns the local cloud's AWS_ variables from the environment,
// refusing anything but an endpoint on this machine: the tool deploys, and
// must never deploy to an account.
func localEnv() ([]string, error) {
	ep := os.Getenv("AWS_ENDPOINT_URL")
	u, err := url.Parse(ep)
	if ep == "" || err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		return nil, fmt.Errorf("AWS_ENDPOINT_URL %q is not a local cloud on this machine: run under 'latch emulators exec --backend ministack'", ep)
	}
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env, nil
}

func run(ctx context.Context, sam, dir, tmpl, stack, scenario, work string, out io.Writer) (err error) {
	if sam == "" {
		return errors.New("-sam is required")
	}
	env, err := localEnv()
	if err != nil {
		return err
	}
	if work, err = filepath.Abs(work); err != nil {
		return err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(work, "sam.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	started := time.Now()
	// Params of the first deploy; update says what the second one changes.
	var params, update map[string]string
	var feed *demo.Feed
	switch scenario {
	case "orders":
		// The demo's settings (cmd/latch's demoParams): fault injection on,
		// retries from one second. The feed poller's rate rule reads the
		// feed served here.
		if feed, err = demo.NewFeed(demo.FeedConfig{}); err != nil {
			return err
		}
		defer feed.Close()
		params = map[string]string{"TransientFaultPercent": "10", "RetryBaseSeconds": "1", "RetryMaxSeconds": "16", "FeedURL": feed.URL()}
		update = map[string]string{"RetryMaxSeconds": "8"}
	case "invoices":
		params = map[string]string{"RetryBaseSeconds": "2"}
		update = map[string]string{"RetryBaseSeconds": "1"}
	default:
		return fmt.Errorf("unknown -scenario %q (want orders or invoices)", scenario)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "deploy-local: sam build (Architecture=%s) and sam deploy of %s as %s (sam output: %s)\n",
		localcloud.HostArchitecture(), filepath.Join(dir, tmpl), stack, logFile.Name())
	d, err := localcloud.Deploy(ctx, localcloud.Options{
		SAM:      localcloud.SAM{Bin: sam, Dir: absDir, Env: env, Out: logFile},
		Template: tmpl, BuildDir: filepath.Join(work, "build"), StackName: stack, AWS: awsCfg, Params: params,
	})
	if d != nil {
		// Whatever sam created goes, even after a failure.
		defer func() {
			derr := d.Delete(context.WithoutCancel(ctx))
			fmt.Fprintf(out, "deploy-local: sam delete took %s\n", d.Took["delete"].Round(100*time.Millisecond))
			if err == nil {
				err = derr
			}
		}()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "deploy-local: %s is %s with %d resources: sam build %s, create %s\n", stack, d.Stack.Status,
		len(d.Stack.Resources), d.Took["build"].Round(100*time.Millisecond), d.Took["create"].Round(100*time.Millisecond))
	if err := d.Update(ctx, update); err != nil {
		return err
	}
	fmt.Fprintf(out, "deploy-local: update (%v) took %s\n", update, d.Took["update"].Round(100*time.Millisecond))

	findings, err := localcloud.CheckResources(ctx, d.Clients, d.Template, d.Stack)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	findings.Print(out)
	fmt.Fprintln(out)

	if err := latency(ctx, d, scenario, logFile, out); err != nil {
		return err
	}

	outcomes := demo.NewOutcomes()
	defer outcomes.Close()
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	follower, err := d.Follow(fctx, io.MultiWriter(outcomes, logFile))
	if err != nil {
		return err
	}
	switch scenario {
	case "orders":
		target := demo.Target{
			SQS: d.SQS, DynamoDB: dynamodb.NewFromConfig(awsCfg),
			Resolve: d.Stack.Resolve, Fire: d.Schedules(follower).Fire, Outcomes: outcomes,
		}
		err = demo.Run(ctx, target, demo.Config{Feed: feed, Deadline: 8 * time.Minute}, out)
	case "invoices":
		err = localcloud.Invoices(ctx, d, follower, outcomes, out)
	}
	if n := findings.Failed(); n > 0 {
		err = errors.Join(err, fmt.Errorf("%d resource check(s) failed", n))
	}
	fmt.Fprintf(out, "deploy-local: driven in %s\n", time.Since(started).Round(time.Second))
	return err
}

// latency times the consumer function's invokes with an empty batch, through
// the local cloud and under latch's local runner, before anything else
// invoked it.
func latency(ctx context.Context, d *localcloud.Deployment, scenario string, log, out io.Writer) error {
	id := "OrderWorkerFunction"
	if scenario == "invoices" {
		id = "ChargeFunction"
	}
	fn, err := d.Stack.Resolve(id)
	if err != nil {
		return err
	}
	// An empty batch: latch refuses it before touching anything.
	payload, refusal := []byte(`{"Records":[]}`), "SQS event has no records"
	cloud, err := localcloud.InvokeLatency(ctx, d.Lambda, fn, payload, refusal, 20)
	if err != nil {
		return err
	}
	local, err := localcloud.LocalLatency(ctx, d.Lambda, fn, id, d.BuildDir, payload, refusal, 20, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "deploy-local: %s invoke latency (empty batch): MiniStack %s; latch local %s\n\n", id, cloud, local)
	return nil
}
