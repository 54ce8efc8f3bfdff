package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
)

var emfUnits = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true,
	"Megabytes": true, "Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true,
	"Megabits": true, "Gigabits": true, "Terabits": true, "Percent": true, "Count": true,
	"Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true, "Gigabytes/Second": true,
	"Terabytes/Second": true, "Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true,
	"Gigabits/Second": true, "Terabits/Second": true, "Count/Second": true, "None": true,
}

// checkEMF checks one blob against the structure the CloudWatch embedded
// metric format specification requires, and returns its metric values by
// name (a number, or a list of numbers).
//
//   - the root is a JSON object with an "_aws" member: an object with
//     Timestamp (a number, epoch milliseconds) and CloudWatchMetrics (an
//     array of directives);
//   - a directive has Namespace (a non-empty string), Dimensions (an array
//     of dimension sets: arrays of at most 30 names, each naming a
//     top-level string member) and Metrics (at most 100 definitions, each
//     with a Name naming a top-level number or array of at most 100
//     numbers, and an optional Unit from CloudWatch's list).
func checkEMF(t *testing.T, blob []byte) (namespace string, dims map[string]string, values map[string]any) {
	t.Helper()
	if bytes.ContainsAny(blob, "\n") {
		t.Fatalf("blob spans lines: %s", blob)
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(blob, &root); err != nil {
		t.Fatalf("blob is not a JSON object: %v\n%s", err, blob)
	}
	var meta struct {
		Timestamp         *json.Number
		CloudWatchMetrics []struct {
			Namespace  *string
			Dimensions *[][]string
			Metrics    *[]struct {
				Name *string
				Unit *string
			}
		}
	}
	rawMeta, ok := root["_aws"]
	if !ok {
		t.Fatalf("no _aws member: %s", blob)
	}
	dec := json.NewDecoder(bytes.NewReader(rawMeta))
	dec.UseNumber()
	if err := dec.Decode(&meta); err != nil {
		t.Fatalf("_aws: %v", err)
	}
	if meta.Timestamp == nil {
		t.Fatalf("_aws.Timestamp missing: %s", blob)
	}
	if _, err := meta.Timestamp.Int64(); err != nil {
		t.Fatalf("_aws.Timestamp %v is not integer milliseconds", *meta.Timestamp)
	}
	if len(meta.CloudWatchMetrics) == 0 {
		t.Fatalf("_aws.CloudWatchMetrics empty: %s", blob)
	}
	str := func(name string) (string, bool) {
		var s string
		raw, ok := root[name]
		return s, ok && json.Unmarshal(raw, &s) == nil
	}
	dims, values = map[string]string{}, map[string]any{}
	for _, d := range meta.CloudWatchMetrics {
		if d.Namespace == nil || *d.Namespace == "" {
			t.Fatalf("directive without Namespace: %s", blob)
		}
		namespace = *d.Namespace
		if d.Dimensions == nil || d.Metrics == nil {
			t.Fatalf("directive without Dimensions or Metrics: %s", blob)
		}
		for _, set := range *d.Dimensions {
			if len(set) > 30 {
				t.Fatalf("dimension set of %d > 30", len(set))
			}
			for _, name := range set {
				v, ok := str(name)
				if !ok {
					t.Fatalf("dimension %q is not a top-level string member: %s", name, blob)
				}
				dims[name] = v
			}
		}
		if n := len(*d.Metrics); n > 100 || n == 0 {
			t.Fatalf("%d metric definitions, want 1..100", n)
		}
		for _, m := range *d.Metrics {
			if m.Name == nil || *m.Name == "" {
				t.Fatalf("metric definition without Name: %s", blob)
			}
			if m.Unit != nil && !emfUnits[*m.Unit] {
				t.Fatalf("metric %q: unit %q is not a CloudWatch unit", *m.Name, *m.Unit)
			}
			raw, ok := root[*m.Name]
			if !ok {
				t.Fatalf("metric %q has no top-level value: %s", *m.Name, blob)
			}
			var one float64
			var many []float64
			switch {
			case json.Unmarshal(raw, &one) == nil:
				values[*m.Name] = one
			case json.Unmarshal(raw, &many) == nil:
				if len(many) > 100 || len(many) == 0 {
					t.Fatalf("metric %q: %d values, want 1..100", *m.Name, len(many))
				}
				values[*m.Name] = many
			default:
				t.Fatalf("metric %q value %s is not a number or a list of numbers", *m.Name, raw)
			}
		}
	}
	return namespace, dims, values
}

func emfBlobs(t *testing.T, buf *bytes.Buffer) [][]byte {
	t.Helper()
	var out [][]byte
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}

func TestMetricSetEncode(t *testing.T) {
	t.Parallel()
	set, err := handler.NewMetricSet("shop", handler.Dimension{Name: "service", Value: "orders"}, handler.Dimension{Name: "stage", Value: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(set.Add("succeeded", handler.UnitCount, 1))
	must(set.Add("succeeded", handler.UnitCount, 2))
	must(set.Put("Latency", handler.UnitMilliseconds, 12.5))
	must(set.Put("Latency", handler.UnitMilliseconds, 7))
	must(set.Put("Odd \"name\"", "", 1))
	must(set.SetProperty("request_id", "r-1"))

	blobs := set.Encode(testEpoch)
	if len(blobs) != 1 {
		t.Fatalf("%d blobs, want 1", len(blobs))
	}
	ns, dims, values := checkEMF(t, blobs[0])
	if ns != "shop" {
		t.Errorf("namespace %q", ns)
	}
	if diff := cmp.Diff(map[string]string{"service": "orders", "stage": "prod"}, dims); diff != "" {
		t.Errorf("dimensions (-want +got):\n%s", diff)
	}
	want := map[string]any{"succeeded": 3.0, "Latency": []float64{12.5, 7}, `Odd "name"`: 1.0}
	if diff := cmp.Diff(want, values); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	var root map[string]any
	_ = json.Unmarshal(blobs[0], &root)
	if root["request_id"] != "r-1" {
		t.Errorf("request_id property = %v", root["request_id"])
	}
	if ts := root["_aws"].(map[string]any)["Timestamp"]; ts != float64(testEpoch.UnixMilli()) {
		t.Errorf("Timestamp = %v, want %d", ts, testEpoch.UnixMilli())
	}
}

func TestMetricSetSplitsAtLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		metrics   int
		samples   int
		wantBlobs int
	}{
		{name: "100 metrics fit one blob", metrics: 100, samples: 1, wantBlobs: 1},
		{name: "101 metrics need two", metrics: 101, samples: 1, wantBlobs: 2},
		{name: "250 metrics need three", metrics: 250, samples: 1, wantBlobs: 3},
		{name: "100 samples fit one value list", metrics: 1, samples: 100, wantBlobs: 1},
		{name: "230 samples need three lists", metrics: 1, samples: 230, wantBlobs: 3},
		{name: "both", metrics: 150, samples: 101, wantBlobs: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, _ := handler.NewMetricSet("ns", handler.Dimension{Name: "service", Value: "s"})
			for m := range tt.metrics {
				for s := range tt.samples {
					if err := set.Put(fmt.Sprintf("m%03d", m), handler.UnitCount, float64(s)); err != nil {
						t.Fatal(err)
					}
				}
			}
			blobs := set.Encode(testEpoch)
			if len(blobs) != tt.wantBlobs {
				t.Fatalf("%d blobs, want %d", len(blobs), tt.wantBlobs)
			}
			// Every sample of every metric is in exactly one blob.
			sum := map[string]int{}
			for _, b := range blobs {
				_, _, values := checkEMF(t, b)
				for name, v := range values {
					switch v := v.(type) {
					case float64:
						sum[name]++
					case []float64:
						sum[name] += len(v)
					}
				}
			}
			if len(sum) != tt.metrics {
				t.Errorf("%d metrics across blobs, want %d", len(sum), tt.metrics)
			}
			for name, n := range sum {
				if n != tt.samples {
					t.Errorf("metric %s: %d samples across blobs, want %d", name, n, tt.samples)
				}
			}
		})
	}
}

