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

func TestTraceRoot(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, header, want string }{
		{name: "lambda header", header: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", want: "1-5759e988-bd862e3fe1be46a994272793"},
		{name: "root not first", header: "Parent=53995c3f42cd8ad8; Root=1-abc;Sampled=0", want: "1-abc"},
		{name: "empty", header: "", want: ""},
		{name: "no root", header: "Parent=1;Sampled=1", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := traceRoot(tt.header); got != tt.want {
				t.Errorf("traceRoot(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}
