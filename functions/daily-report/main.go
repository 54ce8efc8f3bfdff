// Command daily-report is the target of the DailyReportSchedule rule: it
// writes one report per tick. The logic and its wiring live in package
// dailyreport.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/latchkit/latch/functions/daily-report/dailyreport"
	"github.com/latchkit/latch/pkg/handler"
)

func main() {
	h, err := dailyreport.FromEnv(context.Background())
	if err != nil {
		slog.Error("daily-report: cannot start", "error", err)
		os.Exit(1)
	}
	handler.Start(h)
}
