package xraysdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sdkxray "github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/aws/aws-xray-sdk-go/v2/xraylog"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/internal/tracertest"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/handler/xraysdk"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// The SDK's own log lines (the daemon address it uses) are not what the
// tests look at.
func init() { sdkxray.SetLogger(xraylog.NullLogger) }

const (
	testTraceID   = "1-5759e988-bd862e3fe1be46a994272793"
	testParentID  = "53995c3f42cd8ad8"
	sampledHeader = "Root=" + testTraceID + ";Parent=" + testParentID + ";Sampled=1"
)

// daemon is the shared stand-in daemon, with the SDK pointed at it.
type daemon struct{ *tracertest.Daemon }

// newDaemon starts a daemon and points the SDK at it for the test.
func newDaemon(t testing.TB) daemon {
	t.Helper()
	d := daemon{tracertest.NewDaemon(t)}
	t.Setenv("AWS_XRAY_DAEMON_ADDRESS", d.Addr()) // the SDK reads it before its own config
	if err := sdkxray.Configure(sdkxray.Config{DaemonAddr: d.Addr()}); err != nil {
		t.Fatal(err)
	}
	return d
}

// next returns the next document, checking the daemon protocol's header.
func (d daemon) next(t *testing.T) map[string]any {
	t.Helper()
	return d.Next(t).Doc
}

// none checks that nothing reached the daemon: it sends a sentinel
// subsegment in a fresh sampled trace and expects it first.
func (d daemon) none(t *testing.T) {
	t.Helper()
	_, span := xraysdk.Tracer{}.Start(withHeader(context.Background(), sampledHeader), "sentinel")
	span.End(nil)
	if doc := d.next(t); doc["name"] != "sentinel" {
		t.Errorf("the daemon received %v before the sentinel: want nothing sent", doc)
	}
}

// flatten indexes a document and the subsegments nested in it by name
// (plus the message id for records), with each one's parent's id: the
// document's parent_id at the top, the containing document's id below
// (the SDK gives nested subsegments the segment's id as parent_id, and
// says their parent by nesting them).
func flatten(doc map[string]any, parentID string, out map[string]map[string]any) {
	key := fmt.Sprint(doc["name"])
	if ann, ok := doc["annotations"].(map[string]any); ok && ann["message_id"] != nil {
		key += " " + fmt.Sprint(ann["message_id"])
	}
	doc["_parent"] = parentID
	if parentID == "" {
		doc["_parent"] = doc["parent_id"]
	}
	out[key] = doc
	subs, _ := doc["subsegments"].([]any)
	for _, s := range subs {
		if m, ok := s.(map[string]any); ok {
			flatten(m, fmt.Sprint(doc["id"]), out)
		}
	}
}

// fakeSQS is an SQS client instrumented by tr whose requests reach a
// local server; the function returns the trace header of each request.
func fakeSQS(t *testing.T, tr handler.Tracer) (*sqs.Client, func() []string) {
	t.Helper()
	c, srv := tracertest.FakeSQS(t, tr.InstrumentAWS, nil)
	return c, srv.TraceHeaders
}

// withHeader is ctx with the trace header h where aws-lambda-go puts it.
func withHeader(ctx context.Context, h string) context.Context {
	//lint:ignore SA1029 aws-lambda-go's own string key, which the SDK reads
	return context.WithValue(ctx, sdkxray.LambdaTraceHeaderKey, h)
}

// lambdaInvoke runs f as Lambda's Go runtime would for a request with the
// trace header h: through handler.NewLambdaHandler, with the header in the
// context under aws-lambda-go's key.
func lambdaInvoke(t *testing.T, f handler.Func[int, int], h string) {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	ctx = withHeader(ctx, h)
	if _, err := handler.NewLambdaHandler(f).Invoke(ctx, []byte("1")); err != nil {
		t.Fatal(err)
	}
}

