package chaos

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/emulators"
	"github.com/latchkit/latch/internal/localcloud"
)

// DeployedOptions say where things are for RunDeployed.
type DeployedOptions struct {
	Options
	// SAM is the sam executable (the Makefile's pinned one). Required.
	SAM string
}

// RunDeployed is the chaos run against the stack deployed by `sam deploy`
// on MiniStack: the same message mix and invariants as Run, but the event
// source mappings that poll the queues, invoke the functions and read
// their partial batch responses are MiniStack's, not latch's. The function
// processes are MiniStack's children; the busiest one of the order-worker
// or the ledger is killed with SIGKILL cfg.Kills times. MiniStack's
// DynamoDB lives inside the emulator's own process, so the DynamoDB outage
// of Run has no counterpart here.
func RunDeployed(ctx context.Context, cfg Config, opt DeployedOptions) (err error) {
	cfg.defaults()
	out := opt.Out
	if out == nil {
		out = os.Stdout
	}
	started := time.Now()
	if opt.WorkDir, err = filepath.Abs(opt.WorkDir); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(opt.WorkDir, "chaos.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	emu := emulators.Config{Backend: emulators.MiniStack, StateDir: filepath.Join(opt.WorkDir, "emulators"), Log: logFile}
	st, err := emulators.Up(ctx, emu)
	if err != nil {
		return err
	}
	defer func() {
		if derr := emulators.Down(emu); derr != nil && err == nil {
			err = derr
		}
	}()
	var env []string
	for _, v := range st.Env {
		env = append(env, v.Name+"="+v.Value)
		if err := os.Setenv(v.Name, v.Value); err != nil {
			return err
		}
	}
	if _, err := deriveTemplate(opt.Template, opt.WorkDir); err != nil {
		return err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "chaos: sam build and sam deploy to MiniStack (log: %s)\n", logFile.Name())
	d, err := localcloud.Deploy(ctx, localcloud.Options{
		SAM:      localcloud.SAM{Bin: opt.SAM, Dir: opt.WorkDir, Env: env, Out: logFile},
		Template: "template.yaml", BuildDir: filepath.Join(opt.WorkDir, "build"), StackName: "latch-chaos", AWS: awsCfg,
		Params: map[string]string{"TransientFaultPercent": "0", "RetryBaseSeconds": "1", "RetryMaxSeconds": "4"},
	})
	if d != nil {
		defer func() {
			if derr := d.Delete(context.WithoutCancel(ctx)); derr != nil && err == nil {
				err = derr
			}
		}()
	}
	if err != nil {
		return err
	}
	t := &target{sqs: sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
		o.DisableMessageChecksumValidation = true // see Run
	}), ddb: dynamodb.NewFromConfig(awsCfg), names: map[string]string{}}
	for _, id := range []string{OrdersQueue, OrdersDLQ, LedgerQueue, LedgerDLQ, OrdersTable, LedgerTable, OrderWorkerFunction, LedgerFunction} {
		if t.names[id], err = d.Stack.Resolve(id); err != nil {
			return err
		}
	}
	emulatorPID := 0
	if len(st.Procs) > 0 {
		emulatorPID = st.Procs[0].PID
	}
	fl, f, err := runFlow(ctx, cfg, t, awsCfg, "chaos: "+d.StackName+" deployed in "+d.Took["create"].Round(time.Second).String()+"; sending", func(ctx context.Context, f *faultLog) {
		injectDeployed(ctx, cfg, emulatorPID, t.names, f, out)
	}, out)
	if err != nil {
		return err
	}
	r := fl.report
	died := failedBatches(filepath.Join(st.Dir, "ministack.log"))
	r.add("faults injected", f.kills == cfg.Kills && died > 0,
		"%d function processes of MiniStack killed (%s), %d batches failed under its mappings (its log)", f.kills, f.summary(), died)
	fmt.Fprintf(out, "\nchaos: %d messages settled in %s under MiniStack's mappings (run %s)\n\n", fl.sent, fl.took.Round(100*time.Millisecond), time.Since(started).Round(time.Second))
	r.print(out)
	if n := r.violations(); n > 0 {
		return fmt.Errorf("chaos: %d invariant(s) violated (log: %s)", n, logFile.Name())
	}
	return nil
}

// injectDeployed kills, once a second until cfg.Kills are done, the
// busiest process of the order-worker or the ledger among the emulator's
// descendants.
func injectDeployed(ctx context.Context, cfg Config, emulator int, names map[string]string, f *faultLog, out io.Writer) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 16))
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
		pid := busiest(deployedPIDs(emulator, names[fn]), 150*time.Millisecond)
		if pid < 0 || syscall.Kill(pid, syscall.SIGKILL) != nil {
			continue // not started yet, or gone: the next tick tries again
		}
		f.mu.Lock()
		f.kills++
		f.byFn[fn]++
		f.mu.Unlock()
		fmt.Fprintf(out, "chaos: SIGKILL %s pid %d (a MiniStack child)\n", fn, pid)
	}
}

// deployedPIDs returns the processes of the deployed function named
// function: descendants of the emulator whose environment carries
// AWS_LAMBDA_FUNCTION_NAME=function, as Lambda's runtime environment does.
func deployedPIDs(emulator int, function string) []int {
	if emulator <= 0 {
		return nil
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	parent := map[int]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil && st.state != "Z" {
			parent[pid] = st.ppid
		}
	}
	want := []byte("AWS_LAMBDA_FUNCTION_NAME=" + function + "\x00")
	var pids []int
	for pid := range parent {
		if !descends(parent, pid, emulator) {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
		if err == nil && bytes.Contains(append([]byte{0}, env...), append([]byte{0}, want...)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func descends(parent map[int]int, pid, ancestor int) bool {
	for i := 0; i < 64 && pid > 1; i++ {
		if pid = parent[pid]; pid == ancestor {
			return true
		}
	}
	return false
}

// failedBatches counts MiniStack's log lines for a batch whose function
// failed (its process killed under it, among other causes).
func failedBatches(logPath string) int {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "failed processing SQS batch")
}
