package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/latchkit/latch/functions/feed-poller/feedpoller"
	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
)

// Logical ids of infra/template.yaml the feed phase uses.
const (
	IdempotencyTable   = "IdempotencyTable"
	FeedTable          = "FeedTable"
	FeedPollerFunction = "FeedPollerFunction"
	FeedPollerSchedule = "FeedPollerSchedule"
)

// feedNamespace is FeedPollerFunction's LATCH_IDEMPOTENCY_NAMESPACE in the
// template: the demo's own poller must share the function's item records
// to be the same poller.
const feedNamespace = "feed-poller"

// localPoller is the feed's poller as the function builds it, on the same
// checkpoint and item records (the function's namespace), observed quietly.
func localPoller(t Target, names map[string]string, feed *Feed) (*handler.Poller[feedpoller.Item], error) {
	table := names[IdempotencyTable]
	cps, err := checkpoint.NewDynamoDBStore(t.DynamoDB, checkpoint.DynamoDBConfig{Table: table})
	if err != nil {
		return nil, err
	}
	store, err := idempotency.NewDynamoDBStore(t.DynamoDB, idempotency.DynamoDBConfig{Table: table})
	if err != nil {
		return nil, err
	}
	guard, err := idempotency.NewGuard(idempotency.Config{Store: store, Namespace: feedNamespace})
	if err != nil {
		return nil, err
	}
	return feedpoller.NewPoller(feedpoller.Config{
		Source: feedpoller.HTTPSource{URL: feed.URL()}, Checkpoints: cps, Guard: guard,
		DynamoDB: t.DynamoDB, FeedTable: names[FeedTable], Observer: quietObserver{},
	})
}

// feedStats is what the feed phase did.
type feedStats struct {
	ticks, failedTicks int
	firstErrors        []string
	overlaps, held     int // in-process polls run alongside a tick, and how many found the lease held
	took               time.Duration
}

// runFeed fires FeedPollerSchedule until the function has handled every
// item of the feed. From the crash on, every other tick has company: the
// demo runs the same poller in-process at the same moment, against the same
// checkpoint and idempotency records — two overlapping holders.
func runFeed(ctx context.Context, t Target, names map[string]string, feed *Feed, w io.Writer) (feedStats, error) {
	var st feedStats
	started := time.Now()
	local, err := localPoller(t, names, feed)
	if err != nil {
		return st, err
	}
	fmt.Fprintf(w, "demo: polling the feed (%d items, pages of %d, a 503 and a crash mid-page injected) by firing %s\n",
		feed.cfg.Items, feed.cfg.PageSize, FeedPollerSchedule)
	for round := 1; ; round++ {
		var wg sync.WaitGroup
		if feed.CrashServed() && round%2 == 0 {
			st.overlaps++
			wg.Go(func() {
				res, err := local.Poll(ctx)
				if err == nil && res.Held {
					st.held++
				}
			})
		}
		err := t.Fire(ctx, FeedPollerSchedule, time.Now().UTC().Truncate(time.Minute))
		wg.Wait()
		st.ticks++
		if err != nil {
			st.failedTicks++
			if len(st.firstErrors) < 3 {
				st.firstErrors = append(st.firstErrors, firstLine(err.Error()))
			}
		}
		counts, err := feedCounts(ctx, t, names, feed)
		if err != nil {
			return st, err
		}
		if round%5 == 0 || len(counts) == feed.cfg.Items {
			fmt.Fprintf(w, "demo: feed: %d ticks (%d failed), %d of %d items handled\n", st.ticks, st.failedTicks, len(counts), feed.cfg.Items)
		}
		if len(counts) == feed.cfg.Items {
			break
		}
		select {
		case <-ctx.Done():
			st.took = time.Since(started)
			return st, nil // the invariant reports what is missing
		case <-time.After(time.Second):
		}
	}
	st.took = time.Since(started)
	return st, nil
}

// feedCounts returns how often each item of this run's feed was handled.
func feedCounts(ctx context.Context, t Target, names map[string]string, feed *Feed) (map[string]int, error) {
	items, err := scanAll(ctx, t.DynamoDB, names[FeedTable])
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, it := range items {
		id := str(it, feedpoller.AttrID)
		if !strings.HasPrefix(id, feed.Prefix()) {
			continue
		}
		n := 0
		fmt.Sscan(str(it, feedpoller.AttrProcessed), &n)
		counts[id] = n
	}
	return counts, nil
}

// checkFeed adds the feed's invariant: every item handled exactly once
// across ticks, the overlapping polls and the crash.
func checkFeed(ctx context.Context, t Target, names map[string]string, feed *Feed, st feedStats, r *result) error {
	counts, err := feedCounts(ctx, t, names, feed)
	if err != nil {
		return err
	}
	var missing, twice []string
	for i := range feed.cfg.Items {
		id := feed.ItemID(i)
		switch n := counts[id]; {
		case n == 0:
			missing = append(missing, id)
		case n > 1:
			twice = append(twice, fmt.Sprintf("%s×%d", id, n))
		}
	}
	// The crash fails a tick (it goes out before any overlap starts); the
	// 503 fails whichever poller asks for its page first, a tick or the
	// demo's own. Without both the phase would not have tested resuming.
	ok := len(missing) == 0 && len(twice) == 0 && feed.CrashServed() && feed.FailServed() && st.failedTicks >= 1 && st.overlaps > 0
	r.add("feed items handled once across ticks, overlap and crash", ok,
		"%d of %d items in %s in %s; missing %v; more than once %v; %d ticks (%d failed: the crash, and the 503 unless the demo's own poller met it; e.g. %v); %d in-process polls overlapping a tick (%d found the lease held)",
		len(counts), feed.cfg.Items, names[FeedTable], st.took.Round(time.Second), head(missing), head(twice),
		st.ticks, st.failedTicks, st.firstErrors, st.overlaps, st.held)
	return nil
}

// quietObserver keeps the demo's own poller's lines off the demo's output:
// the function's lines are the ones the summary counts.
type quietObserver struct{ handler.NopObserver }

// Logger discards.
func (quietObserver) Logger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