// TestSubsegmentsInLambda runs an observed invocation with a sampled trace
// header and checks what reaches a stand-in daemon: latch's handler span
// under the Lambda segment, its records under it, the user's own
// xray.Capture under a record, and latch's store spans and the SDK's AWS
// call subsegment nested inside the user's; annotations for outcome and
// cold start; the failed record marked error with its cause.
func TestSubsegmentsInLambda(t *testing.T) {
	d := newDaemon(t)
	tr := xraysdk.Tracer{}
	client, traceHeaders := fakeSQS(t, tr)
	guard, err := idempotency.NewGuard(idempotency.Config{Store: handler.TraceStore(idempotency.NewMemoryStore(idempotency.MemoryConfig{}), tr), Namespace: "t"})
	if err != nil {
		t.Fatal(err)
	}
	tel := tracertest.Telemetry(t, tr)
	f := telemetry.Observe(tel, func(ctx context.Context, _ int) (int, error) {
		rctx := tel.RecordStarted(ctx, handler.Delivery{ID: "msg-1"})
		err := sdkxray.Capture(rctx, "charge", func(ctx context.Context) error {
			_, err := idempotency.Do(ctx, guard, idempotency.Key{ID: "k"}, func(ctx context.Context) (int, error) {
				_, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")})
				return 0, err
			})
			return err
		})
		if err != nil {
			return 0, err
		}
		tel.RecordFinished(rctx, handler.Report{Outcome: handler.Succeeded})
		rctx = tel.RecordStarted(ctx, handler.Delivery{ID: "msg-2"})
		tel.RecordFinished(rctx, handler.Report{Outcome: handler.DeadLettered, Err: retry.Permanent(errors.New("bad order")), Class: retry.ClassPermanent})
		return 0, nil
	})
	lambdaInvoke(t, f, sampledHeader)

	// The SDK sends a child of the Lambda segment whole, its subsegments
	// nested in it.
	top := d.next(t)
	docs := map[string]map[string]any{}
	flatten(top, "", docs)
	hdl, rec1, rec2 := docs[handler.SpanHandler], docs[handler.SpanRecord+" msg-1"], docs[handler.SpanRecord+" msg-2"]
	charge, claim, call := docs["charge"], docs[handler.SpanIdempotencyStore+".claim"], docs["SQS"]
	if hdl == nil || rec1 == nil || rec2 == nil || charge == nil || claim == nil || call == nil {
		t.Fatalf("documents received: %v", top)
	}
	if hdl["trace_id"] != testTraceID || hdl["type"] != "subsegment" {
		t.Errorf("handler: trace_id %v type %v, want a subsegment of %s", hdl["trace_id"], hdl["type"], testTraceID)
	}
	parents := []struct {
		name          string
		child, parent map[string]any
	}{
		{"segment → handler", hdl, map[string]any{"id": testParentID}},
		{"handler → record 1", rec1, hdl},
		{"handler → record 2", rec2, hdl},
		{"record 1 → user's capture", charge, rec1},
		{"user's capture → claim", claim, charge},
		{"user's capture → SQS call", call, charge},
	}
	for _, p := range parents {
		if p.child["_parent"] != p.parent["id"] {
			t.Errorf("%s: parent %v, want %v", p.name, p.child["_parent"], p.parent["id"])
		}
	}
	annotations := func(doc map[string]any) map[string]any { a, _ := doc["annotations"].(map[string]any); return a }
	tests := []struct {
		name   string
		doc    map[string]any
		want   map[string]any
		failed bool
	}{
		{name: "handler", doc: hdl, want: map[string]any{"cold_start": true, "service": "svc"}},
		{name: "record 1", doc: rec1, want: map[string]any{"message_id": "msg-1", "outcome": "succeeded", "cold_start": true, "service": "svc"}},
		{name: "record 2", doc: rec2, want: map[string]any{"message_id": "msg-2", "outcome": "dead_lettered", "cold_start": true, "service": "svc", "error_class": "permanent"}, failed: true},
		{name: "claim", doc: claim, want: map[string]any{"operation": "claim"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, annotations(tt.doc)); diff != "" {
			t.Errorf("%s annotations (-want +got):\n%s", tt.name, diff)
		}
		if failed := tt.doc["error"] == true; failed != tt.failed || tt.doc["fault"] == true {
			t.Errorf("%s: error %v fault %v, want error %v and no fault", tt.name, tt.doc["error"], tt.doc["fault"], tt.failed)
		}
	}
	if cause, _ := json.Marshal(rec2["cause"]); !strings.Contains(string(cause), "bad order") {
		t.Errorf("record 2: cause %s, want the error's message", cause)
	}
	if aws, _ := call["aws"].(map[string]any); call["namespace"] != "aws" || aws["operation"] != "GetQueueUrl" {
		t.Errorf("SQS call: namespace %v aws %v", call["namespace"], call["aws"])
	}
	if diff := cmp.Diff([]string{"Root=" + testTraceID + ";Parent=" + call["id"].(string) + ";Sampled=1"}, traceHeaders()); diff != "" {
		t.Errorf("trace header on the SQS request (-want +got):\n%s", diff)
	}
}

// TestUntracedIsSilent: outside Lambda (no header, no segment) and in an
// unsampled request, spans do nothing and nothing reaches the daemon.
func TestUntracedIsSilent(t *testing.T) {
	d := newDaemon(t)
	tests := []struct {
		name string
		ctx  context.Context
	}{
		{name: "no trace header", ctx: context.Background()},
		{name: "unsampled", ctx: withHeader(context.Background(), "Root="+testTraceID+";Parent="+testParentID+";Sampled=0")},
		{name: "invocation without header", ctx: handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "r"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, span := xraysdk.Tracer{}.Start(tt.ctx, handler.SpanHandler)
			_, child := xraysdk.Tracer{}.Start(ctx, handler.SpanRecord)
			child.Annotate("outcome", "succeeded")
			child.End(errors.New("x"))
			span.End(nil)
			d.none(t)
		})
	}
}

