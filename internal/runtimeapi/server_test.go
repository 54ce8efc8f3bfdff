package runtimeapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/runtimeapi"
)

var _ error = (*runtimeapi.FunctionError)(nil)

// result mirrors testdata/fn's answer.
type result struct {
	Value         string            `json:"value"`
	RequestID     string            `json:"requestId"`
	FunctionARN   string            `json:"functionArn"`
	DeadlineMs    int64             `json:"deadlineMs"`
	TraceID       string            `json:"traceId"`
	ClientCustom  map[string]string `json:"clientCustom,omitempty"`
	IdentityID    string            `json:"identityId,omitempty"`
	PID           int               `json:"pid"`
	FunctionName  string            `json:"functionName"`
	MemoryLimitMB int               `json:"memoryLimitMb"`
	TenantID      string            `json:"tenantId,omitempty"`
}

func decode(t *testing.T, b []byte) result {
	t.Helper()
	var r result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("response %q: %v", b, err)
	}
	return r
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestInvokeDeliversEventAndMetadata(t *testing.T) {
	t.Parallel()
	rt := startRuntime(t, runtimeapi.Config{FunctionName: "echo", Region: "eu-west-1", Timeout: 30 * time.Second})
	req := runtimeapi.Request{
		Payload:         []byte(`{"value":"hello"}`),
		RequestID:       "11111111-2222-4333-8444-555555555555",
		TraceID:         "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
		ClientContext:   []byte(`{"Client":{"app_title":"t"},"custom":{"tenant":"acme"},"env":{}}`),
		CognitoIdentity: []byte(`{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}`),
	}
	before := time.Now()
	out, err := rt.srv.InvokeRequest(ctxFor(t, 30*time.Second), req)
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, out)
	want := result{
		Value:         "hello",
		RequestID:     req.RequestID,
		FunctionARN:   "arn:aws:lambda:eu-west-1:123456789012:function:echo",
		TraceID:       req.TraceID,
		ClientCustom:  map[string]string{"tenant": "acme"},
		IdentityID:    "id-1",
		FunctionName:  "echo",
		MemoryLimitMB: 256,
	}
	deadline, pid := got.DeadlineMs, got.PID
	got.DeadlineMs, got.PID = 0, 0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	// The handler's ctx deadline is the header's: delivery time + Timeout.
	lo, hi := before.Add(30*time.Second).UnixMilli(), time.Now().Add(30*time.Second).UnixMilli()
	if deadline < lo || deadline > hi {
		t.Errorf("deadline %d not in [%d, %d]", deadline, lo, hi)
	}
	if pid != rt.cmd.Process.Pid {
		t.Errorf("answered by pid %d, want %d", pid, rt.cmd.Process.Pid)
	}

	// Defaults: a fresh request id and trace header per invocation.
	a, err := rt.srv.Invoke(ctxFor(t, 30*time.Second), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := rt.srv.Invoke(ctxFor(t, 30*time.Second), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	ra, rb := decode(t, a), decode(t, b)
	if ra.RequestID == "" || ra.RequestID == rb.RequestID {
		t.Errorf("request ids %q, %q: want fresh ones", ra.RequestID, rb.RequestID)
	}
	if !strings.HasPrefix(ra.TraceID, "Root=1-") || ra.TraceID == rb.TraceID {
		t.Errorf("trace ids %q, %q: want fresh X-Ray headers", ra.TraceID, rb.TraceID)
	}
}

func TestFunctionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		event       string
		wantType    string
		wantMessage string
		wantStack   bool
		// wantEnded: the runtime exits afterwards (aws-lambda-go exits
		// after a panic or a refused response), so the environment is over.
		wantEnded bool
	}{
		{
			name:        "returned error is reported with its Go type",
			event:       `{"action":"error","value":"42"}`,
			wantType:    "OrderError",
			wantMessage: "order 42 is invalid",
		},
		{
			name:        "panic is reported with the panic value and a stack",
			event:       `{"action":"panic","value":"boom"}`,
			wantType:    "string",
			wantMessage: "boom",
			wantStack:   true,
			wantEnded:   true,
		},
		{
			name:        "os.Exit mid-invocation is a runtime exit",
			event:       `{"action":"exit","code":7}`,
			wantType:    runtimeapi.ErrorTypeExit,
			wantMessage: "Error: Runtime exited with error: exit status 7",
			wantEnded:   true,
		},
		{
			name:        "a response over 6 MB is refused",
			event:       fmt.Sprintf(`{"action":"big","bytes":%d}`, runtimeapi.MaxResponseSize),
			wantType:    runtimeapi.ErrorTypeResponseTooLarge,
			wantMessage: "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
			// aws-lambda-go exits when its response is refused.
			wantEnded: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rt := startRuntime(t, runtimeapi.Config{FunctionName: "errors", Timeout: 30 * time.Second})
			req := runtimeapi.Request{Payload: []byte(tt.event), RequestID: "req-" + strings.ReplaceAll(tt.name, " ", "-")}
			_, err := rt.srv.InvokeRequest(ctxFor(t, 30*time.Second), req)
			var fe *runtimeapi.FunctionError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FunctionError", err)
			}
			if !errors.Is(err, &runtimeapi.FunctionError{}) {
				t.Error("errors.Is(err, &FunctionError{}) = false")
			}
			if fe.RequestID != req.RequestID || fe.Type != tt.wantType || !strings.HasSuffix(fe.Message, tt.wantMessage) {
				t.Errorf("got request %q type %q message %q, want %q %q ...%q",
					fe.RequestID, fe.Type, fe.Message, req.RequestID, tt.wantType, tt.wantMessage)
			}
			if (len(fe.StackTrace) > 0) != tt.wantStack {
				t.Errorf("stack trace %s, want one: %v", fe.StackTrace, tt.wantStack)
			}
			var doc struct {
				Type    string `json:"errorType"`
				Message string `json:"errorMessage"`
			}
			if err := json.Unmarshal(fe.Payload, &doc); err != nil || doc.Type != fe.Type || doc.Message != fe.Message {
				t.Errorf("payload %s (%v) does not carry type %q and message %q", fe.Payload, err, fe.Type, fe.Message)
			}
			if tt.wantEnded {
				select {
				case <-rt.srv.Done():
				case <-time.After(10 * time.Second):
					t.Fatal("environment did not end after the runtime went away")
				}
				// An invocation that comes after never reached the runtime.
				_, err := rt.srv.Invoke(ctxFor(t, 10*time.Second), []byte(`{}`))
				if !errors.Is(err, runtimeapi.ErrNotDelivered) {
					t.Errorf("invoke after the end: %v, want ErrNotDelivered", err)
				}
				return
			}
			// The environment survives a handled error and answers again.
			out, err := rt.srv.Invoke(ctxFor(t, 30*time.Second), []byte(`{"value":"again"}`))
			if err != nil {
				t.Fatalf("next invocation: %v", err)
			}
			if got := decode(t, out).Value; got != "again" {
				t.Errorf("next invocation answered %q", got)
			}
		})
	}
}

