package retry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/latchkit/latch/pkg/retry"
)

// sdkError builds an error the way the AWS SDK returns a service's answer:
// an operation error around an HTTP response error around the API error.
func sdkError(status int, api error) error {
	return &smithy.OperationError{
		ServiceID:     "SQS",
		OperationName: "SendMessage",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      api,
			},
			RequestID: "req-1",
		},
	}
}

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }

// lockErr stands in for idempotency.ErrInProgress, mismatchErr for
// idempotency.ErrPayloadMismatch: retry knows them only by their methods.
type (
	lockErr     struct{ at time.Time }
	mismatchErr bool
)

func (e lockErr) Error() string       { return "in progress" }
func (e lockErr) RetryAt() time.Time  { return e.at }
func (e mismatchErr) Error() string   { return "payload mismatch" }
func (e mismatchErr) Permanent() bool { return bool(e) }

func TestClassify(t *testing.T) {
	t.Parallel()
	plain := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want retry.Class
	}{
		{name: "nil", err: nil, want: retry.ClassNone},
		{name: "unknown error", err: plain, want: retry.ClassRetryable},
		{name: "permanent", err: retry.Permanent(plain), want: retry.ClassPermanent},
		{name: "permanent wrapped", err: fmt.Errorf("order 7: %w", retry.Permanent(plain)), want: retry.ClassPermanent},
		{name: "permanent by method", err: fmt.Errorf("x: %w", mismatchErr(true)), want: retry.ClassPermanent},
		{name: "method says not permanent beats validation code", err: fmt.Errorf("x: %w", errors.Join(mismatchErr(false), sdkError(400, apiErr("ValidationException")))), want: retry.ClassRetryable},
		{name: "permanent beats retry-after", err: retry.After(time.Second, retry.Permanent(plain)), want: retry.ClassPermanent},
		{name: "after", err: retry.After(time.Second, plain), want: retry.ClassRetryable},
		{name: "after beats validation code", err: retry.After(time.Second, sdkError(400, apiErr("ValidationException"))), want: retry.ClassRetryable},
		{name: "retry at", err: fmt.Errorf("claim: %w", lockErr{}), want: retry.ClassRetryable},
		{name: "context canceled", err: context.Canceled, want: retry.ClassRetryable},
		{name: "deadline exceeded wrapped", err: fmt.Errorf("query: %w", context.DeadlineExceeded), want: retry.ClassRetryable},
		{name: "permanent around canceled", err: retry.Permanent(context.Canceled), want: retry.ClassPermanent},
		// Context errors come before API codes: a call cut short by the
		// deadline is retried even when a permanent-looking answer rides
		// along. (Without the explicit case these would fall through to the
		// code and come out permanent, so unlike the two cases above they
		// can fail.)
		{name: "canceled beats validation code", err: errors.Join(sdkError(400, apiErr("ValidationException")), context.Canceled), want: retry.ClassRetryable},
		{name: "deadline beats validation code", err: fmt.Errorf("put: %w", errors.Join(sdkError(400, apiErr("ValidationException")), context.DeadlineExceeded)), want: retry.ClassRetryable},
		{name: "throttling", err: sdkError(400, apiErr("ThrottlingException")), want: retry.ClassRetryable},
		{name: "dynamodb throughput exceeded", err: sdkError(400, &ddbtypes.ProvisionedThroughputExceededException{Message: new(string)}), want: retry.ClassRetryable},
		{name: "request timeout code", err: sdkError(408, apiErr("RequestTimeout")), want: retry.ClassRetryable},
		{name: "validation", err: sdkError(400, apiErr("ValidationException")), want: retry.ClassPermanent},
		{name: "validation wrapped again", err: fmt.Errorf("put order: %w", sdkError(400, apiErr("ValidationException"))), want: retry.ClassPermanent},
		{name: "invalid parameter value", err: sdkError(400, apiErr("InvalidParameterValue")), want: retry.ClassPermanent},
		{name: "sqs invalid message contents", err: sdkError(400, apiErr("InvalidMessageContents")), want: retry.ClassPermanent},
		{name: "access denied stays retryable", err: sdkError(400, apiErr("AccessDeniedException")), want: retry.ClassRetryable},
		{name: "conditional check stays retryable", err: sdkError(400, &ddbtypes.ConditionalCheckFailedException{}), want: retry.ClassRetryable},
		{name: "5xx with a client-looking code", err: sdkError(500, apiErr("ValidationException")), want: retry.ClassRetryable},
		{name: "503", err: sdkError(503, apiErr("ServiceUnavailable")), want: retry.ClassRetryable},
		{name: "429", err: sdkError(429, apiErr("SomethingElse")), want: retry.ClassRetryable},
		{name: "server fault", err: &smithy.GenericAPIError{Code: "InternalFailure", Fault: smithy.FaultServer}, want: retry.ClassRetryable},
		{name: "network timeout", err: fmt.Errorf("read: %w", os.ErrDeadlineExceeded), want: retry.ClassRetryable},
		{name: "joined permanent and plain", err: errors.Join(plain, retry.Permanent(plain)), want: retry.ClassPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := retry.Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestClassString(t *testing.T) {
	t.Parallel()
	for c, want := range map[retry.Class]string{retry.ClassNone: "none", retry.ClassRetryable: "retryable", retry.ClassPermanent: "permanent", retry.Class(7): "Class(7)"} {
		if got := c.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(c), got, want)
		}
	}
}

func TestWrappers(t *testing.T) {
	t.Parallel()
	base := errors.New("card declined")
	if retry.Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	if retry.After(time.Second, nil) != nil {
		t.Error("After(d, nil) != nil")
	}
	p := retry.Permanent(base)
	if p.Error() != base.Error() {
		t.Errorf("Permanent text = %q, want %q", p.Error(), base.Error())
	}
	if !errors.Is(p, base) || !errors.Is(p, &retry.PermanentError{}) {
		t.Error("Permanent does not unwrap to its error or match its type")
	}
	var pe *retry.PermanentError
	if !errors.As(fmt.Errorf("w: %w", p), &pe) || pe.Err != base {
		t.Error("errors.As did not find the PermanentError")
	}
	a := retry.After(3*time.Second, base)
	if want := "card declined (retry after 3s)"; a.Error() != want {
		t.Errorf("After text = %q, want %q", a.Error(), want)
	}
	if !errors.Is(a, base) || !errors.Is(a, &retry.AfterError{}) || errors.Is(a, &retry.PermanentError{}) {
		t.Error("After matches the wrong things")
	}
}
