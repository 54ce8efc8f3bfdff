package retry_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/latchkit/latch/pkg/retry"
)

func ExampleClassify() {
	declined := retry.Permanent(errors.New("card declined"))
	flaky := errors.New("connection reset by peer")
	fmt.Println(retry.Classify(fmt.Errorf("charge order 7: %w", declined)))
	fmt.Println(retry.Classify(flaky))
	// Output:
	// permanent
	// retryable
}

func ExampleBackoff_Delay() {
	b := retry.Backoff{Base: 10 * time.Second, Max: time.Minute, Jitter: -1}
	for attempt := 1; attempt <= 4; attempt++ {
		fmt.Println(attempt, b.Delay(errors.New("timeout"), attempt))
	}
	fmt.Println("asked", b.Delay(retry.After(2*time.Hour, errors.New("rate limited")), 1))
	// Output:
	// 1 10s
	// 2 20s
	// 3 40s
	// 4 1m0s
	// asked 2h0m0s
}
