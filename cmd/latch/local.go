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
	"github.com/latchkit/latch/internal/template"
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
runs it as a real process behind a local Lambda Runtime API (in its code
directory, CodeUri, which is LAMBDA_TASK_ROOT as /var/task is in Lambda,
so relative paths in its variables are read from there), polls its SQS
event sources as Lambda's event source mappings do, and fires schedule
rules at their times. Function output goes to stderr. Ctrl-C stops
everything it started, and says what it left in flight.

Resources are named <prefix>-<LogicalId> (unless the template names them),
so two services can share one emulator. The prefix (AWS::StackName) is
--prefix, or the name of the template's directory (the one above it when
that is a generic name such as infra). The template is --template, or
template.yaml, template.yml or infra/template.yaml in the current directory.

The emulator endpoints come from the AWS_ENDPOINT_URL_* variables, else
from this project's stack of --backend ('latch emulators up'). Without
either, latch local refuses to run unless given --aws. On the localstack
backend, rules with SQS targets fire by themselves (LocalStack delivers
them); latch fires only function targets, which the emulator never sees,
so no tick is delivered twice.

Subcommands:
  latch local fire RULE [--time T]   fire a schedule rule once, now`,
		Setup: func(fs *flag.FlagSet) Runner {
			tmpl := fs.String("template", "", "the SAM template (default: template.yaml, template.yml or infra/template.yaml, the first that exists)")
			prefix := fs.String("prefix", "", "name prefix of the template's resources, AWS::StackName (default: from the template's directory)")
			params := paramFlags{}
			fs.Var(params, "param", "template parameter `NAME=VALUE` (repeatable)")
			// 'local' is a command and 'local fire' a mode of it rather than
			// a subcommand, so the shared flag set carries fire's flag too.
			at := fs.String("time", "", "with fire: the tick's scheduled time, RFC 3339; default now")
			allowAWS := awsFlag(fs)
			backend := backendFlag(fs)
			return func(ctx context.Context, env *Env, args []string) error {
				if *tmpl == "" {
					*tmpl = defaultTemplate()
				}
				if *prefix == "" {
					p, err := stackPrefix(*tmpl)
					if err != nil {
						return err
					}
					*prefix = p
				} else if err := checkPrefix(*prefix); err != nil {
					return err
				}
				if cfg, err := emulatorsConfig(env, *backend); err != nil {
					return err
				} else if err := useBackend(env, cfg, *allowAWS); err != nil {
					return err
				}
				awsCfg, err := awsConfig(ctx, env, *allowAWS)
				if err != nil {
					return err
				}
				if len(args) > 0 && args[0] == "fire" {
					return fireCommand(ctx, env, &awsCfg, *tmpl, *prefix, params, *at, args[1:])
				}
				if err := needArgs(args, 0, 0); err != nil {
					return err
				}
				if *at != "" {
					return usagef("--time goes with 'latch local fire RULE'")
				}
				log := slog.New(slog.NewTextHandler(env.Stderr, nil))
				stack, err := local.Start(ctx, local.Config{Template: *tmpl, StackName: *prefix, Params: params, Output: env.Stderr, Logger: log, AWS: &awsCfg})
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "latch local: running %s of %s with prefix %s; Ctrl-C to stop\n", strings.Join(stack.Functions(), ", "), *tmpl, *prefix)
				for _, r := range stack.Provisioned().Resources {
					if r.Type == template.TypeSQSQueue {
						fmt.Fprintf(env.Stdout, "latch local: queue %s is %s (latch send %s BODY)\n", r.LogicalID, r.Name, r.Name)
					}
				}
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
func fireCommand(ctx context.Context, env *Env, awsCfg *aws.Config, tmpl, prefix string, params map[string]string, at string, pos []string) error {
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
	stack, err := local.Start(ctx, local.Config{Template: tmpl, StackName: prefix, Params: params, Output: env.Stderr, Logger: log, AWS: awsCfg, NoMappings: true, NoSchedules: true})
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
