package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchkit/latch/pkg/idempotency"
)

type receipt struct {
	OrderID string `json:"order_id"`
	Charged int    `json:"charged"`
}

// A message delivered twice charges once; the duplicate gets the first
// receipt back.
func ExampleDo() {
	guard := idempotency.MustNewGuard(idempotency.Config{
		Store:     idempotency.NewMemoryStore(idempotency.MemoryConfig{}), // idempotency.NewDynamoDBStore in production
		Namespace: "payments",
	})
	charges := 0
	charge := func(orderID string, amount int) (idempotency.Result[receipt], error) {
		key := idempotency.Key{ID: orderID, Payload: fmt.Appendf(nil, "%d", amount)}
		return idempotency.Do(context.Background(), guard, key, func(context.Context) (receipt, error) {
			charges++
			return receipt{OrderID: orderID, Charged: amount}, nil
		})
	}

	for range 2 {
		res, err := charge("order-42", 500)
		fmt.Printf("%+v replayed=%t err=%v\n", res.Value, res.Replayed, err)
	}
	_, err := charge("order-42", 700)
	fmt.Println("same key, other amount:", errors.Is(err, idempotency.ErrPayloadMismatch))
	fmt.Println("charges:", charges)
	// Output:
	// {OrderID:order-42 Charged:500} replayed=false err=<nil>
	// {OrderID:order-42 Charged:500} replayed=true err=<nil>
	// same key, other amount: true
	// charges: 1
}

// While the first call still runs, a concurrent duplicate is told when the
// first call's lock dies, which is when a retry can take over.
func ExampleInProgressError() {
	guard := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), MaxLock: 30 * time.Second})
	key := idempotency.Key{ID: "tick-2026-03-01T12:00"}
	_, _ = idempotency.Do(context.Background(), guard, key, func(ctx context.Context) (int, error) {
		_, err := idempotency.Do(ctx, guard, key, func(context.Context) (int, error) { return 0, nil })
		var ip *idempotency.InProgressError
		if errors.As(err, &ip) {
			fmt.Println("in progress; retry in about", time.Until(ip.RetryAt()).Round(10*time.Second))
		}
		return 1, nil
	})
	// Output:
	// in progress; retry in about 30s
}

// Wrap guards a whole-event handler; the key comes from the event.
func ExampleWrap() {
	type event struct{ ID, Body string }
	guard := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{})})
	handle := idempotency.Wrap(guard,
		func(e event) (idempotency.Key, error) { return idempotency.Key{ID: e.ID}, nil },
		func(_ context.Context, e event) (string, error) {
			fmt.Println("handling", e.ID)
			return "handled " + e.Body, nil
		})
	for range 2 {
		out, err := handle(context.Background(), event{ID: "evt-1", Body: "hello"})
		fmt.Println(out, err)
	}
	// Output:
	// handling evt-1
	// handled hello <nil>
	// handled hello <nil>
}
