package checkpoint_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchkit/latch/pkg/checkpoint"
)

func ExampleMemoryStore() {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	store := checkpoint.NewMemoryStore(checkpoint.MemoryConfig{Now: func() time.Time { return now }})

	a, _ := store.Acquire(ctx, "feed", time.Minute)
	_, err := store.Acquire(ctx, "feed", time.Minute)
	fmt.Println("second holder held off:", errors.Is(err, checkpoint.ErrHeld))

	a, _ = store.Commit(ctx, a, checkpoint.Position{Cursor: "page-2"})
	fmt.Println("cursor:", a.Cursor, "version:", a.Version)

	now = now.Add(2 * time.Minute) // a stalls past its lease; b takes over
	b, _ := store.Acquire(ctx, "feed", time.Minute)
	_, err = store.Commit(ctx, a, checkpoint.Position{Cursor: "page-3"})
	fmt.Println("stale commit:", err)
	fmt.Println("new holder resumes at:", b.Cursor)
	// Output:
	// second holder held off: true
	// cursor: page-2 version: 1
	// stale commit: checkpoint: lease lost
	// new holder resumes at: page-2
}
