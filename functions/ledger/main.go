// Command ledger is the Lambda behind LedgerQueue (FIFO): it appends each
// accepted order to its customer's ledger, in order, once. The logic and its
// wiring live in package ledger.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/latchkit/latch/functions/ledger/ledger"
	"github.com/latchkit/latch/pkg/handler"
)

func main() {
	h, err := ledger.FromEnv(context.Background())
	if err != nil {
		slog.Error("ledger: cannot start", "error", err)
		os.Exit(1)
	}
	handler.Start(h)
}
