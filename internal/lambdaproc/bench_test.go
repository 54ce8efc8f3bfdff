package lambdaproc_test

import (
	"context"
	"io"
	"testing"

	"github.com/latchkit/latch/internal/lambdaproc"
)

// BenchmarkInvokeWarm is the cost of one invocation on a warm environment:
// the Runtime API round trip through a real aws-lambda-go process.
func BenchmarkInvokeWarm(b *testing.B) {
	fn, err := lambdaproc.New(lambdaproc.Config{Name: "bench", Binary: fnBinary, Output: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer fn.Stop()
	ctx := context.Background()
	if err := fn.Warm(ctx); err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"keys":["AWS_REGION"]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fn.Invoke(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInvokeParallel runs invocations from many goroutines over a pool
// of two environments.
func BenchmarkInvokeParallel(b *testing.B) {
	fn, err := lambdaproc.New(lambdaproc.Config{Name: "bench", Binary: fnBinary, Output: io.Discard, MaxConcurrency: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer fn.Stop()
	payload := []byte(`{"keys":["AWS_REGION"]}`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := fn.Invoke(context.Background(), payload); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
