package xray_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/internal/tracertest"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/handler/xray"
	"github.com/latchkit/latch/pkg/idempotency"
	rtry "github.com/latchkit/latch/pkg/retry"
)

// fakeDaemon is the shared stand-in daemon with what these tests ask of
// it in package xray's terms.
type fakeDaemon struct{ *tracertest.Daemon }

func newFakeDaemon(t testing.TB) fakeDaemon { return fakeDaemon{tracertest.NewDaemon(t)} }

// use points the X-Ray tracer at d for the rest of the test.
func (d fakeDaemon) use(t *testing.T) {
	t.Helper()
	t.Setenv(xray.EnvDaemonAddress, d.Addr())
}

// docs returns the next n documents, keyed by name plus, for records,
// their message id.
func (d fakeDaemon) docs(t *testing.T, n int) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for range n {
		doc := d.Next(t).Doc
		key := fmt.Sprint(doc["name"])
		if ann, ok := doc["annotations"].(map[string]any); ok && ann["message_id"] != nil {
			key += " " + fmt.Sprint(ann["message_id"])
		}
		if _, dup := out[key]; dup {
			t.Fatalf("two documents for %s", key)
		}
		out[key] = doc
	}
	return out
}

// expectOnlySentinel sends a sentinel subsegment in a fresh sampled trace and
// checks that it is the first document the daemon has: nothing was sent
// before it. (Datagrams on loopback from one socket arrive in order.)
func (d fakeDaemon) expectOnlySentinel(t *testing.T) {
	t.Helper()
	d.use(t)
	_, span := xray.Tracer{}.Start(lambdaCtx(sampledHeader), "sentinel")
	span.End(nil)
	if doc := d.Next(t).Doc; doc["name"] != "sentinel" {
		t.Errorf("the daemon received %v before the sentinel: want nothing sent", doc)
	}
}

const (
	testTraceID   = "1-5759e988-bd862e3fe1be46a994272793"
	testParentID  = "53995c3f42cd8ad8"
	sampledHeader = "Root=" + testTraceID + ";Parent=" + testParentID + ";Sampled=1"
)

// lambdaCtx is the context of an invocation that Lambda passed header.
func lambdaCtx(header string) context.Context {
	return handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "r", ColdStart: true, TraceHeader: header})
}

// xrayFakeSQS is an SQS client, instrumented by the X-Ray tracer, whose
// requests reach a local server answering with answer (nil: success).
func xrayFakeSQS(t *testing.T, answer func(n int) (int, string)) (*sqs.Client, *tracertest.SQSServer) {
	t.Helper()
	return tracertest.FakeSQS(t, func(cfg *aws.Config) {
		xray.Tracer{}.InstrumentAWS(cfg)
		xray.Tracer{}.InstrumentAWS(cfg) // twice: still one subsegment per call
	}, answer)
}

func getQueueURL(ctx context.Context, c *sqs.Client) error {
	_, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")})
	return err
}

// TestXRayOutsideLambdaIsSilent: without a trace header in the context
// (a unit test, the local runner), the X-Ray tracer and its AWS middleware
// do nothing, even with a daemon address set: no document, no trace
// header on AWS calls, no allocation, no measurable delay.
func TestXRayOutsideLambdaIsSilent(t *testing.T) {
	daemon := newFakeDaemon(t)
	daemon.use(t)
	tr := xray.Tracer{}
	ctx := context.Background()
	errX := errors.New("x")

	var slowest time.Duration
	start := time.Now()
	for range 1000 {
		t0 := time.Now()
		sctx, span := tr.Start(ctx, handler.SpanRecord)
		span.Annotate(handler.AnnotationOutcome, "succeeded")
		span.End(errX)
		if sctx != ctx {
			t.Fatal("Start outside a trace changed the context")
		}
		slowest = max(slowest, time.Since(t0))
	}
	total := time.Since(start)
	if slowest > 50*time.Millisecond || total > 500*time.Millisecond {
		t.Errorf("1000 no-op spans took %v (slowest %v): tracing outside Lambda must not wait", total, slowest)
	}
	invCtx := handler.ContextWithInvocation(ctx, handler.Invocation{RequestID: "r"})
	if allocs := testing.AllocsPerRun(100, func() {
		_, span := tr.Start(invCtx, handler.SpanRecord)
		span.Annotate(handler.AnnotationOutcome, "succeeded")
		span.End(errX)
	}); allocs != 0 {
		t.Errorf("an untraced span allocates %v times, want 0", allocs)
	}

	// An instrumented AWS call outside a trace works and carries no header.
	client, srv := xrayFakeSQS(t, nil)
	if err := getQueueURL(ctx, client); err != nil {
		t.Fatal(err)
	}
	if h := srv.TraceHeaders(); len(h) != 1 || h[0] != "" {
		t.Errorf("trace headers sent outside a trace = %q, want one empty", h)
	}

	// A whole observed invocation outside Lambda.
	tel := tracertest.Telemetry(t, tr)
	f := telemetry.Observe(tel, func(ctx context.Context, _ int) (int, error) {
		rctx := tel.RecordStarted(ctx, handler.Delivery{ID: "m"})
		tel.RecordFinished(rctx, handler.Report{Outcome: handler.Failed, Err: errX})
		return 0, nil
	})
	if _, err := f(ctx, 0); err != nil {
		t.Fatal(err)
	}

	daemon.expectOnlySentinel(t)
}

