package handler_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
)

type greeting struct {
	Name string `json:"name"`
}

type reply struct {
	Text      string `json:"text"`
	RequestID string `json:"request_id"`
	ColdStart bool   `json:"cold_start"`
	Deadline  int64  `json:"deadline"`
	Trace     string `json:"trace"`
}

func greet(ctx context.Context, g greeting) (reply, error) {
	inv, ok := handler.InvocationFromContext(ctx)
	if !ok {
		return reply{}, io.ErrUnexpectedEOF
	}
	return reply{
		Text:      "hello " + g.Name,
		RequestID: inv.RequestID,
		ColdStart: inv.ColdStart,
		Deadline:  inv.Deadline.UnixMilli(),
		Trace:     inv.TraceHeader,
	}, nil
}

func TestNewLambdaHandlerInvocation(t *testing.T) {
	t.Parallel()
	deadline := time.Now().Add(time.Minute).Truncate(time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "req-1", InvokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:f"})
	//lint:ignore SA1029 the string key is the one aws-lambda-go uses
	ctx = context.WithValue(ctx, "x-amzn-trace-id", "Root=1-abc;Parent=def;Sampled=1")

	out, err := handler.NewLambdaHandler(greet).Invoke(ctx, []byte(`{"name":"latch"}`))
	if err != nil {
		t.Fatal(err)
	}
	var got reply
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("answer %s: %v", out, err)
	}
	want := reply{Text: "hello latch", RequestID: "req-1", Deadline: deadline.UnixMilli(), Trace: "Root=1-abc;Parent=def;Sampled=1"}
	got.ColdStart = false // depends on which test of the binary ran first
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reply (-want +got):\n%s", diff)
	}
}

func TestNewLambdaHandlerKeepsGivenInvocation(t *testing.T) {
	t.Parallel()
	ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "local-1", ColdStart: true})
	out, err := handler.NewLambdaHandler(greet).Invoke(ctx, []byte(`{"name":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	var got reply
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.RequestID != "local-1" || !got.ColdStart {
		t.Errorf("reply = %+v, want the runner's invocation (local-1, cold)", got)
	}
}

// TestStartRuntimeAPI runs Start against a stand-in for the Lambda runtime
// API: one request goes in through GET /next, the typed handler's answer
// must come back through POST /response.
func TestStartRuntimeAPI(t *testing.T) {
	answers := make(chan string, 1)
	var served atomic.Bool
	block := make(chan struct{}) // the second GET /next waits for ever: Start never returns
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/2018-06-01/runtime/invocation/next":
			if served.Swap(true) {
				<-block
				return
			}
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "rt-req-1")
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:f")
			_, _ = w.Write([]byte(`{"name":"runtime"}`))
		case r.Method == http.MethodPost && r.URL.Path == "/2018-06-01/runtime/invocation/rt-req-1/response":
			b, _ := io.ReadAll(r.Body)
			answers <- string(b)
			w.WriteHeader(http.StatusAccepted)
		default:
			b, _ := io.ReadAll(r.Body)
			answers <- "unexpected " + r.Method + " " + r.URL.Path + ": " + string(b)
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	// The server is not closed: Start's loop stays blocked on it until the
	// test binary exits (closing it would make Start exit the process).
	t.Setenv("AWS_LAMBDA_RUNTIME_API", srv.Listener.Addr().String())
	go handler.Start(greet)

	select {
	case a := <-answers:
		var got reply
		if err := json.Unmarshal([]byte(a), &got); err != nil {
			t.Fatalf("answer %q: %v", a, err)
		}
		if got.Text != "hello runtime" || got.RequestID != "rt-req-1" {
			t.Errorf("answer = %+v, want hello runtime for rt-req-1", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer from Start within 10s")
	}
}
