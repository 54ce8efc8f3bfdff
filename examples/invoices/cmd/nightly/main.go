// Command nightly is the target of the nightly schedule: one report per
// night.
package main

import (
	"context"
	"log/slog"
	"os"

	"example.com/invoices"
	"github.com/latchkit/latch/pkg/handler"
)

func main() {
	h, err := invoices.NightlyFromEnv(context.Background())
	if err != nil {
		slog.Error("nightly: cannot start", "error", err)
		os.Exit(1)
	}
	handler.Start(h)
}
