package latchtest

import (
	"context"
	"sync"

	"github.com/latchkit/latch/pkg/handler"
)

// Observer is a handler.Observer that keeps every Report, for asserting on
// what happened to each record. The zero value is ready to use.
type Observer struct {
	mu      sync.Mutex
	reports []handler.Report
}

var _ handler.Observer = (*Observer)(nil)

// RecordStarted returns ctx unchanged.
func (o *Observer) RecordStarted(ctx context.Context, _ handler.Delivery) context.Context {
	return ctx
}

// RecordFinished keeps the report.
func (o *Observer) RecordFinished(_ context.Context, r handler.Report) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reports = append(o.reports, r)
}

// Reports returns every report so far, in the order records finished.
func (o *Observer) Reports() []handler.Report {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]handler.Report(nil), o.reports...)
}

// Outcomes returns the last outcome of each record, by message or event
// id.
func (o *Observer) Outcomes() map[string]handler.Outcome {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]handler.Outcome, len(o.reports))
	for _, r := range o.reports {
		out[r.ID] = r.Outcome
	}
	return out
}
