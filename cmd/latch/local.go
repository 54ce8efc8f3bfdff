package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/latchkit/latch/internal/local"
)

// paramFlags collects repeated --param K=V flags.
type paramFlags map[string]string

func (p paramFlags) String() string {
	var kv []string
	for k, v := range p {
		kv = append(kv, k+"="+v)
	}
	return strings.Join(kv, ",")
}

func (p paramFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	p[k] = v
	return nil
}

func init() {
	register(&Command{
		Name:  "local",
		Args:  "[fire RULE]",
		Short: "run a SAM template's functions locally against the emulators",
		Long: `Provisions the template's tables, queues, bus and rules on the local
emulators (re-running is safe), builds each AWS::Serverless::Function and
runs it as a real process behind a local Lambda Runtime API, polls its SQS
event sources as Lambda's event source mappings do, and fires schedule
rules at their times. Function output goes to stderr. Ctrl-C stops
everything it started.

The emulator endpoints come from the AWS_ENDPOINT_URL_* variables; start
the emulators with 'make emulators-up' and source the env file it names.

Subcommands:
  latch local fire RULE [--time T]   fire a schedule rule once, now`,
		Setup: func(fs *flag.FlagSet) Runner {
			tmpl := fs.String("template", "infra/template.yaml", "the SAM template")
			params := paramFlags{}
			fs.Var(params, "param", "template parameter `NAME=VALUE` (repeatable)")
			// 'local' is a command and 'local fire' a mode of it rather than
			// a subcommand, so the shared flag set carries fire's flag too.
			at := fs.String("time", "", "with fire: the tick's scheduled time, RFC 3339; default now")
			allowAWS := awsFlag(fs)
			return func(ctx context.Context, env *Env, args []string) error {
				awsCfg, err := awsConfig(ctx, env, *allowAWS)
				if err != nil {
					return err
				}
				if len(args) > 0 && args[0] == "fire" {
					return fireCommand(ctx, env, &awsCfg, *tmpl, params, *at, args[1:])
				}
				if err := needArgs(args, 0, 0); err != nil {
					return err
				}
				if *at != "" {
					return usagef("--time goes with 'latch local fire RULE'")
				}
				log := slog.New(slog.NewTextHandler(env.Stderr, nil))
				stack, err := local.Start(ctx, local.Config{Template: *tmpl, Params: params, Output: env.Stderr, Logger: log, AWS: &awsCfg})
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "latch local: running %s; Ctrl-C to stop\n", strings.Join(stack.Functions(), ", "))
				<-ctx.Done()
				fmt.Fprintln(env.Stdout, "latch local: stopping")
				err = stack.Stop()
				printInFlight(env, stack.InFlight())
				return err
			}
		},
	})
}

// fireCommand is 'latch local fire RULE [--time T]': a one-shot run that
// builds the functions, invokes the rule's targets with its Scheduled Event
// (async semantics: retries, then the OnFailure destination), and stops.
func fireCommand(ctx context.Context, env *Env, awsCfg *aws.Config, tmpl string, params map[string]string, at string, pos []string) error {
	if len(pos) != 1 {
		return usagef("usage: latch local fire RULE [--time T]")
	}
	when := env.now().UTC().Truncate(time.Second)
	if at != "" {
		var err error
		if when, err = time.Parse(time.RFC3339, at); err != nil {
			return usagef("--time: %v", err)
		}
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, nil))
	stack, err := local.Start(ctx, local.Config{Template: tmpl, Params: params, Output: env.Stderr, Logger: log, AWS: awsCfg, NoMappings: true, NoSchedules: true})
	if err != nil {
		return err
	}
	ferr := stack.Fire(ctx, pos[0], when)
	serr := stack.Stop()
	if ferr != nil {
		return ferr
	}
	if serr != nil {
		return serr
	}
	fmt.Fprintf(env.Stdout, "fired %s for %s\n", pos[0], when.Format(time.RFC3339))
	return nil
}

// printInFlight tells, after a stop, what the pollers left in flight: it
// is not lost, but no one sees it until its visibility timeout passes.
func printInFlight(env *Env, left []local.InFlight) {
	if len(left) == 0 {
		fmt.Fprintln(env.Stdout, "latch local: nothing left in flight")
		return
	}
	now := env.now()
	for _, q := range left {
		fmt.Fprintf(env.Stdout, "latch local: %s (%s): %d message(s) of %d batch(es) left in flight; visible again by %s (in %s, the queue's visibility timeout; sooner or later where the function set a retry delay)\n",
			queueName(q.QueueURL), q.Function, q.Messages, q.Batches, q.Due.Local().Format("15:04:05"), q.Due.Sub(now).Round(time.Second))
	}
}
