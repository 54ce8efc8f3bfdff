package telemetry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/logging"
	"github.com/latchkit/latch/pkg/handler/metrics"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/handler/xray"
	"github.com/latchkit/latch/pkg/retry"
)

// benchTelemetry is the full stack as a function runs it, writing to
// io.Discard: JSON logger at INFO, EMF metrics, and the given tracer (the
// X-Ray tracer outside Lambda is a no-op).
// shipment is the record type of the benchmarks' batches.
type shipment struct {
	OrderID string `json:"order_id"`
}

func benchTelemetry(b *testing.B, tr handler.Tracer) *telemetry.Telemetry {
	b.Helper()
	m, err := metrics.New(metrics.Config{Namespace: "bench", Service: "svc", Writer: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	tel, err := telemetry.New(telemetry.Config{
		Logger:  logging.NewLogger(logging.Config{Writer: io.Discard, Level: slog.LevelInfo, Service: "svc"}),
		Metrics: m,
		Tracer:  tr,
	})
	if err != nil {
		b.Fatal(err)
	}
	return tel
}

// BenchmarkObserverPerRecord measures what observing one record costs:
// RecordStarted and RecordFinished inside an observed invocation (the
// outcome line, the count in the invocation's metric set, the span).
func BenchmarkObserverPerRecord(b *testing.B) {
	observers := []struct {
		name string
		obs  func(b *testing.B) (handler.Observer, context.Context)
	}{
		{name: "none", obs: func(*testing.B) (handler.Observer, context.Context) {
			return handler.NopObserver{}, context.Background()
		}},
		{name: "telemetry-xray-outside-lambda", obs: func(b *testing.B) (handler.Observer, context.Context) {
			tel := benchTelemetry(b, xray.Tracer{})
			m, _ := metrics.New(metrics.Config{Namespace: "bench", Service: "svc", Writer: io.Discard})
			return tel, metrics.NewContext(invocationCtx(), m.NewSet())
		}},
	}
	reports := []struct {
		name string
		rep  handler.Report
	}{
		{name: "succeeded", rep: handler.Report{Outcome: handler.Succeeded, KeyHash: "ns#0123456789abcdef"}},
		{name: "retry", rep: handler.Report{Outcome: handler.RetryScheduled, Err: errors.New("throttled"), Class: retry.ClassRetryable}},
	}
	rec := handler.Delivery{Source: "aws:sqs", ID: "6f1c1c5e-6c1a-4f7e-9d7e-2d1c1a0b9e8f", Attempt: 1, CorrelationID: "req-42"}
	for _, o := range observers {
		for _, r := range reports {
			b.Run(o.name+"/"+r.name, func(b *testing.B) {
				obs, ctx := o.obs(b)
				rep := r.rep
				rep.Delivery = rec
				b.ReportAllocs()
				for b.Loop() {
					rctx := obs.RecordStarted(ctx, rec)
					obs.RecordFinished(rctx, rep)
				}
			})
		}
	}
}

func invocationCtx() context.Context {
	return handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", FunctionName: "f"})
}

// benchDLQ is set so that the processor reads no RedrivePolicy: a batch that
// succeeds then makes no SQS calls.
const benchDLQ = "https://sqs.us-east-1.amazonaws.com/123456789012/dlq"

// noCallsSQS fails every call: a batch that succeeds makes none.
type noCallsSQS struct{ handler.SQSClient }

var errNoCalls = errors.New("unexpected SQS call")

func (noCallsSQS) SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return nil, errNoCalls
}

// BenchmarkSQSBatchObservability runs a batch of ten successful records
// through the SQS processor, with no observability and with the full stack
// (Observe around the invocation: one EMF blob per batch; Telemetry per
// record: one log line, one count, one span), and reports the cost per
// record.
func BenchmarkSQSBatchObservability(b *testing.B) {
	ev := events.SQSEvent{}
	for i := range 10 {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: fmt.Sprintf("msg-%d", i), ReceiptHandle: fmt.Sprintf("rh-%d", i),
			Body:           `{"order_id":"o-1","items":2}`,
			Attributes:     map[string]string{"ApproximateReceiveCount": "1"},
			EventSource:    "aws:sqs",
			EventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:orders",
			AWSRegion:      "eu-west-1",
		})
	}
	work := func(context.Context, handler.Message[shipment]) error { return nil }
	stacks := []struct {
		name string
		f    func(b *testing.B) handler.Func[events.SQSEvent, events.SQSEventResponse]
	}{
		{name: "none", f: func(*testing.B) handler.Func[events.SQSEvent, events.SQSEventResponse] {
			return handler.MustNewSQS(work, handler.SQSConfig{Client: noCallsSQS{}, DLQURL: benchDLQ})
		}},
		{name: "full", f: func(b *testing.B) handler.Func[events.SQSEvent, events.SQSEventResponse] {
			tel := benchTelemetry(b, xray.Tracer{})
			return telemetry.Observe(tel, handler.MustNewSQS(work, handler.SQSConfig{Client: noCallsSQS{}, DLQURL: benchDLQ, Observer: tel}))
		}},
	}
	for _, s := range stacks {
		b.Run(s.name, func(b *testing.B) {
			f := s.f(b)
			ctx := invocationCtx()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := f(ctx, ev)
				if err != nil || len(resp.BatchItemFailures) != 0 {
					b.Fatalf("batch failed: %v %v", err, resp)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ev.Records)), "ns/record")
		})
	}
}
