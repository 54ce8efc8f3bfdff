package tracertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SQSServer answers every request like SQS's JSON protocol and keeps the
// trace header of each request.
type SQSServer struct {
	mu      sync.Mutex
	headers []string
	answer  func(n int) (int, string)
}

// TraceHeaders returns the X-Amzn-Trace-Id header of each request so far,
// "" where there was none.
func (f *SQSServer) TraceHeaders() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.headers...)
}

// FakeSQS is an SQS client, instrumented by instrument (a tracer's
// InstrumentAWS), whose requests reach an httptest server. answer gives
// the status and body of the n-th request, counting from 1; nil answers
// every request with GetQueueUrl's success. Request n carries the request
// id fake-req-n. Retries come at once, so that a test of retried calls
// does not wait out the SDK's backoff.
func FakeSQS(t *testing.T, instrument func(*aws.Config), answer func(n int) (int, string)) (*sqs.Client, *SQSServer) {
	t.Helper()
	f := &SQSServer{answer: answer}
	if f.answer == nil {
		f.answer = func(int) (int, string) { return http.StatusOK, `{"QueueUrl":"http://fake/123/q"}` }
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.headers = append(f.headers, r.Header.Get("X-Amzn-Trace-Id"))
		n := len(f.headers)
		f.mu.Unlock()
		status, body := f.answer(n)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("x-amzn-RequestId", fmt.Sprintf("fake-req-%d", n))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:       "eu-west-1",
		Credentials:  aws.AnonymousCredentials{},
		BaseEndpoint: aws.String(srv.URL),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
	instrument(&cfg)
	return sqs.NewFromConfig(cfg), f
}
