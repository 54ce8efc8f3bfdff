package orderworker

import (
	"fmt"
	"hash/fnv"

	"github.com/aws/smithy-go"
)

// FaultAttempts is how many attempts of a faulty order fail: the first two,
// so the order is retried twice with growing delays, then accepted.
const FaultAttempts = 2

// Faults injects transient failures for the local demo: a share of the
// orders, picked by a hash of the order id so that every delivery of an
// order agrees, fail their first FaultAttempts attempts with a simulated
// downstream throttling error. It is retryable, so latch backs off and the
// order goes through on a later attempt. The zero value injects nothing,
// which is what production runs (TransientFaultPercent=0).
type Faults struct {
	// Percent of orders that are faulty, 0 to 100.
	Percent int
}

// Selects reports whether the order is one of the faulty ones.
func (f Faults) Selects(orderID string) bool {
	if f.Percent <= 0 {
		return false
	}
	h := fnv.New32a()
	h.Write([]byte(orderID))
	return int(h.Sum32()%100) < f.Percent
}

// Check returns the simulated throttling error for a faulty order on one of
// its first FaultAttempts attempts, and nil otherwise. The error is an AWS
// API error with the ThrottlingException code, so it is classified exactly
// as a real throttled call would be.
func (f Faults) Check(orderID string, attempt int) error {
	if attempt > FaultAttempts || !f.Selects(orderID) {
		return nil
	}
	return &smithy.GenericAPIError{
		Code:    "ThrottlingException",
		Message: fmt.Sprintf("simulated downstream throttling of order %s, attempt %d of %d that fail (TRANSIENT_FAULT_PERCENT)", orderID, attempt, FaultAttempts),
		Fault:   smithy.FaultServer,
	}
}
