package handler_test

import (
	"context"
	"sync"
	"testing"

	"github.com/latchkit/latch/pkg/handler"
)

// reportLog is an Observer that keeps every record started and every
// report, in order; a record seen on several deliveries has several.
type reportLog struct {
	mu      sync.Mutex
	started []handler.Delivery
	reports []handler.Report
}

func (l *reportLog) RecordStarted(ctx context.Context, r handler.Delivery) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.started = append(l.started, r)
	return ctx
}

func (l *reportLog) RecordFinished(_ context.Context, r handler.Report) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reports = append(l.reports, r)
}

func (l *reportLog) outcomes() []handler.Outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []handler.Outcome
	for _, r := range l.reports {
		out = append(out, r.Outcome)
	}
	return out
}

func (l *reportLog) last(t *testing.T) handler.Report {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.reports) == 0 {
		t.Fatal("no report")
	}
	return l.reports[len(l.reports)-1]
}
