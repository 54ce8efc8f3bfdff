// Command order-worker is the Lambda behind OrdersQueue: it accepts each
// order once and publishes OrderAccepted. The logic and its wiring live in
// package orderworker.
package main

import (
	"github.com/latchkit/latch/functions/order-worker/orderworker"
	"github.com/latchkit/latch/pkg/function"
)

func main() { function.Main(orderworker.Build) }