func TestRuntimeExitDuringInit(t *testing.T) {
	t.Parallel()
	rt := startRuntime(t, runtimeapi.Config{FunctionName: "broken"}, "FN_INIT=exit")
	_, err := rt.srv.InvokeRequest(ctxFor(t, 30*time.Second), runtimeapi.Request{Payload: []byte(`{}`), RequestID: "r1"})
	var fe *runtimeapi.FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a *FunctionError", err)
	}
	want := &runtimeapi.FunctionError{
		RequestID: "r1",
		Type:      runtimeapi.ErrorTypeExit,
		Message:   "RequestId: r1 Error: Runtime exited with error: exit status 1",
		Payload:   []byte(`{"errorMessage":"RequestId: r1 Error: Runtime exited with error: exit status 1","errorType":"Runtime.ExitError"}`),
	}
	if diff := cmp.Diff(want, fe); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	select {
	case <-rt.srv.Ready():
		t.Error("Ready closed for a runtime that never asked for an invocation")
	default:
	}
	if err := rt.srv.Err(); err == nil || err.Error() != "Runtime.ExitError: Error: Runtime exited with error: exit status 1" {
		t.Errorf("Err() = %v", err)
	}
	if !strings.Contains(rt.output(), "cannot load configuration") {
		t.Errorf("function output %q lacks its log.Fatal line", rt.output())
	}
}

func TestTimeoutEndsTheEnvironment(t *testing.T) {
	t.Parallel()
	rt := startRuntime(t, runtimeapi.Config{FunctionName: "slow", Timeout: time.Second})
	start := time.Now()
	_, err := rt.srv.InvokeRequest(ctxFor(t, 30*time.Second),
		runtimeapi.Request{Payload: []byte(`{"action":"sleep","sleepMs":60000}`), RequestID: "slow-1"})
	elapsed := time.Since(start)
	var fe *runtimeapi.FunctionError
	if !errors.As(err, &fe) || !fe.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if want := "RequestId: slow-1 Error: Task timed out after 1.00 seconds"; fe.Message != want {
		t.Errorf("message %q, want %q", fe.Message, want)
	}
	if elapsed < time.Second || elapsed > 10*time.Second {
		t.Errorf("timed out after %v, want about 1s", elapsed)
	}
	select {
	case <-rt.srv.Done():
	default:
		t.Fatal("server not Done after a timeout")
	}
	select {
	case <-rt.exited: // killed by the supervisor because the server ended
	case <-time.After(10 * time.Second):
		t.Fatal("runtime still running after the timeout")
	}
	if err := rt.srv.Err(); !errors.Is(err, &runtimeapi.FunctionError{}) || !err.(*runtimeapi.FunctionError).Timeout() {
		t.Errorf("Err() = %v, want the timeout (it came first, before the kill)", err)
	}
	_, err = rt.srv.Invoke(ctxFor(t, 5*time.Second), []byte(`{}`))
	if !errors.Is(err, runtimeapi.ErrNotDelivered) || errors.Is(err, &runtimeapi.FunctionError{}) {
		t.Errorf("invoke after the timeout: %v, want ErrNotDelivered and no function error", err)
	}
}

func TestInvocationsAreServedOneAtATime(t *testing.T) {
	t.Parallel()
	rt := startRuntime(t, runtimeapi.Config{FunctionName: "serial", Timeout: 30 * time.Second})
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("v%d", i)
			out, err := rt.srv.Invoke(ctxFor(t, 30*time.Second), []byte(`{"value":"`+want+`"}`))
			if err != nil {
				errs <- err
				return
			}
			if got := decode(t, out).Value; got != want {
				errs <- fmt.Errorf("caller %d got %q", i, got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSIGTERMExtensionRegisters(t *testing.T) {
	t.Parallel()
	rt := startRuntime(t, runtimeapi.Config{FunctionName: "graceful"}, "FN_INIT=sigterm")
	if _, err := rt.srv.Invoke(ctxFor(t, 30*time.Second), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"GoLangEnableSIGTERM"}, rt.srv.Extensions()); diff != "" {
		t.Errorf("extensions (-want +got):\n%s", diff)
	}
	if strings.Contains(rt.output(), "WARNING") {
		t.Errorf("aws-lambda-go warned about the extension:\n%s", rt.output())
	}
}
