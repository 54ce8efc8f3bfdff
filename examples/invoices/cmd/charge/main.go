// Command charge is the invoices queue's consumer: it charges each invoice
// once.
package main

import (
	"context"
	"log/slog"
	"os"

	"example.com/invoices"
	"github.com/latchkit/latch/pkg/handler"
)

func main() {
	h, err := invoices.ChargeFromEnv(context.Background())
	if err != nil {
		slog.Error("charge: cannot start", "error", err)
		os.Exit(1)
	}
	handler.Start(h)
}