// TestXRayUntracedInvocations: a trace header that is unsampled or cannot
// be attached to, or no usable daemon address, make every span a no-op.
func TestXRayUntracedInvocations(t *testing.T) {
	daemon := newFakeDaemon(t)
	good := daemon.Addr()
	tests := []struct {
		name, header, daemonAddr string
	}{
		{name: "unsampled", header: "Root=" + testTraceID + ";Parent=" + testParentID + ";Sampled=0", daemonAddr: good},
		{name: "sampling undecided", header: "Root=" + testTraceID + ";Parent=" + testParentID, daemonAddr: good},
		{name: "no parent", header: "Root=" + testTraceID + ";Sampled=1", daemonAddr: good},
		{name: "malformed root", header: "Root=1-zz;Parent=" + testParentID + ";Sampled=1", daemonAddr: good},
		{name: "no daemon address", header: sampledHeader, daemonAddr: ""},
		{name: "unusable daemon address", header: sampledHeader, daemonAddr: "no port here"},
		{name: "tcp only daemon address", header: sampledHeader, daemonAddr: "tcp:" + good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(xray.EnvDaemonAddress, tt.daemonAddr)
			ctx := lambdaCtx(tt.header)
			sctx, span := xray.Tracer{}.Start(ctx, handler.SpanHandler)
			if sctx != ctx {
				t.Error("Start changed the context of an untraced invocation")
			}
			span.Annotate(handler.AnnotationColdStart, true)
			client, srv := xrayFakeSQS(t, nil)
			if err := getQueueURL(sctx, client); err != nil {
				t.Fatal(err)
			}
			span.End(nil)
			if h := srv.TraceHeaders(); len(h) != 1 || h[0] != "" {
				t.Errorf("trace headers sent = %q, want one empty", h)
			}
			daemon.expectOnlySentinel(t)
		})
	}
}

