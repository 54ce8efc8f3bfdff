package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/internal/emftest"
	"github.com/latchkit/latch/pkg/handler/internal/logtest"
	"github.com/latchkit/latch/pkg/handler/internal/spantest"
	"github.com/latchkit/latch/pkg/handler/logging"
	"github.com/latchkit/latch/pkg/handler/metrics"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest"
)

// environment is one Lambda Managed Instances execution environment as a
// test sees it: what one process shares between the invocations it runs
// at once (one guard and its cache over one store, one telemetry with one
// logger, EMF emitter and tracer), and what they wrote.
type environment struct {
	guard  *idempotency.Guard
	store  *idempotency.MemoryStore
	tel    *telemetry.Telemetry
	spans  *spantest.Recorder
	logs   *syncBuffer
	emf    *syncBuffer
	logger *slog.Logger
}

func newEnvironment(t *testing.T) *environment {
	t.Helper()
	e := &environment{store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), spans: &spantest.Recorder{}, logs: &syncBuffer{}, emf: &syncBuffer{}}
	e.guard = idempotency.MustNewGuard(idempotency.Config{Store: e.store, Namespace: "mi", CacheSize: 128})
	e.logger = logging.NewLogger(logging.Config{Writer: e.logs, Level: slog.LevelInfo, Service: "mi"})
	m, err := metrics.New(metrics.Config{Namespace: "latch-test", Service: "mi", Writer: e.emf})
	if err != nil {
		t.Fatal(err)
	}
	if e.tel, err = telemetry.New(telemetry.Config{Logger: e.logger, Metrics: m, Tracer: e.spans}); err != nil {
		t.Fatal(err)
	}
	return e
}

// requestID and tenantID are invocation i's, as Lambda passes them.
func requestID(i int) string { return fmt.Sprintf("req-%03d", i) }
func tenantID(i int) string  { return fmt.Sprintf("tenant-%d", i%4) }

// invokeAtOnce runs n invocations of h at once, each with the context
// aws-lambda-go v1.55.1 builds for an invoke loop when
// AWS_LAMBDA_MAX_CONCURRENCY > 1 (deadline, lambdacontext with request id
// and tenant, the trace header as a context value and not in
// _X_AMZN_TRACE_ID), all released together. It fails the test on any
// invocation's error.
func invokeAtOnce[In, Out any](t *testing.T, n int, h handler.Func[In, Out], event func(i int) In) []Out {
	t.Helper()
	entry := handler.EntryOfEnvironment(h)
	outs := make([]Out, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID(i), TenantID: tenantID(i)})
			//lint:ignore SA1029 the string key is the one aws-lambda-go uses
			ctx = context.WithValue(ctx, "x-amzn-trace-id", fmt.Sprintf("Root=1-6a000000-%024x;Parent=%016x;Sampled=1", i, i))
			in := event(i)
			<-start
			outs[i], errs[i] = entry(ctx, in)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("invocation %s: %v", requestID(i), err)
		}
	}
	return outs
}

// checkLines checks the outcome lines line by line: each names the
// invocation that handled it (owner, from what the line is about) and its
// correlation id, exactly one invocation's lines say cold_start, and each
// outcome is counted.
func checkLines(t *testing.T, e *environment, want int, owner func(line map[string]any) (request, correlation string, ok bool)) map[string]int {
	t.Helper()
	outcomes := map[string]int{}
	cold := map[string]bool{}
	n := 0
	for _, line := range logtest.Lines(t, e.logs.snapshot()) {
		outcome, _ := line["outcome"].(string)
		if outcome == "" {
			continue
		}
		n++
		outcomes[outcome]++
		req, corr, ok := owner(line)
		if !ok {
			t.Errorf("outcome line about nothing this test sent: %v", line)
			continue
		}
		if line["request_id"] != req {
			t.Errorf("line of %s carries request_id %v: %v", req, line["request_id"], line)
		}
		var i int
		if _, err := fmt.Sscanf(req, "req-%03d", &i); err != nil || line["tenant_id"] != tenantID(i) {
			t.Errorf("line of %s carries tenant_id %v, want %s", req, line["tenant_id"], tenantID(i))
		}
		if corr != "" && line["correlation_id"] != corr {
			t.Errorf("line of %s carries correlation_id %v, want %s", req, line["correlation_id"], corr)
		}
		if c, _ := line["cold_start"].(bool); c {
			cold[req] = true
		}
	}
	if n != want {
		t.Errorf("%d outcome lines, want %d", n, want)
	}
	if len(cold) != 1 {
		t.Errorf("invocations with a cold start: %v, want exactly one per environment", cold)
	}
	return outcomes
}

