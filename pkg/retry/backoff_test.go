package retry_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/latchkit/latch/pkg/retry"
)

func fixed(v float64) func() float64 { return func() float64 { return v } }

func TestBackoffGrowth(t *testing.T) {
	t.Parallel()
	plain := errors.New("boom")
	noJitter := retry.Backoff{Base: time.Second, Max: time.Minute, Jitter: -1}
	tests := []struct {
		name    string
		b       retry.Backoff
		attempt int
		want    time.Duration
	}{
		{name: "first attempt is base", b: noJitter, attempt: 1, want: time.Second},
		{name: "second doubles", b: noJitter, attempt: 2, want: 2 * time.Second},
		{name: "sixth", b: noJitter, attempt: 6, want: 32 * time.Second},
		{name: "seventh hits max", b: noJitter, attempt: 7, want: time.Minute},
		{name: "far past max stays at max", b: noJitter, attempt: 50, want: time.Minute},
		{name: "huge attempt does not overflow", b: noJitter, attempt: 1 << 30, want: time.Minute},
		{name: "zero attempt is treated as first", b: noJitter, attempt: 0, want: time.Second},
		{name: "negative attempt is treated as first", b: noJitter, attempt: -3, want: time.Second},
		{name: "base above max is max", b: retry.Backoff{Base: time.Hour, Max: time.Minute, Jitter: -1}, attempt: 1, want: time.Minute},
		{name: "max above twelve hours is twelve hours", b: retry.Backoff{Base: time.Hour, Max: 48 * time.Hour, Jitter: -1}, attempt: 20, want: retry.MaxDelay},
		{name: "zero value defaults", b: retry.Backoff{Rand: fixed(0)}, attempt: 1, want: retry.DefaultBase},
		{name: "zero value defaults cap", b: retry.Backoff{Rand: fixed(0)}, attempt: 40, want: retry.DefaultMax},
		{name: "default jitter takes up to a quarter", b: retry.Backoff{Base: 4 * time.Second, Rand: fixed(0.5)}, attempt: 1, want: 3500 * time.Millisecond},
		{name: "jitter one takes the drawn share", b: retry.Backoff{Base: time.Second, Jitter: 1, Rand: fixed(0.5)}, attempt: 1, want: 500 * time.Millisecond},
		{name: "jitter above one is one", b: retry.Backoff{Base: time.Second, Jitter: 7, Rand: fixed(0.5)}, attempt: 1, want: 500 * time.Millisecond},
		{name: "jitter applies after the cap", b: retry.Backoff{Base: time.Second, Max: 10 * time.Second, Jitter: 0.5, Rand: fixed(0.5)}, attempt: 10, want: 7500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.b.Delay(plain, tt.attempt); got != tt.want {
				t.Errorf("Delay(attempt %d) = %v, want %v", tt.attempt, got, tt.want)
			}
		})
	}
}

// TestBackoffBounds draws many delays with the real random source and checks
// each lies in [d·(1-jitter), d] for the un-jittered d, and that the policy
// never goes down from one attempt's upper bound to the next.
func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	b := retry.Backoff{Base: 2 * time.Second, Max: 10 * time.Minute, Jitter: 0.3, Rand: r.Float64}
	exact := b
	exact.Jitter = -1
	prev := time.Duration(0)
	for attempt := 1; attempt <= 30; attempt++ {
		hi := exact.Delay(nil, attempt)
		if hi < prev {
			t.Fatalf("attempt %d: bound %v below previous %v", attempt, hi, prev)
		}
		prev = hi
		lo := time.Duration(float64(hi) * 0.7)
		for range 200 {
			d := b.Delay(nil, attempt)
			if d < lo || d > hi {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", attempt, d, lo, hi)
			}
		}
	}
	if prev != 10*time.Minute {
		t.Errorf("policy never reached its max: %v", prev)
	}
}

func TestBackoffErrorDelays(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b := retry.Backoff{Base: time.Second, Max: time.Minute, Rand: fixed(0.9), Now: func() time.Time { return now }}
	plain := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{name: "retry at in the future, not jittered, not capped by max", err: lockErr{at: now.Add(90 * time.Second)}, want: 90 * time.Second},
		{name: "retry at wrapped", err: errors.Join(plain, lockErr{at: now.Add(time.Second)}), want: time.Second},
		{name: "retry at in the past is now", err: lockErr{at: now.Add(-time.Hour)}, want: 0},
		{name: "retry at beyond twelve hours", err: lockErr{at: now.Add(13 * time.Hour)}, want: retry.MaxDelay},
		{name: "after", err: retry.After(42*time.Second, plain), want: 42 * time.Second},
		{name: "after beats retry at", err: retry.After(3*time.Second, lockErr{at: now.Add(time.Hour)}), want: 3 * time.Second},
		{name: "negative after", err: retry.After(-time.Second, plain), want: 0},
		{name: "after beyond twelve hours", err: retry.After(24*time.Hour, plain), want: retry.MaxDelay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := b.Delay(tt.err, 5); got != tt.want {
				t.Errorf("Delay = %v, want %v", got, tt.want)
			}
		})
	}
}
