package demo

import (
	"bufio"
	"encoding/json"
	"io"
	"sync"
)

// Outcome is one record outcome line a function logged (see
// pkg/handler's LogKey constants): the demo follows the system through the
// same lines an operator would read.
type Outcome struct {
	Function     string `json:"function_name"`
	Outcome      string `json:"outcome"`
	MessageID    string `json:"message_id"`
	Attempt      int    `json:"attempt"`
	RetryDelayMS int64  `json:"retry_delay_ms"`
	Error        string `json:"error"`
	ErrorClass   string `json:"error_class"`
}

// Outcomes collects outcome lines from function logs. It is an io.Writer so
// the local runner can tee function output into it.
type Outcomes struct {
	mu   sync.Mutex
	all  []Outcome
	pw   *io.PipeWriter
	done chan struct{}
}

// NewOutcomes starts a collector; Close it to stop.
func NewOutcomes() *Outcomes {
	pr, pw := io.Pipe()
	o := &Outcomes{pw: pw, done: make(chan struct{})}
	go func() {
		defer close(o.done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			o.add(sc.Bytes())
		}
		// Drain whatever follows a line too long to scan.
		_, _ = io.Copy(io.Discard, pr)
	}()
	return o
}

// Write takes function output, any number of lines at a time.
func (o *Outcomes) Write(p []byte) (int, error) { return o.pw.Write(p) }

// Close stops the collector after the lines written so far are read.
func (o *Outcomes) Close() error {
	err := o.pw.Close()
	<-o.done
	return err
}

func (o *Outcomes) add(line []byte) {
	// Function output may carry a prefix before the JSON (the runner's).
	start := -1
	for i, b := range line {
		if b == '{' {
			start = i
			break
		}
	}
	if start < 0 {
		return
	}
	var oc Outcome
	if json.Unmarshal(line[start:], &oc) != nil || oc.Outcome == "" {
		return
	}
	o.mu.Lock()
	o.all = append(o.all, oc)
	o.mu.Unlock()
}

// Snapshot returns the outcomes seen so far.
func (o *Outcomes) Snapshot() []Outcome {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Outcome(nil), o.all...)
}

// Count returns how many outcomes of each kind fn logged ("" for all).
func (o *Outcomes) Count(fn string) map[string]int {
	n := map[string]int{}
	for _, oc := range o.Snapshot() {
		if fn == "" || oc.Function == fn {
			n[oc.Outcome]++
		}
	}
	return n
}
