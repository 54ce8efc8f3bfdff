package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/retry"
)

// xrayLog records every line the X-Ray SDK logs, at every level, for the
// whole test binary: the SDK's logger may only be set before use.
var xrayLog = &lockedLog{}

type lockedLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lockedLog) Log(level xraylog.LogLevel, msg fmt.Stringer) {
	if level < xraylog.LogLevelWarn {
		return // the SDK's own debug and info chatter is not an error line
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level.String()+": "+msg.String())
}

func (l *lockedLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func init() { xray.SetLogger(xrayLog) }

// fakeSQS answers GetQueueUrl like SQS's JSON protocol does.
func xrayFakeSQS(t *testing.T) *sqs.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("x-amzn-RequestId", "fake-req")
		_, _ = w.Write([]byte(`{"QueueUrl":"http://fake/123/q"}`))
	}))
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "eu-west-1", Credentials: aws.AnonymousCredentials{}, BaseEndpoint: aws.String(srv.URL)}
	handler.XRayTracer{}.InstrumentAWS(&cfg)
	return sqs.NewFromConfig(cfg)
}

// TestXRayOutsideLambdaIsSilent: without a segment or a Lambda trace header
// in the context, the X-Ray tracer and the AWS instrumentation do nothing:
// no error line from the SDK, no measurable delay.
func TestXRayOutsideLambdaIsSilent(t *testing.T) {
	before := len(xrayLog.snapshot())
	tr := handler.XRayTracer{}
	ctx := context.Background()

	var slowest time.Duration
	start := time.Now()
	for range 1000 {
		t0 := time.Now()
		sctx, span := tr.Start(ctx, handler.SpanRecord)
		span.Annotate(handler.AnnotationOutcome, "succeeded")
		span.End(errors.New("x"))
		if sctx != ctx {
			t.Fatal("Start outside a trace changed the context")
		}
		slowest = max(slowest, time.Since(t0))
	}
	total := time.Since(start)
	if slowest > 50*time.Millisecond || total > 500*time.Millisecond {
		t.Errorf("1000 no-op spans took %v (slowest %v): tracing outside Lambda must not wait", total, slowest)
	}

	// An instrumented AWS call outside a trace works and logs nothing.
	out, err := xrayFakeSQS(t).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.QueueUrl) != "http://fake/123/q" {
		t.Errorf("QueueUrl = %q", aws.ToString(out.QueueUrl))
	}

	// A whole observed invocation outside Lambda: still silent.
	tel := newTelemetryWith(t, slog.New(slog.DiscardHandler), &bytes.Buffer{}, tr, false)
	f := handler.Chain(func(ctx context.Context, _ int) (int, error) {
		rctx := tel.RecordStarted(ctx, handler.Record{ID: "m"})
		tel.RecordFinished(rctx, handler.Report{Outcome: handler.Failed, Err: errors.New("x")})
		return 0, nil
	}, handler.Observe[int, int](tel))
	if _, err := f(ctx, 0); err != nil {
		t.Fatal(err)
	}

	if lines := xrayLog.snapshot()[before:]; len(lines) > 0 {
		t.Errorf("X-Ray SDK logged outside Lambda:\n%s", strings.Join(lines, "\n"))
	}
}

// fakeDaemon listens like the X-Ray daemon and returns the documents it
// receives.
type fakeDaemon struct {
	conn *net.UDPConn
	docs chan map[string]any
}

func newFakeDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	d := &fakeDaemon{conn: conn, docs: make(chan map[string]any, 64)}
	go func() {
		buf := make([]byte, 64*1024)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			_, body, ok := bytes.Cut(buf[:n], []byte("\n")) // header line, then the document
			var doc map[string]any
			if ok && json.Unmarshal(body, &doc) == nil {
				d.docs <- doc
			}
		}
	}()
	return d
}

func (d *fakeDaemon) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case doc := <-d.docs:
		return doc
	case <-time.After(5 * time.Second):
		t.Fatal("no segment reached the daemon within 5s")
		return nil
	}
}

