// Command latch is the developer CLI of the latch toolkit: it runs the
// functions of a SAM template locally, previews schedule expressions, and
// inspects and redrives dead-letter queues.
//
// Each command lives in its own file, which declares a *Command and
// registers it from an init function:
//
//	func init() { register(&Command{Name: "local", Short: "...", Setup: ...}) }
//
// Nothing else needs to change to add one: dispatch, --help and error
// reporting are shared.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Command is a latch command or a group of subcommands.
type Command struct {
	// Name is the word that selects the command: "schedule", "next".
	Name string
	// Args is the synopsis of its positional arguments: "EXPR".
	Args string
	// Short is the one-line description shown in command lists.
	Short string
	// Long is the help text shown by --help, after the usage line.
	Long string
	// Setup declares the command's flags on fs and returns the function
	// that runs it once the flags are parsed. Nil for a group.
	Setup func(fs *flag.FlagSet) Runner
	// Subcommands of a group, such as "dlq ls" and "dlq redrive".
	Subcommands []*Command
}

// Runner runs a command with its positional arguments.
type Runner func(ctx context.Context, env *Env, args []string) error

// Env is what a command talks to: its output streams and clock. Tests
// give their own.
type Env struct {
	// Stdin is read by commands that take input from it (latch send).
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Environ is the process environment; os.Environ when nil.
	Environ func() []string
}

func (e *Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

// commands are the top-level commands. Command files append to it from
// init functions, before main runs; it is never written afterwards.
var commands []*Command

func register(c *Command) { commands = append(commands, c) }

// usageError is a wrong invocation: reported with the usage line, exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the exit code: 0 on
// success (and for --help), 1 when the command failed, 2 on a usage error.
func run(ctx context.Context, args []string, env *Env) int {
	root := &Command{Name: "latch", Short: "run and inspect latch functions locally", Subcommands: sorted(commands),
		Long: "latch runs the Lambda functions of a SAM template locally against the\nDocker-free emulators, previews schedule expressions, and inspects and\nredrives dead-letter queues."}
	path := []string{"latch"}
	cmd := root
	for cmd.Setup == nil {
		if len(args) == 0 {
			printHelp(env.Stderr, cmd, path)
			return 2
		}
		switch a := args[0]; {
		case a == "-h" || a == "-help" || a == "--help":
			printHelp(env.Stdout, cmd, path)
			return 0
		case a == "help" && cmd == root:
			// "latch help dlq redrive" is "latch dlq redrive --help".
			args = append(args[1:], "--help")
			continue
		}
		sub := find(cmd.Subcommands, args[0])
		if sub == nil {
			fmt.Fprintf(env.Stderr, "latch: unknown command %q\n", strings.Join(append(path[1:], args[0]), " "))
			printHelp(env.Stderr, cmd, path)
			return 2
		}
		cmd, path, args = sub, append(path, sub.Name), args[1:]
	}

	fs := flag.NewFlagSet(strings.Join(path, " "), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runner := cmd.Setup(fs)
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(env.Stdout, cmd, path)
		return 0
	}
	if err == nil {
		err = runner(ctx, env, positional)
	}
	var ue *usageError
	var ec exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ec):
		return int(ec)
	case errors.As(err, &ue) || isFlagError(err):
		fmt.Fprintf(env.Stderr, "latch: %v\nusage: %s\nRun '%s --help' for details.\n", err, usageLine(cmd, path), strings.Join(path, " "))
		return 2
	default:
		fmt.Fprintf(env.Stderr, "latch: %v\n", err)
		return 1
	}
}

// exitCode is an error that ends latch with that exit code and no
// message: the code of a command it ran (latch emulators exec).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// flagError marks errors from flag parsing, which are usage errors.
type flagError struct{ error }

func isFlagError(err error) bool {
	var fe flagError
	return errors.As(err, &fe)
}

// parseInterspersed parses flags anywhere among the positional arguments,
// so that "latch schedule next 'cron(...)' -n 5" works; "--" ends flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, flagError{err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		// flag stops at the first non-flag, or after "--".
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func find(cs []*Command, name string) *Command {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func sorted(cs []*Command) []*Command {
	out := append([]*Command(nil), cs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func usageLine(c *Command, path []string) string {
	line := strings.Join(path, " ")
	if c.Setup == nil {
		return line + " COMMAND"
	}
	line += " [flags]"
	if c.Args != "" {
		line += " " + c.Args
	}
	return line
}

func printHelp(w io.Writer, c *Command, path []string) {
	fmt.Fprintf(w, "usage: %s\n", usageLine(c, path))
	if c.Long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.Long))
	} else if c.Short != "" {
		fmt.Fprintf(w, "\n%s.\n", c.Short)
	}
	if len(c.Subcommands) > 0 {
		fmt.Fprintf(w, "\nCommands:\n")
		for _, s := range c.Subcommands {
			fmt.Fprintf(w, "  %-12s %s\n", s.Name, s.Short)
		}
		fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's details.\n", strings.Join(path, " "))
		return
	}
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	c.Setup(fs)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

// needArgs checks the number of positional arguments.
func needArgs(args []string, min, max int) error {
	switch {
	case len(args) < min:
		return usagef("missing arguments")
	case max >= 0 && len(args) > max:
		return usagef("unexpected arguments: %s", strings.Join(args[max:], " "))
	}
	return nil
}
