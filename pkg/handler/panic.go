package handler

import "fmt"

// PanicError is a panic recovered from a record function. The record fails
// with it, as a retryable failure of that record alone; the other records
// of the batch are unaffected.
type PanicError struct {
	// Value is what the function panicked with.
	Value any
	// Stack is the goroutine's stack at the panic, for the log.
	Stack []byte
}

// Error returns the panic value, without the stack: the text goes into
// logs' error fields and DLQ attributes, the stack goes to the log once.
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error (panic(err)).
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Permanent reports false: a panic is a retryable failure whatever it
// panicked with. A bug that panics on every attempt still reaches the DLQ
// on the last one, with this error as the reason.
func (e *PanicError) Permanent() bool { return false }
