// Command feed-poller is the target of the FeedPollerSchedule rule: each
// tick reads a paged feed from where the last one stopped and handles every
// item once. The logic and its wiring live in package feedpoller.
package main

import (
	"github.com/latchkit/latch/functions/feed-poller/feedpoller"
	"github.com/latchkit/latch/pkg/function"
)

func main() { function.Main(feedpoller.Build) }
