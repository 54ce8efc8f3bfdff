package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// LocalConfig describes a `latch local` run for an end-to-end test.
type LocalConfig struct {
	// Template is the SAM template, relative to the test's directory.
	// Default "template.yaml".
	Template string
	// Params are template parameters (--param NAME=VALUE).
	Params map[string]string
	// Prefix is the name prefix of the template's resources (--prefix,
	// AWS::StackName). Default: a fresh one per test, "e2e-<random>", so
	// tests and services sharing an emulator never share a queue.
	Prefix string
}

// Local is a `latch local` process started by StartLocal.
type Local struct {
	bin    string
	cmd    *exec.Cmd
	out    *syncBuffer
	prefix string
}

// StartLocal builds the latch CLI the test's module depends on (put
// `tool github.com/latchkit/latch/cmd/latch` in its go.mod) and starts
// `latch local --template` with the test's environment, so with the
// emulators' endpoints. At cleanup it interrupts the process, as Ctrl-C
// would, waits for it to stop what it started, and logs its output if the
// test failed. Call New first: it refuses without emulator endpoints.
func StartLocal(t testing.TB, cfg LocalConfig) *Local {
	t.Helper()
	if cfg.Template == "" {
		cfg.Template = "template.yaml"
	}
	bin := filepath.Join(t.TempDir(), "latch")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/latchkit/latch/cmd/latch").CombinedOutput(); err != nil {
		t.Fatalf("emulator: build the latch CLI (is `tool github.com/latchkit/latch/cmd/latch` in go.mod?): %v\n%s", err, out)
	}
	if cfg.Prefix == "" {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			t.Fatal(err)
		}
		cfg.Prefix = "e2e-" + hex.EncodeToString(b[:])
	}
	args := []string{"local", "--template", cfg.Template, "--prefix", cfg.Prefix}
	names := make([]string, 0, len(cfg.Params))
	for k := range cfg.Params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		args = append(args, "--param", k+"="+cfg.Params[k])
	}
	l := &Local{cmd: exec.Command(bin, args...), out: &syncBuffer{}, prefix: cfg.Prefix, bin: bin}
	l.cmd.Stdout, l.cmd.Stderr = l.out, l.out
	if err := l.cmd.Start(); err != nil {
		t.Fatalf("emulator: start latch local: %v", err)
	}
	t.Cleanup(func() {
		_ = l.cmd.Process.Signal(os.Interrupt)
		if err := l.cmd.Wait(); err != nil {
			t.Errorf("emulator: latch local: %v", err)
		}
		if t.Failed() {
			t.Logf("latch local's output:\n%s", l.Output())
		}
	})
	return l
}

// Name returns the physical name `latch local` gives a resource of the
// template that does not name it: "<prefix>-<LogicalId>". (A name too long
// for its service is shortened with a hash; keep logical ids short.)
func (l *Local) Name(logicalID string) string { return l.prefix + "-" + logicalID }

// Prefix returns the run's name prefix.
func (l *Local) Prefix() string { return l.prefix }

// Latch runs another latch command with the same CLI and environment
// (`send QUEUE BODY`, `dlq ls QUEUE`, `local fire RULE`) and returns its
// standard output; a non-zero exit fails the test with its output.
func (l *Local) Latch(t testing.TB, args ...string) string {
	t.Helper()
	var stdout, stderr strings.Builder
	cmd := exec.Command(l.bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("emulator: latch %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// Output returns what the process and its functions have written so far.
func (l *Local) Output() string { return l.out.String() }

// Eventually calls cond until it reports true, every 200 ms, and fails the
// test, saying what did not happen, if it has not within limit.
func Eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("emulator: not %s within %s", what, limit)
		}
		time.Sleep(200 * time.Millisecond) // the poll interval, under the deadline
	}
}

// syncBuffer collects a process's two output streams.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
