package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

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

While it runs, the other commands of this project (the directory holding
go.mod or .git) find it: 'latch local fire' fires a rule in it, with its
prefix and parameters, and 'latch send' and 'latch dlq' reach its
emulators and take a queue's logical id (latch send OrdersQueue BODY).
Without a running latch local they use the project's emulator stack
('latch emulators up'), and without that they refuse.

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

A function with a CapacityProviderConfig (Lambda Managed Instances) runs as
there: one process serves PerExecutionEnvironmentMaxConcurrency invocations
at once (AWS_LAMBDA_MAX_CONCURRENCY), and an invocation past its timeout
fails but its process is not killed. --per-environment N runs every
function that way; --kill-on-timeout kills the process at a timeout also
on a capacity provider, as for a classic function.

Subcommands:
  latch local fire RULE [--time T]   fire a schedule rule once, now

'latch local fire' fires the rule in the running latch local of this
project (--prefix or --template pick one when several run), and prints
the output of the invocations it made on stdout; it exits 1 if the
function failed. With no latch local running it starts the template's
functions on the project's stack for the one fire, then stops them.`,
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
			perEnv := fs.Int("per-environment", 0, "invocations at once per function process, as on Lambda Managed Instances, for every function (default: the template's CapacityProviderConfig, else 1)")
			kill := fs.Bool("kill-on-timeout", false, "kill a function's process when an invocation times out also on a capacity provider, where Lambda lets it run on")
			return func(ctx context.Context, env *Env, args []string) error {
				if *perEnv < 0 || *perEnv > 1600 {
					return usagef("--per-environment: %d is not from 1 to 1600, Lambda's range", *perEnv)
				}
				if len(args) > 0 && args[0] == "fire" {
					return fireCommand(ctx, env, *tmpl, *prefix, params, *at, *allowAWS, *backend, args[1:])
				}
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
				if err := needArgs(args, 0, 0); err != nil {
					return err
				}
				if *at != "" {
					return usagef("--time goes with 'latch local fire RULE'")
				}
				abs, err := filepath.Abs(*tmpl)
				if err != nil {
					return err
				}
				// Two runs of one prefix on one stack would poll the same
				// queues and fire the same rules twice.
				if s, err := findSession(env, sessionFilter{prefix: *prefix}); err != nil {
					return err
				} else if s != nil {
					return fmt.Errorf("latch local already runs %s with prefix %s in this project (pid %d); stop it first, or give this run another --prefix", s.Template, s.Prefix, s.PID)
				}
				awsCfg, err := awsConfig(ctx, env, *allowAWS)
				if err != nil {
					return err
				}
				log := slog.New(slog.NewTextHandler(env.Stderr, nil))
				stack, err := local.Start(ctx, local.Config{
					Template: *tmpl, StackName: *prefix, Params: params, Output: env.Stderr, Logger: log, AWS: &awsCfg,
					PerEnvironment: *perEnv, KillOverrun: *kill,
				})
				if err != nil {
					return err
				}
				remove, err := serveSession(ctx, env, stack, abs, *prefix)
				if err != nil {
					_ = stack.Stop()
					return err
				}
				fmt.Fprintf(env.Stdout, "latch local: running %s of %s with prefix %s; Ctrl-C to stop\n", strings.Join(stack.Functions(), ", "), *tmpl, *prefix)
				for _, r := range stack.Provisioned().Resources {
					if r.Type == template.TypeSQSQueue {
						fmt.Fprintf(env.Stdout, "latch local: queue %s is %s (latch send %s BODY)\n", r.LogicalID, r.Name, r.LogicalID)
					}
				}
				<-ctx.Done()
				remove()
				fmt.Fprintln(env.Stdout, "latch local: stopping")
				err = stack.Stop()
				// The queues' own counts: the stop cuts receives short whose
				// messages the emulator had already handed out.
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				left, rerr := stack.LeftInFlight(rctx)
				printInFlight(env, left)
				if rerr != nil {
					fmt.Fprintf(env.Stderr, "latch local: %v\n", rerr)
				}
				return err
			}
		},
	})
}

// serveSession serves the stack's fire requests on a loopback port and
// records the session where the project's other commands look for it. The
// returned function removes the record; the server stops with ctx.
func serveSession(ctx context.Context, env *Env, stack *local.Stack, tmpl, prefix string) (remove func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = stack.Serve(ctx, l) }()
	queues := map[string]string{}
	for _, r := range stack.Provisioned().Resources {
		if r.Type == template.TypeSQSQueue {
			queues[r.LogicalID] = r.Name
		}
	}
	remove, err = recordSession(session{PID: os.Getpid(), Template: tmpl, Prefix: prefix, Control: l.Addr().String(),
		Env: sdkEnv(env.environ()), Queues: queues, Started: time.Now().UTC()})
	if err != nil {
		_ = l.Close()
		return nil, err
	}
	return remove, nil
}

// fireCommand is 'latch local fire RULE [--time T]'. It fires the rule in
// the running latch local of the project when there is one; else it is a
// one-shot run that builds the functions, invokes the rule's targets with
// its Scheduled Event (async semantics: retries, then the OnFailure
// destination), and stops. Either way the invocations' output goes to
// stdout, where a script or a test reads it.
func fireCommand(ctx context.Context, env *Env, tmpl, prefix string, params map[string]string, at string, allowAWS bool, backend string, pos []string) error {
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
	f := sessionFilter{prefix: prefix}
	if tmpl != "" {
		abs, err := filepath.Abs(tmpl)
		if err != nil {
			return err
		}
		f.template = abs
	}
	if prefix != "" {
		if err := checkPrefix(prefix); err != nil {
			return err
		}
	}
	s, err := discover(env, allowAWS, f)
	if err != nil {
		return err
	}
	if s != nil {
		if len(params) > 0 {
			return usagef("latch local runs %s with prefix %s (pid %d) and its own parameters: --param is for a fire without a running latch local", s.Template, s.Prefix, s.PID)
		}
		if err := local.FireAt(ctx, s.Control, pos[0], when, env.Stdout); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "fired %s for %s in the running latch local (prefix %s)\n", pos[0], when.Format(time.RFC3339), s.Prefix)
		return nil
	}
	if tmpl == "" {
		tmpl = defaultTemplate()
	}
	if prefix == "" {
		if prefix, err = stackPrefix(tmpl); err != nil {
			return err
		}
	}
	if cfg, err := emulatorsConfig(env, backend); err != nil {
		return err
	} else if err := useBackend(env, cfg, allowAWS); err != nil {
		return err
	}
	awsCfg, err := awsConfig(ctx, env, allowAWS)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, nil))
	stack, err := local.Start(ctx, local.Config{Template: tmpl, StackName: prefix, Params: params, Output: env.Stdout, Logger: log, AWS: &awsCfg, NoMappings: true, NoSchedules: true})
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
		count := fmt.Sprintf("%d message(s) of %d batch(es) left in flight", q.Messages, q.Batches)
		if q.Unseen > 0 {
			count = fmt.Sprintf("%d message(s) left in flight: %d of %d batch(es) this run received, %d handed out to receives the stop cut short (or to another consumer)",
				q.Messages+q.Unseen, q.Messages, q.Batches, q.Unseen)
		}
		fmt.Fprintf(env.Stdout, "latch local: %s (%s): %s; visible again by %s (in %s, the queue's visibility timeout; sooner or later where the function set a retry delay)\n",
			queueName(q.QueueURL), q.Function, count, q.Due.Local().Format("15:04:05"), q.Due.Sub(now).Round(time.Second))
	}
}