// TestHeaderFromInvocation: the local runner puts the trace header only in
// the Invocation; the adapter hands it to the SDK.
func TestHeaderFromInvocation(t *testing.T) {
	d := newDaemon(t)
	ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{TraceHeader: sampledHeader})
	_, span := xraysdk.Tracer{}.Start(ctx, "work")
	span.Annotate("attempt", int64(2)) // an integer type the SDK itself refuses
	span.Annotate("bad key!", "v")
	span.End(nil)
	doc := d.next(t)
	if doc["parent_id"] != testParentID || doc["trace_id"] != testTraceID {
		t.Errorf("parent %v trace %v, want %s %s", doc["parent_id"], doc["trace_id"], testParentID, testTraceID)
	}
	if diff := cmp.Diff(map[string]any{"attempt": 2.0, "bad_key_": "v"}, doc["annotations"]); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
}

// BenchmarkTracer measures a span's Start, two annotations and End, as
// package xray's benchmark of the same name does: outside Lambda, in an
// unsampled invocation, and under a traced handler span (the SDK sends the
// records with their parent, or streams them past 20).
func BenchmarkTracer(b *testing.B) {
	newDaemon(b)
	tr := xraysdk.Tracer{}
	hctx, hspan := tr.Start(withHeader(context.Background(), sampledHeader), handler.SpanHandler)
	defer hspan.End(nil)
	tracertest.BenchSpans(b, []tracertest.BenchCase{
		{Name: "outside-lambda", Tracer: tr, Ctx: handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "r"})},
		{Name: "unsampled", Tracer: tr, Ctx: withHeader(context.Background(), "Root="+testTraceID+";Parent="+testParentID+";Sampled=0")},
		{Name: "emitting", Tracer: tr, Ctx: hctx},
	})
}
