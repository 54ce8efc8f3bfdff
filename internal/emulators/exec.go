package emulators

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ownerFile names, in an Exec run's state directory, the latch process
// that runs it; Down leaves the directory alone while that one lives.
const ownerFile = "owner.json"

// Exec starts a stack of its own for one command, runs argv with the
// stack's environment (and LATCH_REQUIRE_EMULATORS=1, so that the test
// harness fails rather than skips without it), and stops the stack
// whatever happens. The run's state directory is a fresh exec-* directory
// inside the configured one: a second Exec, or a stack started by Up, is
// neither reused nor stopped by this one. On failure the emulators' logs
// are kept there, and the error names it. It returns argv's exit code.
// When ctx ends (Ctrl-C), argv gets SIGTERM, then SIGKILL after 10s.
func Exec(ctx context.Context, cfg Config, argv []string) (int, error) {
	if len(argv) == 0 {
		return 2, errors.New("emulators: no command to run")
	}
	c, err := cfg.withDefaults()
	if err != nil {
		return 2, err
	}
	if err := os.MkdirAll(c.StateDir, 0o755); err != nil {
		return 1, err
	}
	dir, err := os.MkdirTemp(c.StateDir, "exec-")
	if err != nil {
		return 1, err
	}
	self := Proc{Name: "latch", PID: os.Getpid()}
	self.Start, _ = procStart(self.PID)
	if b, err := json.Marshal(self); err == nil {
		_ = os.WriteFile(filepath.Join(dir, ownerFile), b, 0o644)
	}
	run := c
	run.StateDir = dir
	code, err := execIn(ctx, run, argv)
	if derr := Down(run); derr != nil {
		err = errors.Join(err, derr)
	}
	if err == nil && code == 0 {
		_ = os.RemoveAll(dir)
	} else {
		c.logf("emulator logs kept in %s ('latch emulators down' clears them)", dir)
	}
	return code, err
}

func execIn(ctx context.Context, c Config, argv []string) (int, error) {
	st, err := Up(ctx, c)
	if err != nil {
		return 1, err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = os.Environ()
	for _, v := range st.Env {
		cmd.Env = append(cmd.Env, v.Name+"="+v.Value)
	}
	cmd.Env = append(cmd.Env, "LATCH_REQUIRE_EMULATORS=1")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	logPeakRSS(c, st)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		if ee.ExitCode() >= 0 {
			return ee.ExitCode(), nil
		}
		return 1, fmt.Errorf("emulators: %s: %w", argv[0], err)
	default:
		return 1, fmt.Errorf("emulators: %w", err)
	}
}

// reapExecDirs stops and removes the stacks of Exec runs in c.StateDir
// whose latch process is gone (killed before it could stop them), and
// removes the kept logs of failed ones.
func reapExecDirs(c Config) []error {
	dirs, _ := filepath.Glob(filepath.Join(c.StateDir, "exec-*"))
	var errs []error
	for _, d := range dirs {
		var owner Proc
		if b, err := os.ReadFile(filepath.Join(d, ownerFile)); err == nil && json.Unmarshal(b, &owner) == nil && owner.alive() {
			continue
		}
		if st, err := readState(d); err == nil {
			if left := stop(st); len(left) > 0 {
				errs = append(errs, fmt.Errorf("emulators: still running after SIGKILL: %v", left))
				continue
			}
		}
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// logPeakRSS logs the peak resident memory of the stack's processes, each
// and summed, for the numbers people compare backends by.
func logPeakRSS(c Config, st *State) {
	var parts []string
	var total uint64
	seen := map[int]bool{}
	for _, p := range st.Procs {
		procs := append([]Proc{p}, descendants(p.PID)...)
		for _, q := range procs {
			if seen[q.PID] {
				continue
			}
			seen[q.PID] = true
			if rss := peakRSS(q.PID); rss > 0 {
				total += rss
				parts = append(parts, fmt.Sprintf("%s %d MiB", nameOr(q.Name, p.Name+" child"), rss>>20))
			}
		}
	}
	if total > 0 {
		c.logf("peak RSS %d MiB (%s)", total>>20, strings.Join(parts, ", "))
	}
}

func nameOr(name, alt string) string {
	if name != "" {
		return name
	}
	return alt
}
