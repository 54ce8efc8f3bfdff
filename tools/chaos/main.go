// Command chaos is `make chaos`: the fault-injection run of internal/chaos
// against the example stack, on emulators of its own. It exits 1 if any
// invariant is violated.
//
// It is a tool of the project, not a `latch` subcommand: it needs this
// checkout's template and functions, kills processes and emulators, and
// has nothing to offer a user's own stack.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/latchkit/latch/internal/chaos"
)

func main() {
	var cfg chaos.Config
	tmpl := flag.String("template", "infra/template.yaml", "the SAM template of the example stack")
	work := flag.String("dir", "", "directory for the run's files (default: a new one under $TMPDIR, removed after a passing run)")
	flag.IntVar(&cfg.Messages, "messages", 0, "total messages, in make chaos's proportions of orders, duplicates and poison (0: 1,015)")
	flag.IntVar(&cfg.Orders, "orders", 0, "distinct valid orders (0: 700, or derived from -messages)")
	flag.IntVar(&cfg.Kills, "kills", 0, "function processes to kill (0: 8)")
	flag.Uint64Var(&cfg.Seed, "seed", 0, "seed of the message stream and the faults (0: 1)")
	sam := flag.String("deployed", "", "run against the stack deployed with this sam executable to MiniStack (MiniStack's mappings, not latch's runner)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := *work
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "latch-chaos-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	run := func() error { return chaos.Run(ctx, cfg, chaos.Options{Template: *tmpl, WorkDir: dir}) }
	if *sam != "" {
		run = func() error {
			return chaos.RunDeployed(ctx, cfg, chaos.DeployedOptions{Options: chaos.Options{Template: *tmpl, WorkDir: dir}, SAM: *sam})
		}
	}
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "%v\nchaos: files kept in %s\n", err, dir)
		os.Exit(1)
	}
	if *work == "" {
		_ = os.RemoveAll(dir)
	}
}
