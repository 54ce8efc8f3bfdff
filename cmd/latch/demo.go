package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/demo"
	"github.com/latchkit/latch/internal/local"
	"github.com/latchkit/latch/internal/sdkfix"
)

// demoParams are the template parameters of the demo: fault injection on,
// and retries that back off from one second, so orders that hit a
// transient fault (two failed attempts each) settle in seconds, not the
// minutes a deployment would wait. OrdersQueue's maxReceiveCount (5) leaves
// room for them.
func demoParams(faults int, feedURL string) map[string]string {
	return map[string]string{
		"TransientFaultPercent": strconv.Itoa(faults),
		"RetryBaseSeconds":      "1",
		"RetryMaxSeconds":       "8",
		"FeedURL":               feedURL,
	}
}

func init() {
	register(&Command{
		Name:  "demo",
		Short: "run the example stack locally and check latch's guarantees end to end",
		Long: `Starts the template's functions locally (as 'latch local' does) with fault
injection on, sends a few hundred orders to OrdersQueue — duplicates,
invalid orders and orders that hit a simulated transient failure among
them — fires the daily report's schedule twice, polls a paged feed it
serves (with a 503 and a crash mid-page) by firing the feed poller's
schedule, and checks the invariants: every valid order recorded once and
in the ledger in order per customer, every feed item handled once,
every invalid order in the DLQ with its reason, transient failures
retried with growing delays, one report per tick. Prints live progress
and a summary; exits non-zero if an invariant fails. Function output goes
to the --log file. 'make demo' starts the emulators around it.`,
		Setup: func(fs *flag.FlagSet) Runner {
			tmpl := fs.String("template", "infra/template.yaml", "the SAM template")
			logPath := fs.String("log", ".run/demo.log", "file for the functions' and the runner's output")
			faults := fs.Int("faults", 10, "TransientFaultPercent: percent of orders whose first two attempts fail")
			orders := fs.Int("orders", 0, "distinct valid orders (0: the scenario's default)")
			allowAWS := awsFlag(fs)
			backend := backendFlag(fs)
			return func(ctx context.Context, env *Env, args []string) error {
				if cfg, err := emulatorsConfig(env, *backend); err != nil {
					return err
				} else if err := useBackend(env, cfg, *allowAWS); err != nil {
					return err
				}
				if err := needArgs(args, 0, 0); err != nil {
					return err
				}
				if err := checkEndpoint(env, *allowAWS); err != nil {
					return err
				}
				return runDemo(ctx, env, *tmpl, *logPath, *faults, *orders)
			}
		},
	})
}

func runDemo(ctx context.Context, env *Env, tmpl, logPath string, faults, orders int) (err error) {
	started := time.Now()
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	sdkfix.Apply(&awsCfg)
	// The demo's own clients (the watchers, the feed's poller) cancel
	// calls as phases end; the SDK's warnings about those are noise.
	local.QuietCancelled(&awsCfg)
	// The paged feed feed-poller reads, served here before the stack starts
	// so its address can be the template's FeedURL.
	feed, err := demo.NewFeed(demo.FeedConfig{})
	if err != nil {
		return err
	}
	defer feed.Close()
	outcomes := demo.NewOutcomes()
	fmt.Fprintf(env.Stdout, "demo: starting the local stack from %s (function output: %s)\n", tmpl, logPath)
	stack, err := local.Start(ctx, local.Config{
		Template: tmpl,
		Params:   demoParams(faults, feed.URL()),
		Output:   io.MultiWriter(logFile, outcomes),
		Logger:   slog.New(slog.NewTextHandler(logFile, nil)),
		AWS:      &awsCfg,
		// The demo fires the daily tick itself, twice, at a fixed time.
		NoSchedules: true,
		// customer-totals fails every seventh record it sees once, in the
		// middle of its stream batches: the invariant is that every order
		// is still counted once.
		EnvOverrides: map[string]map[string]string{demo.CustomerTotalsFunction: {"TOTALS_FAIL_EVERY": demo.TotalsFailEvery}},
	})
	if err != nil {
		_ = outcomes.Close()
		return err
	}
	defer func() {
		stopErr := stack.Stop()
		_ = outcomes.Close()
		if err == nil {
			err = stopErr
		}
		fmt.Fprintf(env.Stdout, "demo: finished in %s\n", time.Since(started).Round(time.Second))
	}()
	target := demo.Target{
		SQS: sqs.NewFromConfig(awsCfg),
		DynamoDB: dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
			// DynamoDB Local's 4xx answers carry no checksum.
			o.DisableValidateResponseChecksum = true
		}),
		Resolve:  stack.Resolve,
		Fire:     stack.Fire,
		Outcomes: outcomes,
	}
	return demo.Run(ctx, target, demo.Config{Orders: orders, Feed: feed, Totals: true}, env.Stdout)
}
