package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/emulators"
	"github.com/latchkit/latch/internal/local"
	"github.com/latchkit/latch/internal/sdkfix"
)

// Logical ids of infra/template.yaml the run uses.
const (
	OrdersQueue         = "OrdersQueue"
	OrdersDLQ           = "OrdersDLQ"
	LedgerQueue         = "LedgerQueue"
	LedgerDLQ           = "LedgerDLQ"
	OrdersTable         = "OrdersTable"
	LedgerTable         = "LedgerTable"
	OrderWorkerFunction = "OrderWorkerFunction"
	LedgerFunction      = "LedgerFunction"
)

// Chaos-run settings of the template: a visibility timeout of seconds, not
// minutes, so that batches a killed process leaves in flight come back
// within the run; and room in maxReceiveCount for the receives a killed
// batch and the DynamoDB outage spend (at 5, a valid order received during
// both could be dead-lettered by SQS itself, which is SQS doing its job,
// not latch failing).
const (
	visibilitySeconds = 10
	maxReceiveCount   = 10
)

// Options say where things are.
type Options struct {
	// Template is infra/template.yaml of the checkout. Required.
	Template string
	// WorkDir holds the run's files: the emulators' state and data, the
	// derived template, the log. Required.
	WorkDir string
	// Out receives progress and the invariant table. Zero: os.Stdout.
	Out io.Writer
}

// target is the running stack the run drives and reads.
type target struct {
	sqs   *sqs.Client
	ddb   *dynamodb.Client
	names map[string]string
}

// Run starts the default emulators (DynamoDB Local on disk) and the stack
// in the local runner, sends the messages, injects the faults, waits until
// everything settled, checks the invariants and prints them. It returns an
// error if the run could not be driven or any invariant is violated.
func Run(ctx context.Context, cfg Config, opt Options) (err error) {
	cfg.defaults()
	out := opt.Out
	if out == nil {
		out = os.Stdout
	}
	started := time.Now()
	if opt.WorkDir, err = filepath.Abs(opt.WorkDir); err != nil {
		return err
	}
	logPath := filepath.Join(opt.WorkDir, "chaos.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()

	emu := emulators.Config{Backend: emulators.Default, StateDir: filepath.Join(opt.WorkDir, "emulators"),
		DynamoDBDir: filepath.Join(opt.WorkDir, "dynamodb"), Log: logFile}
	st, err := emulators.Up(ctx, emu)
	if err != nil {
		return err
	}
	defer func() {
		if derr := emulators.Down(emu); derr != nil && err == nil {
			err = derr
		}
	}()
	// The function processes take the runner's AWS_* variables.
	for _, v := range st.Env {
		if err := os.Setenv(v.Name, v.Value); err != nil {
			return err
		}
	}
	tmpl, err := deriveTemplate(opt.Template, opt.WorkDir)
	if err != nil {
		return err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	sdkfix.Apply(&awsCfg)
	// A batch whose function died is logged by the event source mapping;
	// that line is how the run knows a kill hit a batch.
	died := &lineCounter{needle: []byte("esm: function error")}
	fmt.Fprintf(out, "chaos: starting the stack (log: %s)\n", logPath)
	stack, err := local.Start(ctx, local.Config{
		Template: tmpl,
		Params:   map[string]string{"TransientFaultPercent": "0", "RetryBaseSeconds": "1", "RetryMaxSeconds": "4"},
		Output:   logFile,
		Logger:   slog.New(slog.NewTextHandler(io.MultiWriter(logFile, died), nil)),
		AWS:      &awsCfg,
		// Only the SQS paths are under test; the schedules would add
		// nothing the invariants look at.
		NoSchedules: true,
	})
	if err != nil {
		return err
	}
	defer func() {
		if serr := stack.Stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	t := &target{sqs: sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
		// Invalid UTF-8 travels as U+FFFD, so SQS's MD5 of a binary body
		// is not the SDK's: the poison is sent as intended all the same.
		o.DisableMessageChecksumValidation = true
	}), ddb: dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = true // DynamoDB Local's 4xx answers carry none
	}), names: map[string]string{}}
	for _, id := range []string{OrdersQueue, OrdersDLQ, LedgerQueue, LedgerDLQ, OrdersTable, LedgerTable} {
		if t.names[id], err = stack.Resolve(id); err != nil {
			return err
		}
	}

	fl, f, err := runFlow(ctx, cfg, t, awsCfg, "chaos: sending", func(ctx context.Context, f *faultLog) {
		inject(ctx, cfg, emu, f, out)
	}, out)
	if err != nil {
		return err
	}
	r := fl.report
	r.add("faults injected", f.kills == cfg.Kills && died.n.Load() > 0 && f.restarts == 1,
		"%d function processes killed (%s), %d batches died under them; DynamoDB Local killed and restarted %d time(s), outage %s",
		f.kills, f.summary(), died.n.Load(), f.restarts, f.outage.Round(10*time.Millisecond))
	fmt.Fprintf(out, "\nchaos: %d messages settled in %s (run %s)\n\n", fl.sent, fl.took.Round(100*time.Millisecond), time.Since(started).Round(time.Second))
	r.print(out)
	if n := r.violations(); n > 0 {
		return fmt.Errorf("chaos: %d invariant(s) violated (log: %s)", n, logPath)
	}
	return nil
}