func TestMetricSetRejects(t *testing.T) {
	t.Parallel()
	dims31 := make([]handler.Dimension, 31)
	for i := range dims31 {
		dims31[i] = handler.Dimension{Name: fmt.Sprint("d", i), Value: "v"}
	}
	tests := []struct {
		name string
		do   func() error
	}{
		{name: "empty namespace", do: func() error { _, err := handler.NewMetricSet(""); return err }},
		{name: "AWS namespace", do: func() error { _, err := handler.NewMetricSet("AWS/Lambda"); return err }},
		{name: "31 dimensions", do: func() error { _, err := handler.NewMetricSet("ns", dims31...); return err }},
		{name: "empty dimension value", do: func() error {
			_, err := handler.NewMetricSet("ns", handler.Dimension{Name: "service"})
			return err
		}},
		{name: "duplicate dimension", do: func() error {
			_, err := handler.NewMetricSet("ns", handler.Dimension{Name: "a", Value: "1"}, handler.Dimension{Name: "a", Value: "2"})
			return err
		}},
		{name: "unknown unit", do: func() error { return newSet(t).Put("m", "Furlongs", 1) }},
		{name: "NaN", do: func() error { return newSet(t).Put("m", handler.UnitCount, math.NaN()) }},
		{name: "infinity", do: func() error { return newSet(t).Put("m", handler.UnitCount, math.Inf(1)) }},
		{name: "reserved name", do: func() error { return newSet(t).Put("_aws", handler.UnitCount, 1) }},
		{name: "long name", do: func() error { return newSet(t).Put(strings.Repeat("x", 256), handler.UnitCount, 1) }},
		{name: "metric named like a dimension", do: func() error { return newSet(t).Put("service", handler.UnitCount, 1) }},
		{name: "unit changes", do: func() error {
			s := newSet(t)
			_ = s.Put("m", handler.UnitCount, 1)
			return s.Put("m", handler.UnitSeconds, 1)
		}},
		{name: "put then add", do: func() error {
			s := newSet(t)
			_ = s.Put("m", handler.UnitCount, 1)
			return s.Add("m", handler.UnitCount, 1)
		}},
		{name: "property named like a metric", do: func() error {
			s := newSet(t)
			_ = s.Put("m", handler.UnitCount, 1)
			return s.SetProperty("m", "x")
		}},
		{name: "metric named like a property", do: func() error {
			s := newSet(t)
			_ = s.SetProperty("request_id", "x")
			return s.Put("request_id", handler.UnitCount, 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.do(); !errors.Is(err, handler.ErrInvalidMetric) {
				t.Errorf("err = %v, want ErrInvalidMetric", err)
			}
		})
	}
}

func newSet(t *testing.T) *handler.MetricSet {
	t.Helper()
	s, err := handler.NewMetricSet("ns", handler.Dimension{Name: "service", Value: "s"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMetricSetConcurrentAdds(t *testing.T) {
	t.Parallel()
	s := newSet(t)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { _ = s.Add("succeeded", handler.UnitCount, 1) })
	}
	wg.Wait()
	_, _, values := checkEMF(t, s.Encode(testEpoch)[0])
	if values["succeeded"] != 50.0 {
		t.Errorf("succeeded = %v, want 50", values["succeeded"])
	}
}

func TestNewMetricsDefaults(t *testing.T) {
	// Not parallel: it sets environment variables.
	tests := []struct {
		name          string
		env           map[string]string
		cfg           handler.MetricsConfig
		wantNamespace string
		wantService   string
		wantErr       bool
	}{
		{name: "nothing set", wantNamespace: "latch", wantService: "latch"},
		{name: "environment", env: map[string]string{"LATCH_METRICS_NAMESPACE": "Shop", "LATCH_SERVICE": "orders"}, wantNamespace: "Shop", wantService: "orders"},
		{name: "function name as service", env: map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "orders-fn"}, wantNamespace: "latch", wantService: "orders-fn"},
		{name: "config wins", env: map[string]string{"LATCH_METRICS_NAMESPACE": "Shop", "LATCH_SERVICE": "orders"}, cfg: handler.MetricsConfig{Namespace: "Mine", Service: "me"}, wantNamespace: "Mine", wantService: "me"},
		{name: "bad namespace from env", env: map[string]string{"LATCH_METRICS_NAMESPACE": "AWS/Lambda"}, wantErr: true},
		{name: "too many dimensions", cfg: handler.MetricsConfig{Dimensions: make([]handler.Dimension, 30)}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"LATCH_METRICS_NAMESPACE", "LATCH_SERVICE", "AWS_LAMBDA_FUNCTION_NAME"} {
				t.Setenv(k, tt.env[k])
			}
			var buf bytes.Buffer
			cfg := tt.cfg
			cfg.Writer = &buf
			m, err := handler.NewMetrics(cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewMetrics error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			set := m.NewSet()
			_ = set.Add("x", handler.UnitCount, 1)
			if err := m.Flush(set); err != nil {
				t.Fatal(err)
			}
			ns, dims, _ := checkEMF(t, emfBlobs(t, &buf)[0])
			if ns != tt.wantNamespace || dims["service"] != tt.wantService {
				t.Errorf("namespace %q service %q, want %q %q", ns, dims["service"], tt.wantNamespace, tt.wantService)
			}
		})
	}
}

