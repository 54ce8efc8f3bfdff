package handler_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/handler"
)

func ExamplePoller() {
	// A feed of seven items, three to a page; the cursor is an offset.
	items := []string{"a", "b", "c", "d", "e", "f", "g"}
	feed := handler.SourceFunc[string](func(_ context.Context, cursor string) (handler.Page[string], error) {
		from, _ := strconv.Atoi(cursor)
		to := min(from+3, len(items))
		return handler.Page[string]{Items: items[from:to], Next: strconv.Itoa(to), More: to < len(items)}, nil
	})
	p, err := handler.NewPoller[string](feed, handler.PollConfig[string]{
		Checkpoints: checkpoint.NewMemoryStore(checkpoint.MemoryConfig{}), // checkpoint.DynamoDBStore in Lambda
		Name:        "feed",
		Handle:      func(_ context.Context, it string) error { fmt.Print(it, " "); return nil },
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	res, _ := p.Poll(context.Background())
	fmt.Printf("\npages %d, items %d, cursor %s\n", res.Pages, res.Items, res.Cursor)

	items = append(items, "h") // the next tick reads only what is new
	p.Poll(context.Background())
	fmt.Println()
	// In Lambda: handler.Start(handler.MustNewPollSchedule(p, handler.ScheduleConfig{...}))
	// Output:
	// a b c d e f g
	// pages 3, items 7, cursor 7
	// h
}
