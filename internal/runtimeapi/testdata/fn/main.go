// Command fn is a Lambda function for the runtimeapi tests. It is built with
// aws-lambda-go so that the tests run Lambda's own client loop against the
// server. The event's action picks what the function does.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	// Action is one of: echo (default), error, panic, exit, sleep, big,
	// meet.
	Action string `json:"action"`
	Value  string `json:"value"`
	// Code is the exit status for exit.
	Code int `json:"code"`
	// SleepMs is how long sleep sleeps, ignoring the deadline.
	SleepMs int `json:"sleepMs"`
	// Bytes is the size of big's response.
	Bytes int `json:"bytes"`
	// Meet is how many invocations meet must see in the handler at once
	// (this one included) before it answers; it fails at its deadline.
	Meet int32 `json:"meet"`
}

// arrivals counts the meet invocations ever started. They meet in groups
// of Meet: each waits in the handler until its group is complete, so a
// group's members were all in the handler at once, which happens only when
// the runtime runs several invoke loops (AWS_LAMBDA_MAX_CONCURRENCY).
var arrivals atomic.Int32

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

// OrderError is a typed error: aws-lambda-go reports its type name.
type OrderError struct{ ID string }

func (e *OrderError) Error() string { return "order " + e.ID + " is invalid" }

func handle(ctx context.Context, ev event) (result, error) {
	switch ev.Action {
	case "meet":
		group := (arrivals.Add(1) - 1) / ev.Meet
		for arrivals.Load() < (group+1)*ev.Meet {
			select {
			case <-ctx.Done():
				return result{}, fmt.Errorf("met %d invocations at once, want %d", arrivals.Load()-group*ev.Meet, ev.Meet)
			case <-time.After(time.Millisecond):
			}
		}
	case "error":
		return result{}, &OrderError{ID: ev.Value}
	case "panic":
		panic(ev.Value)
	case "exit":
		fmt.Fprintln(os.Stderr, "exiting with", ev.Code)
		os.Exit(ev.Code)
	case "sleep":
		time.Sleep(time.Duration(ev.SleepMs) * time.Millisecond)
	case "big":
		return result{Value: strings.Repeat("x", ev.Bytes)}, nil
	}
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	traceID, _ := ctx.Value("x-amzn-trace-id").(string)
	return result{
		Value:         ev.Value,
		RequestID:     lc.AwsRequestID,
		FunctionARN:   lc.InvokedFunctionArn,
		DeadlineMs:    deadline.UnixMilli(),
		TraceID:       traceID,
		ClientCustom:  lc.ClientContext.Custom,
		IdentityID:    lc.Identity.CognitoIdentityID,
		PID:           os.Getpid(),
		FunctionName:  lambdacontext.FunctionName,
		MemoryLimitMB: lambdacontext.MemoryLimitInMB,
		TenantID:      lc.TenantID,
	}, nil
}

func main() {
	switch os.Getenv("FN_INIT") {
	case "exit":
		// A Go function that cannot initialise simply dies: aws-lambda-go
		// has no init-error call, so Lambda sees the runtime exit.
		log.Fatal("fn: cannot load configuration")
	case "sigterm":
		lambda.StartHandlerFunc(handle, lambda.WithEnableSIGTERM(func() {
			fmt.Println("fn: SIGTERM received")
		}))
	}
	lambda.StartHandlerFunc(handle)
}
