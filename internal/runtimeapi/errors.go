package runtimeapi

import (
	"encoding/json"
	"errors"
)

// Error types that Lambda itself (not the function's code) puts in the
// errorType of a failed invocation. Callers see them in FunctionError.Type,
// exactly as a Lambda caller would.
const (
	// ErrorTypeTimeout is a function that ran past its deadline; Lambda
	// kills the execution environment.
	ErrorTypeTimeout = "Sandbox.Timedout"
	// ErrorTypeExit is a runtime process that exited before it answered,
	// during init or during an invocation.
	ErrorTypeExit = "Runtime.ExitError"
	// ErrorTypeResponseTooLarge is a response over MaxResponseSize.
	ErrorTypeResponseTooLarge = "Function.ResponseSizeTooLarge"
	// ErrorTypeInvalidEntrypoint is a runtime that could not be started at
	// all (no such executable, wrong format).
	ErrorTypeInvalidEntrypoint = "Runtime.InvalidEntrypoint"
	// ErrorTypeUnknown stands in when a runtime reports an error without
	// naming its type, neither in the body nor in the header.
	ErrorTypeUnknown = "Runtime.Unknown"
)

// ErrClosed is returned by Invoke when the server was closed (the function is
// being stopped) before the invocation finished. It is not a function error:
// the function did not fail, the local runner went away.
var ErrClosed = errors.New("runtimeapi: server closed")

// ErrNotDelivered is returned by Invoke when the execution environment ended
// between invocations (its runtime had finished init, then exited or was
// killed) before the runtime took this one. The function never saw the
// invocation; Lambda would have given it to another environment, and a
// supervisor should do the same.
var ErrNotDelivered = errors.New("runtimeapi: execution environment ended before the invocation was delivered")

// ErrRequestTooLarge is returned by Invoke for a payload over MaxRequestSize,
// as Lambda refuses such an invoke before it reaches the function.
var ErrRequestTooLarge = errors.New("runtimeapi: request payload exceeds the synchronous invocation limit")

// FunctionError is an invocation that failed inside the execution
// environment: the handler returned an error or panicked, the runtime
// crashed, timed out, or failed to initialise. Lambda answers such an invoke
// with status 200, the header X-Amz-Function-Error: Unhandled and the error
// document (Payload) as the response body; Invoke returns it as this error.
type FunctionError struct {
	// RequestID is the invocation's request id; empty for an init failure
	// reported outside any invocation (see Server.Err).
	RequestID string
	// Type is the errorType: the Go type name of the handler's error for a
	// function built with aws-lambda-go, or one of the ErrorType constants.
	Type string
	// Message is the errorMessage.
	Message string
	// StackTrace is the stackTrace the runtime reported, verbatim, if any
	// (aws-lambda-go sends one for a panic).
	StackTrace json.RawMessage
	// Payload is the error document Lambda would return to the caller: what
	// the runtime posted, or one Lambda writes itself for timeouts and exits.
	Payload []byte
}

// Error returns "Type: Message".
func (e *FunctionError) Error() string {
	return e.Type + ": " + e.Message
}

// Is matches any *FunctionError, so errors.Is(err, &FunctionError{}) asks
// "did the function fail?" without caring how.
func (e *FunctionError) Is(target error) bool {
	_, ok := target.(*FunctionError)
	return ok
}

// Timeout reports whether the invocation ran past its deadline.
func (e *FunctionError) Timeout() bool { return e.Type == ErrorTypeTimeout }

// errorDocument is the JSON shape of a Lambda error, both the one runtimes
// post and the one Lambda returns to callers.
type errorDocument struct {
	Message    string          `json:"errorMessage"`
	Type       string          `json:"errorType"`
	StackTrace json.RawMessage `json:"stackTrace,omitempty"`
}

// lambdaError builds a FunctionError that Lambda (not the runtime) authors.
func lambdaError(requestID, errorType, message string) *FunctionError {
	doc, _ := json.Marshal(errorDocument{Message: message, Type: errorType})
	return &FunctionError{RequestID: requestID, Type: errorType, Message: message, Payload: doc}
}

// runtimeError builds a FunctionError from what a runtime posted to an error
// endpoint. A body that is not an error document is kept as the message, the
// way Lambda still fails the invocation with whatever it was given.
func runtimeError(requestID string, body []byte, headerType string) *FunctionError {
	var doc errorDocument
	if err := json.Unmarshal(body, &doc); err != nil || (doc.Type == "" && doc.Message == "") {
		doc = errorDocument{Message: string(body)}
		body = nil
	}
	if doc.Type == "" {
		doc.Type = headerType
	}
	if doc.Type == "" {
		doc.Type = ErrorTypeUnknown
	}
	if body == nil {
		body, _ = json.Marshal(doc)
	}
	return &FunctionError{
		RequestID:  requestID,
		Type:       doc.Type,
		Message:    doc.Message,
		StackTrace: doc.StackTrace,
		Payload:    body,
	}
}
