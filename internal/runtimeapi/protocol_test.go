package runtimeapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/runtimeapi"
)

// These tests speak the protocol by hand, as a custom runtime in another
// language would, to reach the parts aws-lambda-go never uses (init errors,
// the error-type header, trailers) and the server's refusals.

type rawRuntime struct {
	t    *testing.T
	base string
}

func newRaw(t *testing.T, cfg runtimeapi.Config) (*runtimeapi.Server, *rawRuntime) {
	t.Helper()
	srv, err := runtimeapi.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, &rawRuntime{t: t, base: "http://" + srv.Addr()}
}

// do sends a request and returns the status, headers and body.
func (r *rawRuntime) do(method, path string, header http.Header, body io.Reader) (int, http.Header, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.base+path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

const runtimePath = "/2018-06-01/runtime/"

// next polls for an invocation and returns its request id and payload.
func (r *rawRuntime) next() (string, []byte) {
	r.t.Helper()
	status, h, body := r.do(http.MethodGet, runtimePath+"invocation/next", nil, nil)
	if status != http.StatusOK {
		r.t.Fatalf("next: status %d %s", status, body)
	}
	return h.Get(runtimeapi.HeaderRequestID), body
}

type invokeResult struct {
	out []byte
	err error
}

func invokeAsync(srv *runtimeapi.Server, req runtimeapi.Request) <-chan invokeResult {
	ch := make(chan invokeResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := srv.InvokeRequest(ctx, req)
		ch <- invokeResult{out, err}
	}()
	return ch
}

func wantErrorType(t *testing.T, body []byte, want string) {
	t.Helper()
	var doc struct {
		Type string `json:"errorType"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Type != want {
		t.Errorf("error body %s, want errorType %q", body, want)
	}
}

func TestProtocolResponse(t *testing.T) {
	t.Parallel()
	srv, rt := newRaw(t, runtimeapi.Config{FunctionName: "raw"})
	res := invokeAsync(srv, runtimeapi.Request{Payload: []byte(`{"n":1}`), RequestID: "a"})
	id, payload := rt.next()
	if id != "a" || string(payload) != `{"n":1}` {
		t.Fatalf("next delivered %q %s", id, payload)
	}
	status, _, body := rt.do(http.MethodPost, runtimePath+"invocation/nope/response", nil, strings.NewReader(`{}`))
	if status != http.StatusBadRequest {
		t.Errorf("response for an unknown id: status %d", status)
	}
	wantErrorType(t, body, "InvalidRequestID")
	status, _, _ = rt.do(http.MethodPost, runtimePath+"invocation/a/response", nil, strings.NewReader(`"done"`))
	if status != http.StatusAccepted {
		t.Errorf("response: status %d", status)
	}
	if r := <-res; r.err != nil || string(r.out) != `"done"` {
		t.Errorf("Invoke = %s, %v", r.out, r.err)
	}
	status, _, _ = rt.do(http.MethodPost, runtimePath+"invocation/a/response", nil, strings.NewReader(`"twice"`))
	if status != http.StatusBadRequest {
		t.Errorf("second response for the same id: status %d", status)
	}
}

func TestProtocolInvocationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// post reports the failure of invocation id.
		post func(rt *rawRuntime, id string) int
		want *runtimeapi.FunctionError
	}{
		{
			name: "error document",
			post: func(rt *rawRuntime, id string) int {
				s, _, _ := rt.do(http.MethodPost, runtimePath+"invocation/"+id+"/error",
					http.Header{"Content-Type": {"application/json"}},
					strings.NewReader(`{"errorMessage":"bad input","errorType":"ValueError","stackTrace":["a.py:1"]}`))
				return s
			},
			want: &runtimeapi.FunctionError{
				Type: "ValueError", Message: "bad input", StackTrace: json.RawMessage(`["a.py:1"]`),
				Payload: []byte(`{"errorMessage":"bad input","errorType":"ValueError","stackTrace":["a.py:1"]}`),
			},
		},
		{
			name: "type in the header, body not JSON",
			post: func(rt *rawRuntime, id string) int {
				s, _, _ := rt.do(http.MethodPost, runtimePath+"invocation/"+id+"/error",
					http.Header{runtimeapi.HeaderErrorType: {"Runtime.HandlerNotFound"}},
					strings.NewReader(`no handler named main`))
				return s
			},
			want: &runtimeapi.FunctionError{
				Type: "Runtime.HandlerNotFound", Message: "no handler named main",
				Payload: []byte(`{"errorMessage":"no handler named main","errorType":"Runtime.HandlerNotFound"}`),
			},
		},
		{
			name: "no type anywhere",
			post: func(rt *rawRuntime, id string) int {
				s, _, _ := rt.do(http.MethodPost, runtimePath+"invocation/"+id+"/error", nil, strings.NewReader(`{"errorMessage":"oops"}`))
				return s
			},
			want: &runtimeapi.FunctionError{
				Type: runtimeapi.ErrorTypeUnknown, Message: "oops",
				Payload: []byte(`{"errorMessage":"oops"}`),
			},
		},
		{
			name: "streamed response that fails midway, in trailers",
			post: func(rt *rawRuntime, id string) int {
				doc := base64.StdEncoding.EncodeToString([]byte(`{"errorMessage":"read failed","errorType":"ReadError"}`))
				req, _ := http.NewRequest(http.MethodPost, rt.base+runtimePath+"invocation/"+id+"/response",
					io.MultiReader(strings.NewReader("partial"), trailerSetter{}))
				req.ContentLength = -1
				req.Trailer = http.Header{runtimeapi.HeaderErrorType: {"ReadError"}, runtimeapi.HeaderErrorBody: {doc}}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					rt.t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			},
			want: &runtimeapi.FunctionError{
				Type: "ReadError", Message: "read failed",
				Payload: []byte(`{"errorMessage":"read failed","errorType":"ReadError"}`),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, rt := newRaw(t, runtimeapi.Config{FunctionName: "raw"})
			res := invokeAsync(srv, runtimeapi.Request{Payload: []byte(`{}`), RequestID: "e1"})
			id, _ := rt.next()
			if status := tt.post(rt, id); status != http.StatusAccepted {
				t.Fatalf("status %d, want 202", status)
			}
			r := <-res
			var fe *runtimeapi.FunctionError
			if !errors.As(r.err, &fe) {
				t.Fatalf("Invoke error %v, want a *FunctionError", r.err)
			}
			tt.want.RequestID = "e1"
			if diff := cmp.Diff(tt.want, fe); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if srv.Err() != nil {
				t.Errorf("a function error ended the environment: %v", srv.Err())
			}
		})
	}
}

// trailerSetter is an empty reader; the trailers are fixed on the request.
type trailerSetter struct{}

func (trailerSetter) Read([]byte) (int, error) { return 0, io.EOF }

func TestProtocolInitError(t *testing.T) {
	t.Parallel()
	srv, rt := newRaw(t, runtimeapi.Config{FunctionName: "raw"})
	res := invokeAsync(srv, runtimeapi.Request{Payload: []byte(`{}`), RequestID: "i1"})
	status, _, _ := rt.do(http.MethodPost, runtimePath+"init/error",
		http.Header{runtimeapi.HeaderErrorType: {"Runtime.ConfigError"}},
		strings.NewReader(`{"errorMessage":"TABLE_NAME is not set","errorType":"Runtime.ConfigError"}`))
	if status != http.StatusAccepted {
		t.Fatalf("init/error: status %d", status)
	}
	r := <-res
	want := &runtimeapi.FunctionError{
		RequestID: "i1", Type: "Runtime.ConfigError", Message: "TABLE_NAME is not set",
		Payload: []byte(`{"errorMessage":"TABLE_NAME is not set","errorType":"Runtime.ConfigError"}`),
	}
	if diff := cmp.Diff(error(want), r.err); diff != "" {
		t.Errorf("Invoke error (-want +got):\n%s", diff)
	}
	want.RequestID = ""
	if diff := cmp.Diff(error(want), srv.Err()); diff != "" {
		t.Errorf("Err() (-want +got):\n%s", diff)
	}
	// The environment is over: the runtime is told so if it asks for work.
	status, _, body := rt.do(http.MethodGet, runtimePath+"invocation/next", nil, nil)
	if status != http.StatusInternalServerError {
		t.Errorf("next after an init error: status %d %s", status, body)
	}
}

func TestProtocolInitErrorAfterInit(t *testing.T) {
	t.Parallel()
	srv, rt := newRaw(t, runtimeapi.Config{FunctionName: "raw"})
	res := invokeAsync(srv, runtimeapi.Request{Payload: []byte(`{}`), RequestID: "x"})
	rt.next()
	status, _, body := rt.do(http.MethodPost, runtimePath+"init/error", nil, strings.NewReader(`{"errorMessage":"late","errorType":"E"}`))
	if status != http.StatusForbidden {
		t.Errorf("init/error after next: status %d", status)
	}
	wantErrorType(t, body, "InvalidStateTransition")
	rt.do(http.MethodPost, runtimePath+"invocation/x/response", nil, strings.NewReader(`1`))
	if r := <-res; r.err != nil {
		t.Errorf("Invoke: %v", r.err)
	}
}

func TestProtocolLateResponseAfterTimeout(t *testing.T) {
	t.Parallel()
	srv, rt := newRaw(t, runtimeapi.Config{FunctionName: "raw", Timeout: 50 * time.Millisecond})
	res := invokeAsync(srv, runtimeapi.Request{Payload: []byte(`{}`), RequestID: "late"})
	rt.next()
	r := <-res
	var fe *runtimeapi.FunctionError
	if !errors.As(r.err, &fe) || !fe.Timeout() {
		t.Fatalf("Invoke error %v, want a timeout", r.err)
	}
	status, _, _ := rt.do(http.MethodPost, runtimePath+"invocation/late/response", nil, strings.NewReader(`1`))
	if status != http.StatusBadRequest {
		t.Errorf("late response: status %d", status)
	}
}

func TestInvokeWaitingForTheRuntime(t *testing.T) {
	t.Parallel()
	t.Run("caller gives up", func(t *testing.T) {
		t.Parallel()
		srv, _ := newRaw(t, runtimeapi.Config{FunctionName: "raw"})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := srv.Invoke(ctx, []byte(`{}`)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
		if srv.Err() != nil {
			t.Errorf("a caller giving up ended the environment: %v", srv.Err())
		}
	})
	t.Run("init timeout", func(t *testing.T) {
		t.Parallel()
		srv, _ := newRaw(t, runtimeapi.Config{FunctionName: "raw", InitTimeout: 20 * time.Millisecond})
		_, err := srv.InvokeRequest(context.Background(), runtimeapi.Request{Payload: []byte(`{}`), RequestID: "it"})
		var fe *runtimeapi.FunctionError
		if !errors.As(err, &fe) || !fe.Timeout() || fe.Message != "RequestId: it Error: Init timed out after 0.02 seconds" {
			t.Fatalf("err = %v, want an init timeout", err)
		}
		<-srv.Done()
	})
	t.Run("close", func(t *testing.T) {
		t.Parallel()
		srv, _ := newRaw(t, runtimeapi.Config{FunctionName: "raw"})
		res := invokeAsync(srv, runtimeapi.Request{Payload: []byte(`{}`)})
		_ = srv.Close()
		if r := <-res; !errors.Is(r.err, runtimeapi.ErrClosed) {
			t.Errorf("err = %v, want ErrClosed", r.err)
		}
	})
	t.Run("close in flight", func(t *testing.T) {
		t.Parallel()
		srv, rt := newRaw(t, runtimeapi.Config{FunctionName: "raw"})
		res := invokeAsync(srv, runtimeapi.Request{Payload: []byte(`{}`)})
		rt.next()
		_ = srv.Close()
		if r := <-res; !errors.Is(r.err, runtimeapi.ErrClosed) {
			t.Errorf("err = %v, want ErrClosed", r.err)
		}
	})
	t.Run("payload too large", func(t *testing.T) {
		t.Parallel()
		srv, _ := newRaw(t, runtimeapi.Config{FunctionName: "raw"})
		_, err := srv.Invoke(context.Background(), bytes.Repeat([]byte("x"), runtimeapi.MaxRequestSize+1))
		if !errors.Is(err, runtimeapi.ErrRequestTooLarge) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestExtensionRegistration(t *testing.T) {
	t.Parallel()
	const path = "/2020-01-01/extension/register"
	tests := []struct {
		name       string
		header     http.Header
		body       string
		afterInit  bool
		wantStatus int
	}{
		{name: "no events", header: http.Header{runtimeapi.HeaderExtensionName: {"ext"}}, body: `{"events":[]}`, wantStatus: http.StatusOK},
		{name: "empty body", header: http.Header{runtimeapi.HeaderExtensionName: {"ext"}}, wantStatus: http.StatusOK},
		{name: "events are refused", header: http.Header{runtimeapi.HeaderExtensionName: {"ext"}}, body: `{"events":["INVOKE","SHUTDOWN"]}`, wantStatus: http.StatusBadRequest},
		{name: "no name", body: `{}`, wantStatus: http.StatusBadRequest},
		{name: "after init", header: http.Header{runtimeapi.HeaderExtensionName: {"ext"}}, afterInit: true, wantStatus: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, rt := newRaw(t, runtimeapi.Config{FunctionName: "fn", Handler: "bootstrap"})
			if tt.afterInit {
				res := invokeAsync(srv, runtimeapi.Request{Payload: []byte(`{}`), RequestID: "r"})
				rt.next()
				rt.do(http.MethodPost, runtimePath+"invocation/r/response", nil, strings.NewReader(`1`))
				<-res
			}
			status, h, body := rt.do(http.MethodPost, path, tt.header, strings.NewReader(tt.body))
			if status != tt.wantStatus {
				t.Fatalf("status %d %s, want %d", status, body, tt.wantStatus)
			}
			if status != http.StatusOK {
				if len(srv.Extensions()) != 0 {
					t.Errorf("refused extension listed: %v", srv.Extensions())
				}
				return
			}
			if h.Get(runtimeapi.HeaderExtensionIdentifier) == "" {
				t.Error("no extension identifier")
			}
			if diff := cmp.Diff(`{"functionName":"fn","functionVersion":"$LATEST","handler":"bootstrap"}`, strings.TrimSpace(string(body))); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"ext"}, srv.Extensions()); diff != "" {
				t.Errorf("extensions (-want +got):\n%s", diff)
			}
			status, _, _ = rt.do(http.MethodGet, "/2020-01-01/extension/event/next", http.Header{runtimeapi.HeaderExtensionIdentifier: {"unknown"}}, nil)
			if status != http.StatusForbidden {
				t.Errorf("event/next with an unknown id: status %d", status)
			}
		})
	}
}
