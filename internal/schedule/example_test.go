package schedule_test

import (
	"fmt"
	"time"

	"github.com/latchkit/latch/internal/schedule"
)

func Example() {
	s, err := schedule.Parse("cron(0 3 ? * MON-FRI *)")
	if err != nil {
		panic(err)
	}
	after := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) // a Friday
	for _, t := range schedule.NextN(s, after, 3) {
		fmt.Println(t.Format(time.RFC1123))
	}

	_, err = schedule.Parse("cron(0 3 * * 8 *)")
	fmt.Println(err)
	// Output:
	// Mon, 30 Nov 2026 03:00:00 UTC
	// Tue, 01 Dec 2026 03:00:00 UTC
	// Wed, 02 Dec 2026 03:00:00 UTC
	// schedule "cron(0 3 * * 8 *)": day-of-week field: 8 is out of range 1-7
}
