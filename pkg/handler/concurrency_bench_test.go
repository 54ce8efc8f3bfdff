package handler_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/logging"
	"github.com/latchkit/latch/pkg/handler/metrics"
	"github.com/latchkit/latch/pkg/handler/telemetry"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest"
)

// discardWriter counts nothing and keeps nothing: the benchmark measures
// latch, not a buffer.
type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkManagedInstancesSQS is one process of Lambda Managed Instances
// at concurrency 1, 8 and 64: that many invocations at once, each a batch of
// ten new orders through one SQS processor with its guard on the memory
// store and full telemetry (logs and EMF to a discarding writer). records/s
// is the process's throughput; B/op and allocs/op are per invocation;
// heap-B/inflight is the live heap per invocation in flight, read while all
// of them wait in their record function.
func BenchmarkManagedInstancesSQS(b *testing.B) {
	for _, conc := range []int{1, 8, 64} {
		b.Run("memory/concurrency="+strconv.Itoa(conc), func(b *testing.B) {
			benchManagedInstances(b, conc, idempotency.NewMemoryStore(idempotency.MemoryConfig{}))
		})
	}
}

func benchManagedInstances(b *testing.B, conc int, store idempotency.Store) {
	guard := idempotency.MustNewGuard(idempotency.Config{Store: store, Namespace: "bench", CacheSize: 1024})
	logger := logging.NewLogger(logging.Config{Writer: discardWriter{}, Level: slog.LevelInfo, Service: "bench"})
	m, err := metrics.New(metrics.Config{Namespace: "latch-bench", Service: "bench", Writer: discardWriter{}})
	if err != nil {
		b.Fatal(err)
	}
	tel, err := telemetry.New(telemetry.Config{Logger: logger, Metrics: m})
	if err != nil {
		b.Fatal(err)
	}
	client := latchtest.NewSQS()
	client.AddQueue("orders", 3)
	// hold, when set, keeps every record function waiting, for the heap
	// reading.
	var hold atomic.Pointer[sync.WaitGroup]
	proc := handler.MustNewSQS(func(ctx context.Context, msg handler.Message[order]) error {
		if w := hold.Load(); w != nil {
			w.Wait()
		}
		return work(ctx, msg)
	}, handler.SQSConfig{Client: client, Idempotency: guard, Observer: tel, Logger: logger, Key: handler.KeyJSONField("order_id")})
	h := handler.EntryOfEnvironment(telemetry.Observe(tel, proc))
	var seq atomic.Int64
	batch := func() events.SQSEvent {
		n := seq.Add(1)
		var msgs []latchtest.Message
		for j := range 10 {
			msgs = append(msgs, latchtest.Message{ID: fmt.Sprintf("m-%d-%d", n, j), Body: fmt.Sprintf(`{"order_id":"o-%d-%d","amount":1}`, n, j)})
		}
		return latchtest.SQSEvent("orders", msgs...)
	}
	invoke := func(i int64) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "req-" + strconv.FormatInt(i, 10)})
		if _, err := h(ctx, batch()); err != nil {
			b.Error(err)
		}
	}

	heap := heapPerInFlight(conc, &hold, invoke)
	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				invoke(i)
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(heap, "heap-B/inflight")
}

// heapPerInFlight starts conc invocations that all wait in their first
// record function, reads the live heap against a baseline taken before,
// lets them go, and returns the difference per invocation.
func heapPerInFlight(conc int, hold *atomic.Pointer[sync.WaitGroup], invoke func(int64)) float64 {
	var gate sync.WaitGroup
	gate.Add(1)
	hold.Store(&gate)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var inside sync.WaitGroup
	var done sync.WaitGroup
	for i := range conc {
		inside.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			inside.Done()
			invoke(-int64(i) - 1)
		}()
	}
	inside.Wait()
	time.Sleep(50 * time.Millisecond) //nolint:forbidigo // lets each invocation reach its record function; a reading, not a test
	runtime.GC()
	runtime.ReadMemStats(&ms)
	inFlight := float64(ms.HeapAlloc) - float64(base)
	hold.Store(nil)
	gate.Done()
	done.Wait()
	return inFlight / float64(conc)
}