// invocationOf reads the number of the invocation that was sent the
// record an outcome line is about, from its message id (format's %03d).
func invocationOf(line map[string]any, format string) (int, bool) {
	id, _ := line["message_id"].(string)
	var i int
	_, err := fmt.Sscanf(id, format, &i)
	return i, err == nil
}

// checkEMF checks one EMF blob per invocation, each carrying its own
// request id and, when outcome is set, its own count of it, and the
// ColdStart metric in exactly one.
func checkEMF(t *testing.T, e *environment, n int, outcome string, perInvocation float64) {
	t.Helper()
	seen := map[string]bool{}
	cold := 0.0
	for _, blob := range emftest.Blobs(t, e.emf.snapshot()) {
		emftest.Check(t, blob)
		var root map[string]any
		if err := json.Unmarshal(blob, &root); err != nil {
			t.Fatal(err)
		}
		req, _ := root[telemetry.PropertyRequestID].(string)
		if seen[req] {
			t.Errorf("two EMF blobs of %q", req)
		}
		seen[req] = true
		if outcome != "" && root[outcome] != perInvocation {
			t.Errorf("EMF blob of %s: %s = %v, want %v (its own records only)", req, outcome, root[outcome], perInvocation)
		}
		c, _ := root["ColdStart"].(float64)
		cold += c
	}
	for i := range n {
		if !seen[requestID(i)] {
			t.Errorf("no EMF blob of %s", requestID(i))
		}
	}
	if len(seen) != n || cold != 1 {
		t.Errorf("%d EMF blobs with ColdStart %v in all, want %d and 1", len(seen), cold, n)
	}
}

// concurrencies are the invocations one process runs at once in the suite.
var concurrencies = []int{8, 64}

// TestManagedInstancesSQS: N invocations of one SQS processor at once, three
// records each, one of them also delivered to the next invocation (SQS is
// at least once): every record's effect once, each outcome line with its
// own invocation's request id and its record's correlation id, one EMF blob
// per invocation.
func TestManagedInstancesSQS(t *testing.T) {
	t.Parallel()
	for _, n := range concurrencies {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			e := newEnvironment(t)
			client := latchtest.NewSQS()
			client.AddQueue("orders", 3)
			var done effects
			h := handler.Chain(handler.MustNewSQS(func(_ context.Context, m handler.Message[order]) error {
				done.add(m.Body.ID)
				return nil
			}, handler.SQSConfig{Client: client, Idempotency: e.guard, Observer: e.tel, Logger: e.logger,
				Key: handler.KeyJSONField("order_id")}),
				func(next handler.Func[events.SQSEvent, events.SQSEventResponse]) handler.Func[events.SQSEvent, events.SQSEventResponse] {
					return telemetry.Observe(e.tel, next)
				})
			msg := func(i, j int) latchtest.Message {
				id := fmt.Sprintf("m-%03d-%d", i, j)
				body := fmt.Sprintf(`{"order_id":"o-%03d-%d"}`, i, j)
				if j == 3 { // the next invocation's first order, delivered again
					body = fmt.Sprintf(`{"order_id":"o-%03d-0"}`, (i+1)%n)
				}
				return latchtest.Message{ID: id, Body: body, Attributes: map[string]string{handler.CorrelationIDAttribute: "corr-" + id}}
			}
			outs := invokeAtOnce(t, n, h, func(i int) events.SQSEvent {
				return latchtest.SQSEvent("orders", msg(i, 0), msg(i, 1), msg(i, 2), msg(i, 3))
			})
			for i, o := range outs {
				if len(o.BatchItemFailures) != 0 {
					// The in-progress twin is retried: its key is held.
					for _, f := range o.BatchItemFailures {
						if f.ItemIdentifier != fmt.Sprintf("m-%03d-3", i) && f.ItemIdentifier != fmt.Sprintf("m-%03d-0", i) {
							t.Errorf("invocation %d reported %s failed", i, f.ItemIdentifier)
						}
					}
				}
			}
			for i := range n {
				for j := range 3 {
					if got := done.get(fmt.Sprintf("o-%03d-%d", i, j)); got != 1 {
						t.Errorf("order o-%03d-%d ran %d times, want once", i, j, got)
					}
				}
			}
			outcomes := checkLines(t, e, 4*n, func(line map[string]any) (string, string, bool) {
				i, ok := invocationOf(line, "m-%03d-")
				return requestID(i), "corr-" + fmt.Sprint(line["message_id"]), ok
			})
			if outcomes["succeeded"] != 3*n || outcomes["duplicate"]+outcomes["retry_scheduled"] != n {
				t.Errorf("outcomes %v, want %d succeeded and %d duplicate or retried", outcomes, 3*n, n)
			}
			checkEMF(t, e, n, "", 0)
			if spans := e.spans.Named(handler.SpanRecord); len(spans) != 4*n {
				t.Errorf("%d record spans, want %d", len(spans), 4*n)
			}
		})
	}
}