// TestXRayInLambda runs an observed invocation the way Lambda does (a
// trace header in the context) with a stand-in daemon, and checks what
// reaches it: the handler subsegment with the cold start and service
// annotations, a record subsegment per record with its outcome, and the
// instrumented AWS call.
func TestXRayInLambda(t *testing.T) {
	daemon := newFakeDaemon(t)
	addr := daemon.conn.LocalAddr().(*net.UDPAddr)
	emitter, err := xray.NewDefaultEmitter(addr)
	if err != nil {
		t.Fatal(err)
	}
	before := len(xrayLog.snapshot())
	const traceID = "1-5759e988-bd862e3fe1be46a994272793"
	//lint:ignore SA1029 the string key is the one aws-lambda-go and the X-Ray SDK use
	ctx := context.WithValue(context.Background(), xray.LambdaTraceHeaderKey, "Root="+traceID+";Parent=53995c3f42cd8ad8;Sampled=1")
	ctx, err = xray.ContextWithConfig(ctx, xray.Config{DaemonAddr: addr.String(), Emitter: emitter})
	if err != nil {
		t.Fatal(err)
	}
	ctx = handler.ContextWithInvocation(ctx, handler.Invocation{RequestID: "r", ColdStart: true})

	client := xrayFakeSQS(t)
	tel := newTelemetryWith(t, slog.New(slog.DiscardHandler), &bytes.Buffer{}, handler.XRayTracer{}, false)
	f := handler.Chain(func(ctx context.Context, _ int) (int, error) {
		rctx := tel.RecordStarted(ctx, handler.Record{ID: "msg-1"})
		if _, err := client.GetQueueUrl(rctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")}); err != nil {
			return 0, err
		}
		tel.RecordFinished(rctx, handler.Report{Outcome: handler.Succeeded})
		rctx = tel.RecordStarted(ctx, handler.Record{ID: "msg-2"})
		tel.RecordFinished(rctx, handler.Report{Outcome: handler.DeadLettered, Err: retry.Permanent(errors.New("bad")), Class: retry.ClassPermanent})
		return 0, nil
	}, handler.Observe[int, int](tel))
	if _, err := f(ctx, 0); err != nil {
		t.Fatal(err)
	}

	doc := daemon.next(t)
	if doc["name"] != handler.SpanHandler || doc["type"] != "subsegment" || doc["trace_id"] != traceID {
		t.Fatalf("first document = %v, want the handler subsegment of trace %s", doc, traceID)
	}
	ann, _ := doc["annotations"].(map[string]any)
	if ann["cold_start"] != true || ann["service"] != "svc" {
		t.Errorf("handler annotations = %v, want cold_start and service", ann)
	}
	subs, _ := doc["subsegments"].([]any)
	if len(subs) != 2 {
		t.Fatalf("handler has %d subsegments, want 2 records: %v", len(subs), doc)
	}
	outcomes := map[string]string{}
	var sawSQS bool
	for _, s := range subs {
		rec := s.(map[string]any)
		a, _ := rec["annotations"].(map[string]any)
		outcomes[fmt.Sprint(a["message_id"])] = fmt.Sprint(a["outcome"])
		if rec["name"] != handler.SpanRecord {
			t.Errorf("record subsegment named %v", rec["name"])
		}
		children, _ := rec["subsegments"].([]any)
		for _, c := range children {
			cm := c.(map[string]any)
			if cm["name"] == "SQS" && cm["namespace"] == "aws" {
				if op := cm["aws"].(map[string]any)["operation"]; op != "GetQueueUrl" {
					t.Errorf("SQS subsegment operation = %v", op)
				}
				sawSQS = true
			}
		}
		if a["message_id"] == "msg-2" && rec["fault"] != true {
			t.Errorf("dead-lettered record subsegment not marked as fault: %v", rec)
		}
	}
	if outcomes["msg-1"] != "succeeded" || outcomes["msg-2"] != "dead_lettered" {
		t.Errorf("record outcomes = %v", outcomes)
	}
	if !sawSQS {
		t.Errorf("no SQS subsegment under the first record: %v", subs)
	}
	if lines := xrayLog.snapshot()[before:]; len(lines) > 0 {
		t.Errorf("X-Ray SDK logged:\n%s", strings.Join(lines, "\n"))
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