// TestObserveFlushesOneBlob checks the invocation blob: the counts per
// outcome, HandlerDuration and ColdStart, written once at the end whether
// the handler returns, fails or panics.
func TestObserveFlushesOneBlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cold      bool
		outcomes  []handler.Outcome
		fail      error
		panics    bool
		wantCount map[string]any
	}{
		{
			name:      "warm batch",
			outcomes:  []handler.Outcome{handler.Succeeded, handler.Succeeded, handler.Duplicate, handler.RetryScheduled, handler.DeadLettered},
			wantCount: map[string]any{"succeeded": 2.0, "duplicate": 1.0, "retry_scheduled": 1.0, "dead_lettered": 1.0},
		},
		{
			name:      "cold start",
			cold:      true,
			outcomes:  []handler.Outcome{handler.Failed},
			wantCount: map[string]any{"failed": 1.0, "ColdStart": 1.0},
		},
		{
			name:      "handler fails",
			outcomes:  []handler.Outcome{handler.Succeeded},
			fail:      errors.New("batch failed"),
			wantCount: map[string]any{"succeeded": 1.0},
		},
		{
			name:      "handler panics",
			outcomes:  []handler.Outcome{handler.Succeeded},
			panics:    true,
			wantCount: map[string]any{"succeeded": 1.0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var emf bytes.Buffer
			tel := newTelemetryWith(t, slog.New(slog.DiscardHandler), &emf, handler.NopTracer{}, false)
			f := handler.Chain(func(ctx context.Context, n int) (int, error) {
				for _, o := range tt.outcomes {
					rctx := tel.RecordStarted(ctx, handler.Record{ID: "m"})
					tel.RecordFinished(rctx, handler.Report{Outcome: o})
				}
				if tt.panics {
					panic("kaboom")
				}
				return n, tt.fail
			}, handler.Observe[int, int](tel))
			ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "req-5", ColdStart: tt.cold})
			func() {
				defer func() {
					if p := recover(); (p != nil) != tt.panics {
						t.Errorf("panic = %v, want panic %v", p, tt.panics)
					}
				}()
				if _, err := f(ctx, 1); !errors.Is(err, tt.fail) {
					t.Errorf("err = %v, want %v", err, tt.fail)
				}
			}()
			blobs := emfBlobs(t, &emf)
			if len(blobs) != 1 {
				t.Fatalf("%d blobs, want exactly 1:\n%s", len(blobs), emf.String())
			}
			_, dims, values := checkEMF(t, blobs[0])
			if dims["service"] != "svc" {
				t.Errorf("service dimension = %q", dims["service"])
			}
			// The telemetry clock steps 5ms per reading: start and end.
			want := map[string]any{"HandlerDuration": 5.0}
			for k, v := range tt.wantCount {
				want[k] = v
			}
			if diff := cmp.Diff(want, values); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			var root map[string]any
			_ = json.Unmarshal(blobs[0], &root)
			if root["request_id"] != "req-5" {
				t.Errorf("request_id = %v", root["request_id"])
			}
		})
	}
}

