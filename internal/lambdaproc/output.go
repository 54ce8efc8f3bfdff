package lambdaproc

import (
	"bytes"
	"context"
	"io"
	"sync"
	"time"
)

// maxLine bounds how much of a line without a newline is held back; past it
// the text is written out as a line of its own, so a function that prints
// megabytes without a newline cannot grow the buffer without limit.
const maxLine = 64 << 10

// lineWriter forwards a process's output line by line, each line prefixed
// and written with one Write call under a lock shared by all of a
// function's environments, so lines from concurrent processes never
// interleave mid-line.
type lineWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix []byte
	buf    []byte
	// tee, when set, also receives the lines: those of the invocation
	// that asked for them (WithOutput). last is when a line was last
	// written.
	tee  io.Writer
	last time.Time
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 && len(l.buf) < maxLine {
			break
		}
		if i < 0 {
			i = len(l.buf) - 1
		}
		l.emit(l.buf[:i+1])
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) == 0 {
		l.buf = nil // let a large line's backing array go
	}
	return len(p), nil
}

// flush writes a last line that had no newline.
func (l *lineWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(l.buf)
		l.buf = nil
	}
}

// emit writes one prefixed line; the destination's errors are dropped, as a
// function's logs must never fail the function.
func (l *lineWriter) emit(line []byte) {
	out := make([]byte, 0, len(l.prefix)+len(line)+1)
	out = append(append(out, l.prefix...), line...)
	if out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	_, _ = l.w.Write(out)
	if l.tee != nil {
		_, _ = l.tee.Write(out)
	}
	l.last = time.Now()
}

// outputKey is the context key of WithOutput.
type outputKey struct{}

// WithOutput returns a context under which an invocation (Invoke,
// InvokeRequest) also writes the output lines of its execution environment
// to w while it runs, prefixed as on Config.Output: what `aws lambda invoke
// --log-type Tail` gives back for one invocation. Writes to w are
// serialised with the function's other output.
func WithOutput(ctx context.Context, w io.Writer) context.Context {
	return context.WithValue(ctx, outputKey{}, w)
}

func outputFrom(ctx context.Context) io.Writer {
	w, _ := ctx.Value(outputKey{}).(io.Writer)
	return w
}

// Trailing output: a function writes its lines before it answers, but they
// reach the runner through a pipe that another goroutine reads, so the last
// of them can arrive after the answer. Nothing marks the end of a pipe's
// data short of its close, so the tee stays on until the environment has
// been quiet for outputQuiet since the answer, for at most outputDrain.
const (
	outputQuiet = 100 * time.Millisecond
	outputDrain = time.Second
)

// capture sends the environment's lines to w (nil: none) from now on.
func (l *lineWriter) capture(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tee = w
}

// drain waits until the environment's output has been quiet for
// outputQuiet since the answer, or outputDrain has passed, then stops the
// capture.
func (l *lineWriter) drain() {
	answered := time.Now()
	for end := answered.Add(outputDrain); time.Now().Before(end); time.Sleep(outputQuiet / 5) {
		l.mu.Lock()
		quiet := time.Since(maxTime(l.last, answered)) >= outputQuiet
		l.mu.Unlock()
		if quiet {
			break
		}
	}
	l.capture(nil)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
