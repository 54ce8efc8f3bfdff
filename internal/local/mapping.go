package local

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/internal/esm"
)

// startMappings starts, for every SQS event source, as many pollers as its
// maximum concurrency: each receives a batch, invokes the function and
// waits for it, as Lambda's pollers do.
func (s *Stack) startMappings(ctx context.Context) error {
	s.startStreams(ctx)
	for _, id := range s.Functions() {
		f := s.funcs[id]
		for _, m := range f.mappings {
			url, ok := s.queueURL[m.queueARN]
			if !ok {
				return fmt.Errorf("local: %s event %s: queue %s is not a queue of the template", id, m.event, m.queueARN)
			}
			cfg := esm.Config{
				Client: serialDelete{sqsClient: s.sqs, mu: &sync.Mutex{}}, QueueURL: url, QueueARN: m.queueARN,
				BatchSize: m.batchSize, MaxBatchingWindow: m.window,
				Logger: s.log.With("function", id, "event", m.event),
			}
			invoke := s.sqsInvoker(f, m)
			pollers := m.concurrency
			if strings.HasSuffix(m.queueARN, ".fifo") {
				// SQS holds back a message group while any of its messages is
				// in flight, which keeps a group in order under many pollers.
				// moto decides which groups are in flight once, when a
				// ReceiveMessage starts, so overlapping receives can both take
				// messages of one group and run its batches at once, out of
				// order (seen in the demo's ledger). One poller per FIFO queue
				// keeps SQS's guarantee; it is also what Lambda does for a
				// queue with a single message group.
				pollers = 1
			}
			// The runner remembers what it received and has not deleted. On a
			// FIFO queue that holds back a group's later messages while an
			// earlier one is in flight, which moto can break (after a
			// function was killed mid-batch), as SQS would; on a standard
			// queue it holds nothing back. Either way it tells what is left
			// in flight when the runner stops.
			cfg.InFlight = esm.NewInFlight()
			s.inflight = append(s.inflight, queueInFlight{function: id, queue: url, set: cfg.InFlight})
			s.log.Info("polling", "function", id, "queue", url, "batch_size", m.batchSize,
				"window", m.window, "report_batch_item_failures", m.reportItemFailure, "pollers", pollers)
			for range pollers {
				s.wg.Add(1)
				go func() {
					defer s.wg.Done()
					if err := esm.Run(ctx, cfg, invoke); err != nil {
						s.log.Error("event source mapping stopped", "function", id, "event", m.event, "error", err)
					}
				}()
			}
		}
	}
	return nil
}

// sqsInvoker invokes the function with a batch synchronously. Without
// ReportBatchItemFailures the function's answer is not read: the batch
// succeeds or fails as a whole, as Lambda treats it.
func (s *Stack) sqsInvoker(f *function, m mapping) esm.Invoke {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		payload, err := json.Marshal(ev)
		if err != nil {
			return events.SQSEventResponse{}, err
		}
		out, err := f.proc.Invoke(ctx, payload)
		if err != nil {
			return events.SQSEventResponse{}, err
		}
		var resp events.SQSEventResponse
		if !m.reportItemFailure {
			return resp, nil
		}
		// Lambda reads an empty or null answer as "all succeeded" and one
		// that is not a batch response as a failure of the whole batch.
		if len(out) == 0 || string(out) == "null" {
			return resp, nil
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			return resp, fmt.Errorf("%w: %v", esm.ErrInvalidResponse, err)
		}
		return resp, nil
	}
}