func TestRecordWithoutObserveFlushesItsOwnBlob(t *testing.T) {
	t.Parallel()
	var emf bytes.Buffer
	tel := newTelemetryWith(t, slog.New(slog.DiscardHandler), &emf, handler.NopTracer{}, false)
	ctx := tel.RecordStarted(context.Background(), handler.Record{ID: "m"})
	tel.RecordFinished(ctx, handler.Report{Outcome: handler.DeadLettered})
	blobs := emfBlobs(t, &emf)
	if len(blobs) != 1 {
		t.Fatalf("%d blobs, want 1", len(blobs))
	}
	if _, _, v := checkEMF(t, blobs[0]); v["dead_lettered"] != 1.0 {
		t.Errorf("values = %v", v)
	}
}

func ExampleMetricSet() {
	set, _ := handler.NewMetricSet("shop", handler.Dimension{Name: "service", Value: "orders"})
	_ = set.Add("OrdersShipped", handler.UnitCount, 2)
	_ = set.Put("ShipLatency", handler.UnitMilliseconds, 180)
	for _, blob := range set.Encode(time.UnixMilli(1772366400000)) {
		fmt.Println(string(blob))
	}
	// Output: {"_aws":{"Timestamp":1772366400000,"CloudWatchMetrics":[{"Namespace":"shop","Dimensions":[["service"]],"Metrics":[{"Name":"OrdersShipped","Unit":"Count"},{"Name":"ShipLatency","Unit":"Milliseconds"}]}]},"service":"orders","OrdersShipped":2,"ShipLatency":180}
}
