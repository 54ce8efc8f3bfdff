//go:build integration

package feedpoller_test

import (
	"context"
	"os"
	"testing"

	"github.com/latchkit/latch/functions/feed-poller/feedpoller"
	"github.com/latchkit/latch/functions/internal/functest"
	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// TestSampleTick runs the function on events/schedule-feed-poller.json
// against a feed of 17 items: the first tick reads them all, a second
// delivery of the same tick finds nothing new, and every item's counter in
// the feed table is 1.
func TestSampleTick(t *testing.T) {
	e := emulator.New(t)
	srv := serveFeed(t, 17, 5, -1, "no-such-cursor")
	idem := e.Table(t)
	feedTable := e.TableWith(t, emulator.TableSpec{TTLAttribute: "-"})
	h, log := functest.Build(t, feedpoller.Build, map[string]string{
		function.EnvIdempotencyTable:     idem,
		function.EnvIdempotencyNamespace: "feed-poller",
		feedpoller.EnvFeedURL:            srv.URL,
		feedpoller.EnvFeedTable:          feedTable,
	})
	payload, err := os.ReadFile("../../../events/schedule-feed-poller.json")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := h(context.Background(), payload); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
	}
	got := map[string]string{}
	for _, it := range e.Items(t, feedTable) {
		id, _ := emulator.Scalar(it[feedpoller.AttrID])
		n, _ := emulator.Scalar(it[feedpoller.AttrProcessed])
		got[id] = n
	}
	if len(got) != 17 {
		t.Errorf("%d items in the feed table, want 17", len(got))
	}
	for id, n := range got {
		if n != "1" {
			t.Errorf("item %s handled %s times, want once", id, n)
		}
	}
	cps, err := checkpoint.NewDynamoDBStore(e.DynamoDB, checkpoint.DynamoDBConfig{Table: idem})
	if err != nil {
		t.Fatal(err)
	}
	cp, ok, err := cps.Get(context.Background(), feedpoller.CheckpointName)
	if err != nil || !ok || cp.Cursor != "17" {
		t.Errorf("checkpoint %+v (%v, %v), want cursor 17", cp, ok, err)
	}
	// 17 items succeeded, plus the two ticks' own outcome lines.
	if n := log.Count(); n["succeeded"] != 17+2 {
		t.Errorf("outcome lines %v, want %d succeeded", n, 17+2)
	}
}
