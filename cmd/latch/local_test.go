package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/latchkit/latch/internal/local"
)

func TestPrintInFlight(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 17, 53, 30, 0, time.UTC)
	for _, tc := range []struct {
		name string
		left []local.InFlight
		want string
	}{
		{name: "nothing", want: "latch local: nothing left in flight\n"},
		{name: "two queues", left: []local.InFlight{
			{Function: "LedgerFunction", QueueURL: "http://127.0.0.1:5000/123456789012/svc-LedgerQueue.fifo", Messages: 10, Batches: 1, Due: now.Add(28 * time.Second)},
			{Function: "OrderWorker", QueueURL: "http://127.0.0.1:5000/123456789012/svc-OrdersQueue", Messages: 7, Batches: 2, Due: now.Add(90 * time.Second)},
		}, want: "latch local: svc-LedgerQueue.fifo (LedgerFunction): 10 message(s) of 1 batch(es) left in flight; visible again by " +
			now.Add(28*time.Second).Local().Format("15:04:05") + " (in 28s, the queue's visibility timeout; sooner or later where the function set a retry delay)\n" +
			"latch local: svc-OrdersQueue (OrderWorker): 7 message(s) of 2 batch(es) left in flight; visible again by " +
			now.Add(90*time.Second).Local().Format("15:04:05") + " (in 1m30s, the queue's visibility timeout; sooner or later where the function set a retry delay)\n"},
		{name: "more on the queue than the runner saw", left: []local.InFlight{
			{Function: "OrderWorker", QueueURL: "http://127.0.0.1:5000/123456789012/svc-OrdersQueue", Messages: 24, Batches: 3, Unseen: 16, Due: now.Add(30 * time.Second)},
		}, want: "latch local: svc-OrdersQueue (OrderWorker): 40 message(s) left in flight: 24 of 3 batch(es) this run received, 16 handed out to receives the stop cut short (or to another consumer); visible again by " +
			now.Add(30*time.Second).Local().Format("15:04:05") + " (in 30s, the queue's visibility timeout; sooner or later where the function set a retry delay)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			printInFlight(&Env{Stdout: &out, Now: func() time.Time { return now }}, tc.left)
			if out.String() != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", out.String(), tc.want)
			}
		})
	}
}