// flowResult is what a run's message flow came to.
type flowResult struct {
	sent   int           // messages sent
	took   time.Duration // from the first send until every queue settled
	report report        // the invariants read from the tables and queues
}

// runFlow is the message flow Run and RunDeployed share, under
// cfg.Deadline: plan the messages, send them through a sender that retries
// per entry while inject runs beside it, wait until the tables and queues
// settle, and check the invariants. header starts the line announcing the
// sends.
func runFlow(ctx context.Context, cfg Config, t *target, awsCfg aws.Config, header string, inject func(context.Context, *faultLog), out io.Writer) (flowResult, *faultLog, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
	defer cancel()
	runID := fmt.Sprintf("x%d", time.Now().Unix()%100000)
	msgs, valid := plan(cfg, runID)
	poison := 0
	for _, m := range msgs {
		if m.poison {
			poison++
		}
	}
	fmt.Fprintf(out, "%s %d messages: %d valid orders, %d duplicates, %d poison of %d kinds\n",
		header, len(msgs), len(valid), cfg.Duplicates, poison, len(poisonKinds))
	flow := time.Now()

	// The faults run beside the sends and the processing.
	f := &faultLog{byFn: map[string]int{}}
	var wg sync.WaitGroup
	wg.Go(func() { inject(ctx, f) })
	// The sender's own client leaves retries to the sender, which knows
	// which entries a lost answer may have sent twice.
	sender := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
		o.DisableMessageChecksumValidation = true
		o.Retryer = aws.NopRetryer{}
	})
	sendRes, err := send(ctx, sender, t.names[OrdersQueue], msgs, defaultSenderRetry)
	if err != nil {
		cancel()
		wg.Wait()
		return flowResult{}, f, err
	}
	if sendRes.retries > 0 {
		fmt.Fprintf(out, "chaos: sent, %d entries retried (%d poison bodies after a lost answer)\n", sendRes.retries, len(sendRes.resent))
	}
	wg.Wait()
	if err := settle(ctx, t, len(valid), poison, out); err != nil {
		return flowResult{}, f, err
	}
	took := time.Since(flow)
	r, err := check(ctx, t, sendRes.sent, valid, sendRes.resent)
	return flowResult{sent: len(msgs), took: took, report: r}, f, err
}

// faultLog is what inject did.
type faultLog struct {
	mu       sync.Mutex
	kills    int
	byFn     map[string]int
	restarts int
	outage   time.Duration
}

func (f *faultLog) summary() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var parts []string
	for _, fn := range []string{OrderWorkerFunction, LedgerFunction} {
		parts = append(parts, fmt.Sprintf("%s %d", fn, f.byFn[fn]))
	}
	return strings.Join(parts, ", ")
}