// TestXRayInLambda runs an observed invocation the way Lambda does (a
// sampled trace header, a daemon address) and checks the documents that
// reach a stand-in daemon: one per subsegment, wired handler → record →
// store call / AWS call under the invocation's segment, with annotations,
// error flags and the AWS call's details; and the trace header the AWS
// request carried.
func TestXRayInLambda(t *testing.T) {
	daemon := newFakeDaemon(t)
	daemon.use(t)
	tr := xray.Tracer{}
	client, srv := xrayFakeSQS(t, nil)
	guard, err := idempotency.NewGuard(idempotency.Config{Store: handler.TraceStore(idempotency.NewMemoryStore(idempotency.MemoryConfig{}), tr), Namespace: "t"})
	if err != nil {
		t.Fatal(err)
	}
	tel := tracertest.Telemetry(t, tr)
	f := telemetry.Observe(tel, func(ctx context.Context, _ int) (int, error) {
		rctx := tel.RecordStarted(ctx, handler.Delivery{ID: "msg-1"})
		if _, err := idempotency.Do(rctx, guard, idempotency.Key{ID: "k"}, func(ctx context.Context) (int, error) {
			return 0, getQueueURL(ctx, client)
		}); err != nil {
			return 0, err
		}
		tel.RecordFinished(rctx, handler.Report{Outcome: handler.Succeeded})
		rctx = tel.RecordStarted(ctx, handler.Delivery{ID: "msg-2"})
		tel.RecordFinished(rctx, handler.Report{Outcome: handler.DeadLettered, Err: rtry.Permanent(errors.New("bad order")), Class: rtry.ClassPermanent})
		return 0, nil
	})
	if _, err := f(lambdaCtx(sampledHeader), 0); err != nil {
		t.Fatal(err)
	}

	docs := daemon.docs(t, 6)
	hdl := docs[handler.SpanHandler]
	rec1, rec2 := docs[handler.SpanRecord+" msg-1"], docs[handler.SpanRecord+" msg-2"]
	claim, complete := docs[handler.SpanIdempotencyStore+".claim"], docs[handler.SpanIdempotencyStore+".complete"]
	call := docs["SQS"]
	if hdl == nil || rec1 == nil || rec2 == nil || claim == nil || complete == nil || call == nil {
		t.Fatalf("documents received: %v", docs)
	}

	ids := map[string]bool{}
	for name, doc := range docs {
		id, _ := doc["id"].(string)
		if len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" || ids[id] {
			t.Errorf("%s: id %q is not 16 hex digits of its own", name, id)
		}
		ids[id] = true
		if doc["trace_id"] != testTraceID || doc["type"] != "subsegment" {
			t.Errorf("%s: trace_id %v type %v, want %s subsegment", name, doc["trace_id"], doc["type"], testTraceID)
		}
		st, _ := doc["start_time"].(float64)
		et, _ := doc["end_time"].(float64)
		if now := float64(time.Now().Unix()); st < now-60 || st > et || et > now+1 {
			t.Errorf("%s: start_time %f end_time %f, want epoch seconds, start <= end", name, st, et)
		}
	}
	parents := map[string]struct{ child, parent map[string]any }{
		"handler → record 1":      {rec1, hdl},
		"handler → record 2":      {rec2, hdl},
		"record 1 → claim":        {claim, rec1},
		"record 1 → complete":     {complete, rec1},
		"record 1 → SQS call":     {call, rec1},
		"segment → handler (top)": {hdl, map[string]any{"id": testParentID}},
	}
	for name, p := range parents {
		if p.child["parent_id"] != p.parent["id"] {
			t.Errorf("%s: parent_id %v, want %v", name, p.child["parent_id"], p.parent["id"])
		}
	}

	annotations := func(doc map[string]any) map[string]any { a, _ := doc["annotations"].(map[string]any); return a }
	wantAnn := []struct {
		name      string
		doc       map[string]any
		want      map[string]any
		failed    bool
		causeText string
	}{
		{name: "handler", doc: hdl, want: map[string]any{"cold_start": true, "service": "svc"}},
		{name: "record 1", doc: rec1, want: map[string]any{"message_id": "msg-1", "outcome": "succeeded", "cold_start": true, "service": "svc"}},
		{name: "record 2", doc: rec2, want: map[string]any{"message_id": "msg-2", "outcome": "dead_lettered", "cold_start": true, "service": "svc", "error_class": "permanent"}, failed: true, causeText: "bad order"},
		{name: "claim", doc: claim, want: map[string]any{"operation": "claim"}},
		{name: "SQS call", doc: call},
	}
	for _, w := range wantAnn {
		if diff := cmp.Diff(w.want, annotations(w.doc)); diff != "" {
			t.Errorf("%s annotations (-want +got):\n%s", w.name, diff)
		}
		if failed := w.doc["error"] == true; failed != w.failed || w.doc["fault"] != nil {
			t.Errorf("%s: error %v fault %v, want error %v", w.name, w.doc["error"], w.doc["fault"], w.failed)
		}
		if w.causeText != "" {
			if msg := causeMessage(w.doc); !strings.Contains(msg, w.causeText) {
				t.Errorf("%s: cause message %q, want it to hold %q", w.name, msg, w.causeText)
			}
		} else if w.doc["cause"] != nil {
			t.Errorf("%s: cause %v on a span that did not fail", w.name, w.doc["cause"])
		}
	}

	wantCall := map[string]any{
		"namespace": "aws",
		"aws":       map[string]any{"operation": "GetQueueUrl", "region": "eu-west-1", "request_id": "fake-req-1"},
		"http":      map[string]any{"response": map[string]any{"status": 200.0}},
	}
	gotCall := map[string]any{"namespace": call["namespace"], "aws": call["aws"], "http": call["http"]}
	if diff := cmp.Diff(wantCall, gotCall); diff != "" {
		t.Errorf("SQS call subsegment (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Root=" + testTraceID + ";Parent=" + call["id"].(string) + ";Sampled=1"}, srv.TraceHeaders()); diff != "" {
		t.Errorf("trace header on the SQS request (-want +got):\n%s", diff)
	}
}

