package handler

import (
	"context"
	"sync"
	"testing"
)

func TestColdStartTakenOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		provisioned bool
		want        []bool
	}{
		{name: "on-demand environment", want: []bool{true, false, false}},
		{name: "provisioned concurrency", provisioned: true, want: []bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &coldStart{provisioned: tt.provisioned}
			for i, want := range tt.want {
				if got := c.take(); got != want {
					t.Errorf("take #%d = %v, want %v", i+1, got, want)
				}
			}
		})
	}
}

func TestColdStartConcurrentInvocations(t *testing.T) {
	t.Parallel()
	// With AWS_LAMBDA_MAX_CONCURRENCY > 1 several requests run at once in
	// one environment: exactly one of them is the cold one.
	c := &coldStart{}
	f := Chain(func(ctx context.Context, _ int) (bool, error) {
		inv, _ := InvocationFromContext(ctx)
		return inv.ColdStart, nil
	}, withInvocation[int, bool](c))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		cold int
	)
	for i := range 16 {
		wg.Go(func() {
			got, _ := f(context.Background(), i)
			if got {
				mu.Lock()
				cold++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if cold != 1 {
		t.Errorf("%d cold invocations, want 1", cold)
	}
}
