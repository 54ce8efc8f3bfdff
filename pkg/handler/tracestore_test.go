package handler_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/internal/spantest"
	"github.com/latchkit/latch/pkg/idempotency"
)

func TestTraceStore(t *testing.T) {
	t.Parallel()
	tr := &spantest.Recorder{}
	store := handler.TraceStore(idempotency.NewMemoryStore(), tr)
	guard, err := idempotency.NewGuard(idempotency.Config{Store: store, Namespace: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, record := tr.Start(context.Background(), handler.SpanRecord)
	run := func(id string, fail error) {
		_, _ = idempotency.Do(ctx, guard, idempotency.Key{ID: id}, func(context.Context) (int, error) { return 1, fail })
	}
	run("a", nil)                // claim, complete
	run("a", nil)                // claim answered by the completed record
	run("b", errors.New("boom")) // claim, release

	type span struct {
		Name, Op, HeldBy string
		Failed           bool
	}
	var got []span
	for _, s := range tr.Spans() {
		if s == record {
			continue
		}
		if s.Parent != record || !s.Ended {
			t.Errorf("span %s: not an ended child of the record span", s.Name)
		}
		held, _ := s.Annotations[handler.AnnotationHeldBy].(string)
		got = append(got, span{Name: s.Name, Op: s.Annotations[handler.AnnotationOperation].(string), HeldBy: held, Failed: s.Err != nil})
	}
	want := []span{
		{Name: "## idempotency.claim", Op: "claim"},
		{Name: "## idempotency.complete", Op: "complete"},
		{Name: "## idempotency.claim", Op: "claim", HeldBy: "COMPLETED"},
		{Name: "## idempotency.claim", Op: "claim"},
		{Name: "## idempotency.release", Op: "release"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("store spans (-want +got):\n%s", diff)
	}
}

// TestTraceStoreTransact: the traced store keeps Transact working, with a
// span for the commit.
func TestTraceStoreTransact(t *testing.T) {
	t.Parallel()
	tr := &spantest.Recorder{}
	store := handler.TraceStore(idempotency.NewMemoryStore(), tr)
	if _, ok := store.(idempotency.TxStore); !ok {
		t.Fatal("TraceStore hid TxStore")
	}
	// here commits, then answers its duplicate with a read; elsewhere, a
	// guard that has not seen the key, gets it from a cancelled commit.
	here := idempotency.MustNewGuard(idempotency.Config{Store: store, Namespace: "t"})
	elsewhere := idempotency.MustNewGuard(idempotency.Config{Store: store, Namespace: "t"})
	for _, guard := range []*idempotency.Guard{here, elsewhere, here} {
		if _, err := idempotency.Transact(context.Background(), guard, idempotency.Key{ID: "a"}, func(context.Context) (idempotency.Tx[int], error) {
			return idempotency.Tx[int]{Value: 1}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, s := range tr.Spans() {
		held, _ := s.Annotations[handler.AnnotationHeldBy].(string)
		got = append(got, s.Name+"/"+held)
	}
	want := []string{"## idempotency.commit_tx/", "## idempotency.commit_tx/COMPLETED", "## idempotency.get/COMPLETED"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
}

func TestTraceStoreWithoutTracer(t *testing.T) {
	t.Parallel()
	store := idempotency.NewMemoryStore()
	if got := handler.TraceStore(store, nil); got != idempotency.Store(store) {
		t.Error("TraceStore(store, nil) wrapped the store")
	}
	if got := handler.TraceStore(store, handler.NopTracer{}); got != idempotency.Store(store) {
		t.Error("TraceStore(store, NopTracer{}) wrapped the store")
	}
}
