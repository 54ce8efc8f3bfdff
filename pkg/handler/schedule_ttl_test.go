package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
)

// TestScheduleTTL: a tick that ran is remembered across Lambda's async
// retry window by default, whatever the guard's own (shorter) TTL (issue
// 11: the 1 h default let a retry hours later run the tick again).
func TestScheduleTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		guardTTL time.Duration // idempotency.Config.TTL; 0: its default, 1 h
		ttl      time.Duration // ScheduleConfig.TTL
		after    time.Duration // when the second delivery comes
		wantRuns int
	}{
		{name: "default: a retry six hours later is a duplicate", after: 6*time.Hour + time.Minute, wantRuns: 1},
		{name: "default: a redelivery a day later is a duplicate", after: 30 * time.Hour, wantRuns: 1},
		{name: "default: forgotten after DefaultScheduleTTL", after: handler.DefaultScheduleTTL + time.Minute, wantRuns: 2},
		{name: "a longer guard TTL is kept", guardTTL: 72 * time.Hour, after: 60 * time.Hour, wantRuns: 1},
		{name: "an explicit TTL is used as is", guardTTL: 72 * time.Hour, ttl: 2 * time.Hour, after: 3 * time.Hour, wantRuns: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			guard := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), TTL: tt.guardTTL, Now: clock})
			runs := 0
			f := handler.MustNewSchedule(func(context.Context, handler.Tick) error { runs++; return nil },
				handler.ScheduleConfig{Idempotency: guard, TTL: tt.ttl, Now: clock})
			for _, after := range []time.Duration{0, tt.after} {
				now = now.Add(after)
				if _, err := f(context.Background(), json.RawMessage(ruleEvent)); err != nil {
					t.Fatal(err)
				}
			}
			if runs != tt.wantRuns {
				t.Errorf("the tick ran %d times, want %d", runs, tt.wantRuns)
			}
		})
	}
}

func TestScheduleTTLNegative(t *testing.T) {
	t.Parallel()
	_, err := handler.NewSchedule(func(context.Context, handler.Tick) error { return nil }, handler.ScheduleConfig{TTL: -time.Hour})
	if !errors.Is(err, handler.ErrConfig) {
		t.Errorf("error %v, want ErrConfig", err)
	}
}
