// Command order-worker is the Lambda behind OrdersQueue: it accepts each
// order once and publishes OrderAccepted. The logic and its wiring live in
// package orderworker.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/latchkit/latch/functions/order-worker/orderworker"
	"github.com/latchkit/latch/pkg/handler"
)

func main() {
	h, err := orderworker.FromEnv(context.Background())
	if err != nil {
		slog.Error("order-worker: cannot start", "error", err)
		os.Exit(1)
	}
	handler.Start(h)
}