// TestManagedInstancesSQSTx: the transactional processor, N at once on one
// store: each record's write committed once with its record.
func TestManagedInstancesSQSTx(t *testing.T) {
	t.Parallel()
	for _, n := range concurrencies {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			e := newEnvironment(t)
			client := latchtest.NewSQS()
			client.AddQueue("orders", 3)
			h := handler.MustNewSQSTx(func(_ context.Context, m handler.Message[order]) (idempotency.Tx[string], error) {
				return idempotency.Tx[string]{Value: m.Raw.MessageId, Writes: []types.TransactWriteItem{orderPut(m.Body.ID)}}, nil
			}, nil, handler.SQSConfig{Client: client, Idempotency: e.guard, Observer: e.tel, Logger: e.logger,
				Key: handler.KeyJSONField("order_id")})
			invokeAtOnce(t, n, telemetry.Observe(e.tel, h), func(i int) events.SQSEvent {
				return latchtest.SQSEvent("orders",
					latchtest.Message{ID: fmt.Sprintf("m-%03d-0", i), Body: fmt.Sprintf(`{"order_id":"o-%03d"}`, i)},
					latchtest.Message{ID: fmt.Sprintf("m-%03d-1", i), Body: fmt.Sprintf(`{"order_id":"o-%03d"}`, (i+1)%n)})
			})
			writes := map[string]int{}
			for _, id := range committed(e.store) {
				writes[id]++
			}
			for i := range n {
				if got := writes[fmt.Sprintf("o-%03d", i)]; got != 1 {
					t.Errorf("order o-%03d committed %d times, want once", i, got)
				}
			}
			outcomes := checkLines(t, e, 2*n, func(line map[string]any) (string, string, bool) {
				i, ok := invocationOf(line, "m-%03d-")
				return requestID(i), "", ok
			})
			if outcomes["succeeded"] != n {
				t.Errorf("outcomes %v, want %d succeeded", outcomes, n)
			}
			checkEMF(t, e, n, "", 0)
		})
	}
}

// TestManagedInstancesEventBridge: N events at once, each once, with its
// own invocation's lines and blob.
func TestManagedInstancesEventBridge(t *testing.T) {
	t.Parallel()
	for _, n := range concurrencies {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			e := newEnvironment(t)
			var done effects
			h := handler.MustNewEventBridge(func(_ context.Context, ev handler.Event[shipment]) error {
				done.add(ev.Detail.OrderID)
				return nil
			}, handler.EventBridgeConfig[shipment]{Idempotency: e.guard, Observer: e.tel, Logger: e.logger})
			invokeAtOnce(t, n, telemetry.Observe(e.tel, h), func(i int) events.EventBridgeEvent {
				return latchtest.EventBridgeEvent(latchtest.Event{ID: fmt.Sprintf("ev-%03d", i), Source: "shop", DetailType: "OrderShipped",
					Detail: shipment{OrderID: fmt.Sprintf("o-%03d", i), Items: 1}})
			})
			for i := range n {
				if got := done.get(fmt.Sprintf("o-%03d", i)); got != 1 {
					t.Errorf("event ev-%03d ran %d times", i, got)
				}
			}
			outcomes := checkLines(t, e, n, func(line map[string]any) (string, string, bool) {
				i, ok := invocationOf(line, "ev-%03d")
				return requestID(i), "", ok
			})
			if outcomes["succeeded"] != n {
				t.Errorf("outcomes %v", outcomes)
			}
			checkEMF(t, e, n, "succeeded", 1)
		})
	}
}

