// Command feed-poller is the target of the FeedPollerSchedule rule: each
// tick reads a paged feed from where the last one stopped and handles every
// item once. The logic and its wiring live in package feedpoller.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/latchkit/latch/functions/feed-poller/feedpoller"
	"github.com/latchkit/latch/pkg/handler"
)

func main() {
	h, err := feedpoller.FromEnv(context.Background())
	if err != nil {
		slog.Error("feed-poller: cannot start", "error", err)
		os.Exit(1)
	}
	handler.Start(h)
}
