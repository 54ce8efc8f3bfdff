package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// runLatch runs the CLI in-process and returns exit code, stdout, stderr.
func runLatch(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errOut, Now: func() time.Time {
		return time.Date(2026, 11, 27, 17, 53, 30, 0, time.UTC)
	}}
	code := run(context.Background(), args, env)
	return code, out.String(), errOut.String()
}

func TestDispatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stdout     []string // substrings
		stderr     []string
		noStdout   bool
		stderrNone bool
	}{
		{name: "no arguments", args: nil, code: 2, stderr: []string{"usage: latch COMMAND", "schedule"}, noStdout: true},
		{name: "root help", args: []string{"--help"}, code: 0, stdout: []string{"usage: latch COMMAND", "schedule ", "dlq "}, stderrNone: true},
		{name: "root -h", args: []string{"-h"}, code: 0, stdout: []string{"Commands:"}},
		{name: "help command", args: []string{"help", "schedule", "next"}, code: 0, stdout: []string{"usage: latch schedule next [flags] EXPR", "-n int"}},
		{name: "group help", args: []string{"schedule", "--help"}, code: 0, stdout: []string{"usage: latch schedule COMMAND", "next "}},
		{name: "group without subcommand", args: []string{"schedule"}, code: 2, stderr: []string{"usage: latch schedule COMMAND", "next "}},
		{name: "dlq group without subcommand", args: []string{"dlq"}, code: 2, stderr: []string{"usage: latch dlq COMMAND", "ls ", "redrive "}},
		{name: "leaf help with flags", args: []string{"dlq", "redrive", "--help"}, code: 0, stdout: []string{"usage: latch dlq redrive [flags] QUEUE", "-to string", "-dry-run"}},
		{name: "dlq ls needs a queue", args: []string{"dlq", "ls"}, code: 2, stderr: []string{"missing arguments", "usage: latch dlq ls [flags] QUEUE"}},
		{name: "bad prefix", args: []string{"local", "--prefix", "1bad"}, code: 2, stderr: []string{`--prefix "1bad": letters, digits and dashes`}},
		{name: "send to FIFO needs a group", args: []string{"send", "ledger.fifo", "{}"}, code: 2, stderr: []string{"--group is required"}},
		{name: "send group on a standard queue", args: []string{"send", "orders", "{}", "--group", "g"}, code: 2, stderr: []string{"for FIFO queues"}},
		{name: "unknown command", args: []string{"deploy"}, code: 2, stderr: []string{`unknown command "deploy"`}},
		{name: "unknown subcommand", args: []string{"schedule", "last"}, code: 2, stderr: []string{`unknown command "schedule last"`}},
		{name: "unknown flag", args: []string{"schedule", "next", "--bogus", "rate(1 day)"}, code: 2, stderr: []string{"flag provided but not defined: -bogus", "usage: latch schedule next"}},
		{name: "missing argument", args: []string{"schedule", "next"}, code: 2, stderr: []string{"missing arguments"}},
		{name: "extra argument", args: []string{"schedule", "next", "rate(1 day)", "x"}, code: 2, stderr: []string{"unexpected arguments: x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runLatch(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout does not contain %q:\n%s", s, out)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr does not contain %q:\n%s", s, errOut)
				}
			}
			if tc.noStdout && out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if tc.stderrNone && errOut != "" {
				t.Errorf("stderr = %q, want nothing", errOut)
			}
		})
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	var walk func(path []string, cs []*Command)
	walk = func(path []string, cs []*Command) {
		for _, c := range cs {
			p := append(append([]string(nil), path...), c.Name)
			if c.Short == "" {
				t.Errorf("%s has no Short description", strings.Join(p, " "))
			}
			code, out, _ := runLatch(t, append(p, "--help")...)
			if code != 0 || !strings.HasPrefix(out, "usage: latch "+strings.Join(p, " ")) {
				t.Errorf("%s --help: exit %d, output %q", strings.Join(p, " "), code, out)
			}
			walk(p, c.Subcommands)
		}
	}
	walk(nil, commands)
}

func TestScheduleNext(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "daily cron, flag after the expression", args: []string{"schedule", "next", "cron(0 3 * * ? *)", "-n", "3"}, code: 0,
			stdout: "2026-11-28T03:00:00Z\n2026-11-29T03:00:00Z\n2026-11-30T03:00:00Z\n"},
		{name: "flag before, --after", args: []string{"schedule", "next", "-n=2", "--after", "2027-01-01T00:00:00Z", "cron(0 8 ? * 3#2 *)"}, code: 0,
			stdout: "2027-01-12T08:00:00Z\n2027-02-09T08:00:00Z\n"},
		{name: "rate", args: []string{"schedule", "next", "rate(5 minutes)", "-n", "2"}, code: 0,
			stdout: "2026-11-27T17:55:00Z\n2026-11-27T18:00:00Z\n"},
		{name: "ends", args: []string{"schedule", "next", "cron(0 0 1 1 ? 2027)", "-n", "3"}, code: 0,
			stdout: "2027-01-01T00:00:00Z\n", stderr: "fires no more"},
		{name: "invalid field is named", args: []string{"schedule", "next", "cron(0 25 * * ? *)"}, code: 1,
			stderr: "latch: schedule \"cron(0 25 * * ? *)\": hours field: 25 is out of range 0-23\n"},
		{name: "bad -n", args: []string{"schedule", "next", "rate(1 day)", "-n", "0"}, code: 2, stderr: "-n must be at least 1"},
		{name: "bad --after", args: []string{"schedule", "next", "rate(1 day)", "--after", "tomorrow"}, code: 2, stderr: "-after"},
		{name: "double dash", args: []string{"schedule", "next", "-n", "1", "--", "rate(1 day)"}, code: 0, stdout: "2026-11-28T00:00:00Z\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runLatch(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			if tc.stdout != "" && out != tc.stdout {
				t.Errorf("stdout = %q, want %q", out, tc.stdout)
			}
			if tc.stderr != "" && !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, tc.stderr)
			}
			if tc.code != 0 && out != "" {
				t.Errorf("stdout = %q on failure", out)
			}
		})
	}
}