func causeMessage(doc map[string]any) string {
	cause, _ := doc["cause"].(map[string]any)
	exs, _ := cause["exceptions"].([]any)
	if len(exs) != 1 {
		return ""
	}
	ex, _ := exs[0].(map[string]any)
	msg, _ := ex["message"].(string)
	return msg
}

// TestXRayAWSCallOutcomes: an AWS call's subsegment takes its flags from
// the HTTP status as X-Ray defines them, and records the retries and the
// last attempt's request id; every attempt carries the trace header.
func TestXRayAWSCallOutcomes(t *testing.T) {
	daemon := newFakeDaemon(t)
	daemon.use(t)
	const notFound = `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"no such queue"}`
	const throttled = `{"__type":"com.amazonaws.sqs#RequestThrottled","message":"slow down"}`
	const internal = `{"__type":"com.amazonaws.sqs#InternalError","message":"oops"}`
	ok := `{"QueueUrl":"http://fake/123/q"}`
	tests := []struct {
		name    string
		answers []int // status per attempt, the last repeated
		want    map[string]any
	}{
		{name: "client error", answers: []int{400},
			want: map[string]any{"error": true, "status": 400.0, "request_id": "fake-req-1", "cause": true}},
		{name: "throttled then succeeded", answers: []int{429, 200},
			want: map[string]any{"status": 200.0, "request_id": "fake-req-2", "retries": 1.0}},
		{name: "server fault on every attempt", answers: []int{500},
			want: map[string]any{"fault": true, "status": 500.0, "request_id": "fake-req-3", "retries": 2.0, "cause": true}},
		{name: "throttled on every attempt", answers: []int{429},
			want: map[string]any{"error": true, "throttle": true, "status": 429.0, "request_id": "fake-req-3", "retries": 2.0, "cause": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, srv := xrayFakeSQS(t, func(n int) (int, string) {
				status := tt.answers[min(n, len(tt.answers))-1]
				switch status {
				case 400:
					return status, notFound
				case 429:
					return status, throttled
				case 500:
					return status, internal
				}
				return status, ok
			})
			ctx, span := xray.Tracer{}.Start(lambdaCtx(sampledHeader), handler.SpanRecord)
			callErr := getQueueURL(ctx, client)
			span.End(nil)
			if (callErr != nil) != (tt.want["cause"] == true) {
				t.Fatalf("call error = %v", callErr)
			}
			call, rec := daemon.Next(t).Doc, daemon.Next(t).Doc
			got := map[string]any{}
			for _, k := range []string{"error", "throttle", "fault"} {
				if v, ok := call[k]; ok {
					got[k] = v
				}
			}
			if h, ok := call["http"].(map[string]any); ok {
				got["status"] = h["response"].(map[string]any)["status"]
			}
			a, _ := call["aws"].(map[string]any)
			for _, k := range []string{"request_id", "retries"} {
				if v, ok := a[k]; ok {
					got[k] = v
				}
			}
			if call["cause"] != nil {
				got["cause"] = causeMessage(call) != ""
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SQS call subsegment (-want +got):\n%s\n%v", diff, call)
			}
			if call["parent_id"] != rec["id"] {
				t.Errorf("call parent_id %v, want the record's id %v", call["parent_id"], rec["id"])
			}
			want := "Root=" + testTraceID + ";Parent=" + fmt.Sprint(call["id"]) + ";Sampled=1"
			for i, h := range srv.TraceHeaders() {
				if h != want {
					t.Errorf("attempt %d trace header %q, want %q", i+1, h, want)
				}
			}
		})
	}
}

