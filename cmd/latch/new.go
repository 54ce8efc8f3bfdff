package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/latchkit/latch/internal/scaffold"
)

func init() {
	register(&Command{
		Name:  "new",
		Args:  "NAME",
		Short: "create a service module with one function, or add a function to one",
		Long: `Creates the directory NAME with a Go module of latch functions: go.mod,
functions/NAME/ (main.go, handler.go with its Build on package function,
handler_test.go on the test kit), a SAM template with latch's environment
in Globals, dead-letter or failure queues and alarms, a sample event in
events/, and a README and Makefile with the three commands: test, run
locally, trigger. It then runs 'go mod tidy'. The generated module builds,
passes its tests and runs under 'latch local' as written.

The trigger is one of --sqs (the default), --fifo, --schedule EXPR,
--poller or --events. With --add-function, NAME is a new function of the
module in the current directory: its code, sample event, README row and
resources (appended to template.yaml, whose Resources must be last).

latch is not published yet: --replace DIR points the new module at a
checkout of latch with a replace directive in go.mod. A latch built from a
published release requires that release instead.

Examples:
  latch new billing --replace ~/src/latch
  latch new billing --schedule 'cron(0 2 * * ? *)' --replace ~/src/latch
  cd billing && latch new --add-function refunds --fifo`,
		Setup: func(fs *flag.FlagSet) Runner {
			sqsKind := fs.Bool("sqs", false, "an SQS consumer (the default)")
			fifo := fs.Bool("fifo", false, "a FIFO queue consumer, one message group at a time")
			sched := fs.String("schedule", "", "a schedule job on `EXPR` (cron(...) or rate(...))")
			poller := fs.Bool("poller", false, "a poller reading a paged feed from a checkpoint, every minute")
			evs := fs.Bool("events", false, "an EventBridge rule's events, through a queue")
			add := fs.Bool("add-function", false, "add NAME to the module in the current directory")
			module := fs.String("module", "", "module `PATH` of a new module (default example.com/NAME)")
			replace := fs.String("replace", "", "a latch checkout `DIR` the module points at (latch is not published)")
			return func(ctx context.Context, env *Env, args []string) error {
				if err := needArgs(args, 1, 1); err != nil {
					return err
				}
				f := scaffold.Function{Schedule: *sched}
				n := 0
				for kind, on := range map[scaffold.Kind]bool{
					scaffold.SQS: *sqsKind, scaffold.FIFO: *fifo, scaffold.Schedule: *sched != "",
					scaffold.Poller: *poller, scaffold.Events: *evs,
				} {
					if on {
						f.Kind, n = kind, n+1
					}
				}
				switch {
				case n > 1:
					return usagef("choose one trigger: --sqs, --fifo, --schedule, --poller or --events")
				case n == 0:
					f.Kind = scaffold.SQS
				}
				if *add {
					if *module != "" || *replace != "" {
						return usagef("--module and --replace are for a new module, not --add-function")
					}
					f.Name = args[0]
					if err := scaffold.Add(".", f); err != nil {
						return err
					}
					fmt.Fprintf(env.Stdout, "added functions/%s (%s) to this module\n", f.Name, f.Kind)
					return tidy(ctx, env, ".")
				}
				dir := args[0]
				f.Name = filepath.Base(dir)
				m := scaffold.Module{Dir: dir, Path: *module}
				var err error
				if m.LatchVersion, m.Replace, err = latchRequirement(*replace); err != nil {
					return err
				}
				if err := scaffold.New(m, f); err != nil {
					return err
				}
				if err := tidy(ctx, env, dir); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "created %s with functions/%s (%s)\nnext:\n  cd %s\n  go test ./...\n  go tool latch emulators up && go tool latch local\n", dir, f.Name, f.Kind, dir)
				return nil
			}
		},
	})
}

// release is a published latch version a new module can require.
var release = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`)

// latchRequirement is the latch version a new module requires and the
// directory it replaces latch with: the --replace checkout, or this
// binary's own release.
func latchRequirement(replace string) (version, dir string, err error) {
	if replace != "" {
		abs, err := filepath.Abs(replace)
		if err != nil {
			return "", "", err
		}
		if _, err := os.Stat(filepath.Join(abs, "pkg", "function")); err != nil {
			return "", "", fmt.Errorf("--replace %s: not a latch checkout (no pkg/function)", replace)
		}
		return "v0.0.0", abs, nil
	}
	if bi, ok := debug.ReadBuildInfo(); ok && release.MatchString(bi.Main.Version) && bi.Main.Version != "v0.0.0" {
		return bi.Main.Version, "", nil
	}
	return "", "", usagef("this latch is not a published release: point the new module at your latch checkout with --replace DIR (it becomes a replace directive in go.mod)")
}

// tidy runs 'go mod tidy' in dir, so that go.sum holds what the generated
// code imports.
func tidy(ctx context.Context, env *Env, dir string) error {
	cmd := exec.CommandContext(ctx, "go", "mod", "tidy")
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("go mod tidy in %s: %s", dir, strings.TrimSpace(out.String()))
		}
		return fmt.Errorf("go mod tidy in %s: %w (is the Go toolchain on PATH?)", dir, err)
	}
	return nil
}