// TestManagedInstancesSchedule: N deliveries at once, of N/2 ticks each
// delivered twice: each tick runs once; its twin waits and answers as a
// duplicate.
func TestManagedInstancesSchedule(t *testing.T) {
	t.Parallel()
	for _, n := range concurrencies {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			e := newEnvironment(t)
			var done effects
			at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			h := handler.MustNewSchedule(func(_ context.Context, tk handler.Tick) error {
				done.add(tk.Time.Format(time.RFC3339))
				return nil
			}, handler.ScheduleConfig{Idempotency: e.guard, Observer: e.tel, Logger: e.logger})
			invokeAtOnce(t, n, telemetry.Observe(e.tel, h), func(i int) json.RawMessage {
				return latchtest.RuleTick("nightly", at.Add(time.Duration(i/2)*time.Hour))
			})
			for k := range n / 2 {
				if got := done.get(at.Add(time.Duration(k) * time.Hour).Format(time.RFC3339)); got != 1 {
					t.Errorf("tick %d ran %d times, want once", k, got)
				}
			}
			outcomes := map[string]int{}
			reqs := map[any]bool{}
			cold := 0
			for _, line := range logtest.Lines(t, e.logs.snapshot()) {
				if o, _ := line["outcome"].(string); o != "" {
					outcomes[o]++
					reqs[line["request_id"]] = true
					if c, _ := line["cold_start"].(bool); c {
						cold++
					}
				}
			}
			if outcomes["succeeded"] != n/2 || outcomes["duplicate"] != n/2 || len(reqs) != n || cold != 1 {
				t.Errorf("outcomes %v over %d request ids, %d cold; want %d succeeded, %d duplicate, %d ids, 1 cold", outcomes, len(reqs), cold, n/2, n/2, n)
			}
			checkEMF(t, e, n, "", 0)
		})
	}
}

// TestManagedInstancesPoller: N ticks of one poller at once: one holds the
// lease and reads the feed; the others find it held and do nothing; every
// item is handled once.
func TestManagedInstancesPoller(t *testing.T) {
	t.Parallel()
	for _, n := range concurrencies {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			e := newEnvironment(t)
			f := &feed{items: 30, size: 10}
			var done effects
			p, err := handler.NewPoller[string](f, handler.PollConfig[string]{
				Checkpoints: checkpoint.NewMemoryStore(checkpoint.MemoryConfig{Now: time.Now}), Name: "feed", Observer: e.tel, Logger: e.logger,
				Idempotency: e.guard, Key: itemKey,
				Handle: func(_ context.Context, s string) error { done.add(s); return nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			h := handler.MustNewPollSchedule(p, handler.ScheduleConfig{Observer: e.tel, Logger: e.logger})
			at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			invokeAtOnce(t, n, telemetry.Observe(e.tel, h), func(i int) json.RawMessage {
				return latchtest.RuleTick("feed", at.Add(time.Duration(i)*time.Minute))
			})
			for i := range 30 {
				if got := done.get("i" + strconv.Itoa(i)); got != 1 {
					t.Errorf("item i%d handled %d times, want once", i, got)
				}
			}
			read := 0
			for _, line := range logtest.Lines(t, e.logs.snapshot()) {
				if line["message"] == handler.PollMessage {
					if items, _ := line["items"].(float64); items > 0 {
						read++
					}
				}
			}
			if read != 1 {
				t.Errorf("%d ticks read items, want exactly the one that held the lease", read)
			}
			checkEMF(t, e, n, "", 0)
		})
	}
}

// TestFairQueueGroupIsNotFIFO: on a standard queue MessageGroupId names a
// tenant of a fair queue and orders nothing: a failed record of a group
// does not block the group's later records, which FIFO would.
func TestFairQueueGroupIsNotFIFO(t *testing.T) {
	t.Parallel()
	client := latchtest.NewSQS()
	client.AddQueue("orders", 3)
	var done effects
	h := handler.MustNewSQS(func(_ context.Context, m handler.Message[order]) error {
		if m.Body.ID == "first" {
			return errors.New("provider unavailable")
		}
		done.add(m.Body.ID)
		return nil
	}, handler.SQSConfig{Client: client, Concurrency: 1, Logger: slog.New(slog.DiscardHandler)})
	resp, err := h(context.Background(), latchtest.SQSEvent("orders",
		latchtest.Message{ID: "m1", Body: `{"order_id":"first"}`, GroupID: "tenant-a"},
		latchtest.Message{ID: "m2", Body: `{"order_id":"second"}`, GroupID: "tenant-a"},
	))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m1" || done.get("second") != 1 {
		t.Errorf("failures %+v, second ran %d times: want only m1 reported and second run (no FIFO blocking on a standard queue)", resp.BatchItemFailures, done.get("second"))
	}
}
