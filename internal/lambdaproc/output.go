package lambdaproc

import (
	"bytes"
	"io"
	"sync"
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
}
