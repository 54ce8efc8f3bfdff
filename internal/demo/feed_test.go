package demo

import (
	"context"
	"testing"

	"github.com/latchkit/latch/functions/feed-poller/feedpoller"
	"github.com/latchkit/latch/pkg/retry"
)

// TestFeedServesEveryItemOnceWithItsFaults reads the demo's feed with the
// function's own source: every item in order, one retryable 503, one crash
// flag, and a stranger's cursor starts from the beginning.
func TestFeedServesEveryItemOnceWithItsFaults(t *testing.T) {
	t.Parallel()
	f, err := NewFeed(FeedConfig{Items: 35, PageSize: 4, PageDelay: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src := feedpoller.HTTPSource{URL: f.URL()}
	ctx := context.Background()
	cursor, seen, fails, crashes := "someone-else:12", 0, 0, 0
	for range 100 {
		p, err := src.Fetch(ctx, cursor)
		if err != nil {
			if retry.Classify(err) != retry.ClassRetryable {
				t.Fatalf("fetch: %v, want a retryable 503", err)
			}
			fails++
			continue
		}
		for _, it := range p.Items {
			if it.ID != f.ItemID(seen) {
				t.Fatalf("item %s, want %s", it.ID, f.ItemID(seen))
			}
			if it.Crash {
				crashes++
			}
			seen++
		}
		cursor = p.Next
		if !p.More {
			break
		}
	}
	if seen != 35 || fails != 1 || crashes != 1 || !f.CrashServed() {
		t.Errorf("read %d items with %d 503s and %d crash flags; want 35, 1, 1", seen, fails, crashes)
	}
	if _, err := src.Fetch(ctx, f.run+":x"); err == nil || retry.Classify(err) != retry.ClassPermanent {
		t.Errorf("bad cursor: %v, want a permanent error", err)
	}
}
