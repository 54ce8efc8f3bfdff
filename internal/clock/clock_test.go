package clock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/latchkit/latch/internal/clock"
)

func TestSleep(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want error
	}{
		{name: "elapses", ctx: context.Background(), d: time.Millisecond, want: nil},
		{name: "nothing to wait", ctx: context.Background(), d: 0, want: nil},
		{name: "negative", ctx: context.Background(), d: -time.Second, want: nil},
		{name: "cancelled cuts an hour short", ctx: cancelled, d: time.Hour, want: context.Canceled},
		{name: "cancelled with nothing to wait", ctx: cancelled, d: 0, want: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := clock.Sleep(tt.ctx, tt.d); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Sleep = %v, want %v", err, tt.want)
			}
		})
	}
}