// inject kills function processes with SIGKILL, alternating between the
// order-worker and the ledger, the busiest process each time; after a
// third of the kills it kills DynamoDB Local, keeps it dead for
// cfg.Outage, and restarts it on its data.
func inject(ctx context.Context, cfg Config, emu emulators.Config, f *faultLog, out io.Writer) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 16))
	f.byFn = map[string]int{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	fns := []string{OrderWorkerFunction, LedgerFunction}
	for f.kills < cfg.Kills {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		fn := fns[(f.kills+rng.IntN(2))%2]
		pid, err := killFunction(fn)
		if err != nil {
			continue // not started yet: the next tick tries again
		}
		f.mu.Lock()
		f.kills++
		f.byFn[fn]++
		f.mu.Unlock()
		fmt.Fprintf(out, "chaos: SIGKILL %s pid %d\n", fn, pid)
		if f.kills == cfg.Kills/3 && f.restarts == 0 {
			down := time.Now()
			if err := emulators.Kill(emu, "dynamodb"); err != nil {
				fmt.Fprintf(out, "chaos: kill DynamoDB Local: %v\n", err)
				continue
			}
			fmt.Fprintf(out, "chaos: SIGKILL DynamoDB Local; restart in %s\n", cfg.Outage)
			timer := time.NewTimer(cfg.Outage)
			<-timer.C
			if err := emulators.Restart(ctx, emu, "dynamodb"); err != nil {
				fmt.Fprintf(out, "chaos: restart DynamoDB Local: %v\n", err)
				continue
			}
			f.restarts++
			f.outage = time.Since(down)
			fmt.Fprintf(out, "chaos: DynamoDB Local back after %s\n", f.outage.Round(100*time.Millisecond))
		}
	}
}

// settle polls until every valid order is in both tables, every poison
// message is in the DLQ and the source queues are empty, or ctx ends. Reads
// that fail (DynamoDB down) are tried again at the next poll.
func settle(ctx context.Context, t *target, orders, poison int, out io.Writer) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := ""
	for n := 0; ; n++ {
		status, done := progress(ctx, t, orders, poison)
		if done {
			return nil
		}
		if n%5 == 0 && status != last {
			fmt.Fprintf(out, "chaos: %s\n", status)
			last = status
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chaos: not settled before the deadline: %s", status)
		case <-tick.C:
		}
	}
}

func progress(ctx context.Context, t *target, orders, poison int) (string, bool) {
	count := func(table string) (int, error) {
		items, err := scanAll(ctx, t.ddb, table)
		return len(items), err
	}
	o, err1 := count(t.names[OrdersTable])
	l, err2 := count(t.names[LedgerTable])
	dlq, err3 := visible(ctx, t, OrdersDLQ)
	q1, err4 := queueDepth(ctx, t.sqs, t.names[OrdersQueue])
	q2, err5 := queueDepth(ctx, t.sqs, t.names[LedgerQueue])
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return "reading progress: " + firstLine(err), false
	}
	s := fmt.Sprintf("orders %d/%d, ledger %d/%d, DLQ %d/%d, in the queues %d + %d", o, orders, l, orders, dlq, poison, q1, q2)
	return s, o >= orders && l >= orders && dlq >= poison && q1 == 0 && q2 == 0
}

func visible(ctx context.Context, t *target, id string) (int, error) {
	return queueDepth(ctx, t.sqs, t.names[id])
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// deriveTemplate writes the template with the chaos run's queue settings
// into dir, its CodeUris made relative to there. Every setting must be
// found where expected, so a change of the template fails the run loudly
// rather than running it with the slow settings.
func deriveTemplate(path, dir string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	src, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return "", err
	}
	s := string(b)
	for _, rep := range []struct {
		re   *regexp.Regexp
		with func(string) string
		want int
	}{
		{regexp.MustCompile(`(?m)^(\s+VisibilityTimeout:) 180$`), func(m string) string {
			return strings.TrimSuffix(m, "180") + strconv.Itoa(visibilitySeconds)
		}, 2},
		{regexp.MustCompile(`(?m)^(\s+maxReceiveCount:) 5$`), func(m string) string {
			return strings.TrimSuffix(m, "5") + strconv.Itoa(maxReceiveCount)
		}, 2},
		{regexp.MustCompile(`(?m)^(\s+CodeUri:) (\S+)$`), func(m string) string {
			i := strings.Index(m, "CodeUri: ")
			rel, err := filepath.Rel(dir, filepath.Join(src, m[i+len("CodeUri: "):]))
			if err != nil {
				return m
			}
			return m[:i] + "CodeUri: " + rel
		}, 5}, // order-worker, ledger, daily-report, feed-poller, customer-totals
	} {
		if n := len(rep.re.FindAllString(s, -1)); n != rep.want {
			return "", fmt.Errorf("chaos: %s: %d matches of %s, want %d: update internal/chaos", path, n, rep.re, rep.want)
		}
		s = rep.re.ReplaceAllStringFunc(s, rep.with)
	}
	out := filepath.Join(dir, "template.yaml")
	return out, os.WriteFile(out, []byte(s), 0o644)
}
