package retry

import (
	"context"
	"errors"
	"time"

	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// The method sets Classify and Backoff.Delay recognise through errors.As.
// They are what other packages implement to take part without importing
// retry: pkg/idempotency's ErrInProgress carries RetryAt, its
// ErrPayloadMismatch carries Permanent.
type (
	permanent  interface{ Permanent() bool }
	retryAt    interface{ RetryAt() time.Time }
	retryAfter interface{ RetryAfter() time.Duration }
	apiError   = smithy.APIError
	httpStatus interface{ HTTPStatusCode() int }
	timeout    interface{ Timeout() bool }
)

// permanentCodes are AWS API error codes for requests that are wrong in
// themselves: sending the same request again fails the same way. Access and
// not-found errors are left out on purpose: a deploy (an IAM policy, a
// created table) fixes them, and then the record should still be there.
var permanentCodes = map[string]struct{}{
	"ValidationException":             {},
	"ValidationError":                 {},
	"SerializationException":          {},
	"InvalidParameterValue":           {},
	"InvalidParameterValueException":  {},
	"InvalidParameterException":       {},
	"InvalidParameterCombination":     {},
	"MissingParameter":                {},
	"MissingRequiredParameter":        {},
	"InvalidMessageContents":          {},
	"InvalidAttributeValue":           {},
	"MessageTooLong":                  {},
	"ItemCollectionSizeLimitExceeded": {},
	"RequestEntityTooLarge":           {},
	"RequestEntityTooLargeException":  {},
}

// Classify says whether err is worth retrying. It is the one place latch
// decides; the order of the cases is the order of precedence:
//
//  1. an error that states its class: Permanent() bool anywhere in the
//     chain (retry.Permanent, idempotency.ErrPayloadMismatch) wins, and a
//     false answer is an explicit "retryable";
//  2. an error that asks for a retry time, RetryAt() or RetryAfter()
//     (retry.After, idempotency.ErrInProgress): retryable;
//  3. context.Canceled and context.DeadlineExceeded: retryable. The work
//     was cut short, not refused; it must run again in a fresh invocation;
//  4. HTTP 429 and 5xx answers: retryable;
//  5. AWS API errors: throttling codes, the SDK's retryable codes and
//     server faults are retryable; codes that say the request itself is
//     malformed (ValidationException and kin) are permanent, other codes
//     retryable;
//  6. network timeouts (Timeout() bool): retryable;
//  7. everything else: retryable, because retrying a bug costs a few
//     attempts while dropping a message loses data.
//
// Classify(nil) is ClassNone: there is no failure to classify.
func Classify(err error) Class {
	var (
		perm   permanent
		at     retryAt
		after  retryAfter
		api    apiError
		status httpStatus
		tmo    timeout
	)
	switch {
	case err == nil:
		return ClassNone
	case errors.As(err, &perm):
		if perm.Permanent() {
			return ClassPermanent
		}
		return ClassRetryable
	case errors.As(err, &at), errors.As(err, &after):
		return ClassRetryable
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ClassRetryable
	case errors.As(err, &status) && (status.HTTPStatusCode() == 429 || status.HTTPStatusCode() >= 500):
		// Before the API code: a 5xx answer is the service's fault whatever
		// code it carries, and generic API errors report no fault of their own.
		return ClassRetryable
	case errors.As(err, &api):
		return classifyCode(api)
	case errors.As(err, &tmo) && tmo.Timeout():
		return ClassRetryable
	default:
		return ClassRetryable
	}
}

// classifyCode classifies an AWS API error by its code and fault.
func classifyCode(api smithy.APIError) Class {
	code := api.ErrorCode()
	if _, ok := awsretry.DefaultThrottleErrorCodes[code]; ok {
		return ClassRetryable
	}
	if _, ok := awsretry.DefaultRetryableErrorCodes[code]; ok {
		return ClassRetryable
	}
	if api.ErrorFault() == smithy.FaultServer {
		return ClassRetryable
	}
	if _, ok := permanentCodes[code]; ok {
		return ClassPermanent
	}
	return ClassRetryable
}