// TestXRaySpanLimits: annotation keys are made valid, values of other
// types dropped, a span ends once, and a huge error still makes one
// datagram the daemon takes, under 64 kB.
func TestXRaySpanLimits(t *testing.T) {
	daemon := newFakeDaemon(t)
	daemon.use(t)
	tr := xray.Tracer{}

	_, span := tr.Start(lambdaCtx(sampledHeader), "limits")
	span.Annotate("order-id", "o-1")
	span.Annotate("count", 3)
	span.Annotate("ratio", 0.5)
	span.Annotate("nan", math.NaN())
	span.Annotate("struct", struct{}{})
	span.Annotate("", "empty key")
	span.End(nil)
	span.Annotate("late", true)
	span.End(errors.New("second end"))
	doc := daemon.Next(t).Doc
	if diff := cmp.Diff(map[string]any{"order_id": "o-1", "count": 3.0, "ratio": 0.5}, doc["annotations"]); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	if doc["error"] != nil || doc["cause"] != nil {
		t.Errorf("the second End changed the span: %v", doc)
	}

	_, span = tr.Start(lambdaCtx(sampledHeader), "huge")
	for i := range 60 {
		span.Annotate(fmt.Sprintf("k%d_%s", i, strings.Repeat("k", 600)), strings.Repeat("é", 800))
	}
	span.End(errors.New(strings.Repeat("boom ", 100_000)))
	dg := daemon.Next(t)
	if dg.Size > 64000 {
		t.Errorf("datagram of %d bytes, want at most 64000", dg.Size)
	}
	if dg.Doc["error"] != true || !strings.HasPrefix(causeMessage(dg.Doc), "boom boom") {
		t.Errorf("huge error: error %v cause %.40q", dg.Doc["error"], causeMessage(dg.Doc))
	}
	for k, v := range dg.Doc["annotations"].(map[string]any) {
		if s, ok := v.(string); ok && len(s) > 1000 || len(k) > 500 {
			t.Errorf("annotation %.20s… = %.20v… over X-Ray's limits", k, v)
		}
	}
}

// TestXRayParallelRecords: records traced in parallel each get their own
// subsegment under the handler's, and their children under them.
func TestXRayParallelRecords(t *testing.T) {
	daemon := newFakeDaemon(t)
	daemon.use(t)
	tr := xray.Tracer{}
	hctx, hspan := tr.Start(lambdaCtx(sampledHeader), handler.SpanHandler)
	const n = 32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rctx, rec := tr.Start(hctx, handler.SpanRecord)
			rec.Annotate(handler.AnnotationMessageID, fmt.Sprint(i))
			_, child := tr.Start(rctx, "child")
			child.Annotate(handler.AnnotationMessageID, fmt.Sprint(i))
			child.End(nil)
			rec.End(nil)
		})
	}
	wg.Wait()
	hspan.End(nil)

	docs := daemon.docs(t, 2*n+1)
	hid := docs[handler.SpanHandler]["id"]
	for i := range n {
		rec, child := docs[fmt.Sprintf("%s %d", handler.SpanRecord, i)], docs[fmt.Sprintf("child %d", i)]
		if rec == nil || child == nil {
			t.Fatalf("record %d: documents missing", i)
		}
		if rec["parent_id"] != hid || child["parent_id"] != rec["id"] {
			t.Errorf("record %d: parent %v (handler %v), child's parent %v (record %v)", i, rec["parent_id"], hid, child["parent_id"], rec["id"])
		}
	}
}

func TestNopTracer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sctx, span := handler.NopTracer{}.Start(ctx, "x")
	span.Annotate("k", 1)
	span.End(errors.New("x"))
	if sctx != ctx {
		t.Error("NopTracer changed the context")
	}
	cfg := aws.Config{}
	handler.NopTracer{}.InstrumentAWS(&cfg)
	if len(cfg.APIOptions) != 0 {
		t.Error("NopTracer instrumented the config")
	}
}

// BenchmarkTracer measures a span's Start, two annotations and End:
// outside Lambda, in an unsampled invocation, and sending to a daemon.
func BenchmarkTracer(b *testing.B) {
	daemon := newFakeDaemon(b)
	b.Setenv(xray.EnvDaemonAddress, daemon.Addr())
	tr := xray.Tracer{}
	hctx, hspan := tr.Start(lambdaCtx(sampledHeader), handler.SpanHandler)
	defer hspan.End(nil)
	tracertest.BenchSpans(b, []tracertest.BenchCase{
		{Name: "outside-lambda", Tracer: tr, Ctx: handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "r"})},
		{Name: "unsampled", Tracer: tr, Ctx: lambdaCtx("Root=" + testTraceID + ";Parent=" + testParentID + ";Sampled=0")},
		{Name: "emitting", Tracer: tr, Ctx: hctx},
	})
}
