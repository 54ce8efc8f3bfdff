//go:build integration

// Package functest helps the example functions' integration tests: it reads
// the sample events of events/ and collects the per-record outcome lines a
// function logs, as the local demo and an operator read them.
package functest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/logging"
	"github.com/latchkit/latch/pkg/handler/metrics"
	"github.com/latchkit/latch/pkg/handler/telemetry"
)

// Event returns the sample event events/<name>, decoded into T.
func Event[T any](t testing.TB, name string) T {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "..", "events", name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return v
}

// Outcome is the part of an outcome line the tests look at.
type Outcome struct {
	Function     string `json:"function_name"`
	Outcome      string `json:"outcome"`
	MessageID    string `json:"message_id"`
	Attempt      int    `json:"attempt"`
	RetryDelayMS int64  `json:"retry_delay_ms"`
	Error        string `json:"error"`
	ErrorClass   string `json:"error_class"`
}

// Log is a concurrency-safe log sink.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p; handlers of concurrent records log through it at once.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Outcomes returns the outcome lines written so far, in order.
func (l *Log) Outcomes() []Outcome {
	l.mu.Lock()
	data := append([]byte(nil), l.buf.Bytes()...)
	l.mu.Unlock()
	var out []Outcome
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		var o Outcome
		if json.Unmarshal(sc.Bytes(), &o) == nil && o.Outcome != "" {
			out = append(out, o)
		}
	}
	return out
}

// Count returns how many outcome lines of each kind were written.
func (l *Log) Count() map[string]int {
	n := map[string]int{}
	for _, o := range l.Outcomes() {
		n[o.Outcome]++
	}
	return n
}

// Telemetry returns telemetry that logs into the returned Log (and the
// test's output on failure), drops metrics and traces nothing.
func Telemetry(t testing.TB) (*telemetry.Telemetry, *Log) {
	t.Helper()
	l := &Log{}
	t.Cleanup(func() {
		if t.Failed() {
			l.mu.Lock()
			t.Logf("function log:\n%s", l.buf.String())
			l.mu.Unlock()
		}
	})
	m, err := metrics.New(metrics.Config{Writer: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	tel, err := telemetry.New(telemetry.Config{
		Logger:  logging.NewLogger(logging.Config{Writer: l}),
		Metrics: m,
		Tracer:  handler.NopTracer{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tel, l
}

// Lookup returns a getenv over vars.
func Lookup(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// Build builds a function as its cold start does (function.Prepare), with
// vars as its whole environment besides the emulators' endpoints, which the
// AWS configuration reads from the process, and telemetry that logs into
// the returned Log. The handler is observed, as Lambda runs it.
func Build[In, Out any](t testing.TB, build function.Build[In, Out], vars map[string]string) (handler.Func[In, Out], *Log) {
	t.Helper()
	tel, log := Telemetry(t)
	h, _, err := function.Prepare(context.Background(), function.Options{Getenv: Lookup(vars), Telemetry: tel}, build)
	if err != nil {
		t.Fatal(err)
	}
	return h, log
}
