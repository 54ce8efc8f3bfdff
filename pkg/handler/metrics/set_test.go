package metrics_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler/internal/emftest"
	"github.com/latchkit/latch/pkg/handler/metrics"
)

func TestSetEncode(t *testing.T) {
	t.Parallel()
	set, err := metrics.NewSet("shop", metrics.Dimension{Name: "service", Value: "orders"}, metrics.Dimension{Name: "stage", Value: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(set.Add("succeeded", metrics.UnitCount, 1))
	must(set.Add("succeeded", metrics.UnitCount, 2))
	must(set.Put("Latency", metrics.UnitMilliseconds, 12.5))
	must(set.Put("Latency", metrics.UnitMilliseconds, 7))
	must(set.Put("Odd \"name\"", "", 1))
	must(set.SetProperty("request_id", "r-1"))

	blobs := set.Encode(testEpoch)
	if len(blobs) != 1 {
		t.Fatalf("%d blobs, want 1", len(blobs))
	}
	ns, dims, values := emftest.Check(t, blobs[0])
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

func TestSetSplitsAtLimits(t *testing.T) {
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
			set, _ := metrics.NewSet("ns", metrics.Dimension{Name: "service", Value: "s"})
			for m := range tt.metrics {
				for s := range tt.samples {
					if err := set.Put(fmt.Sprintf("m%03d", m), metrics.UnitCount, float64(s)); err != nil {
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
				_, _, values := emftest.Check(t, b)
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

func TestSetRejects(t *testing.T) {
	t.Parallel()
	dims31 := make([]metrics.Dimension, 31)
	for i := range dims31 {
		dims31[i] = metrics.Dimension{Name: fmt.Sprint("d", i), Value: "v"}
	}
	tests := []struct {
		name string
		do   func() error
	}{
		{name: "empty namespace", do: func() error { _, err := metrics.NewSet(""); return err }},
		{name: "AWS namespace", do: func() error { _, err := metrics.NewSet("AWS/Lambda"); return err }},
		{name: "31 dimensions", do: func() error { _, err := metrics.NewSet("ns", dims31...); return err }},
		{name: "empty dimension value", do: func() error {
			_, err := metrics.NewSet("ns", metrics.Dimension{Name: "service"})
			return err
		}},
		{name: "duplicate dimension", do: func() error {
			_, err := metrics.NewSet("ns", metrics.Dimension{Name: "a", Value: "1"}, metrics.Dimension{Name: "a", Value: "2"})
			return err
		}},
		{name: "unknown unit", do: func() error { return newSet(t).Put("m", "Furlongs", 1) }},
		{name: "NaN", do: func() error { return newSet(t).Put("m", metrics.UnitCount, math.NaN()) }},
		{name: "infinity", do: func() error { return newSet(t).Put("m", metrics.UnitCount, math.Inf(1)) }},
		{name: "reserved name", do: func() error { return newSet(t).Put("_aws", metrics.UnitCount, 1) }},
		{name: "long name", do: func() error { return newSet(t).Put(strings.Repeat("x", 256), metrics.UnitCount, 1) }},
		{name: "metric named like a dimension", do: func() error { return newSet(t).Put("service", metrics.UnitCount, 1) }},
		{name: "unit changes", do: func() error {
			s := newSet(t)
			_ = s.Put("m", metrics.UnitCount, 1)
			return s.Put("m", metrics.UnitSeconds, 1)
		}},
		{name: "put then add", do: func() error {
			s := newSet(t)
			_ = s.Put("m", metrics.UnitCount, 1)
			return s.Add("m", metrics.UnitCount, 1)
		}},
		{name: "property named like a metric", do: func() error {
			s := newSet(t)
			_ = s.Put("m", metrics.UnitCount, 1)
			return s.SetProperty("m", "x")
		}},
		{name: "metric named like a property", do: func() error {
			s := newSet(t)
			_ = s.SetProperty("request_id", "x")
			return s.Put("request_id", metrics.UnitCount, 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.do(); !errors.Is(err, metrics.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalidMetric", err)
			}
		})
	}
}

func newSet(t *testing.T) *metrics.Set {
	t.Helper()
	s, err := metrics.NewSet("ns", metrics.Dimension{Name: "service", Value: "s"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSetConcurrentAdds(t *testing.T) {
	t.Parallel()
	s := newSet(t)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { _ = s.Add("succeeded", metrics.UnitCount, 1) })
	}
	wg.Wait()
	_, _, values := emftest.Check(t, s.Encode(testEpoch)[0])
	if values["succeeded"] != 50.0 {
		t.Errorf("succeeded = %v, want 50", values["succeeded"])
	}
}

func TestNewDefaults(t *testing.T) {
	// Not parallel: it sets environment variables.
	tests := []struct {
		name          string
		env           map[string]string
		cfg           metrics.Config
		wantNamespace string
		wantService   string
		wantErr       bool
	}{
		{name: "nothing set", wantNamespace: "latch", wantService: "latch"},
		{name: "environment", env: map[string]string{"LATCH_METRICS_NAMESPACE": "Shop", "LATCH_SERVICE": "orders"}, wantNamespace: "Shop", wantService: "orders"},
		{name: "function name as service", env: map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "orders-fn"}, wantNamespace: "latch", wantService: "orders-fn"},
		{name: "config wins", env: map[string]string{"LATCH_METRICS_NAMESPACE": "Shop", "LATCH_SERVICE": "orders"}, cfg: metrics.Config{Namespace: "Mine", Service: "me"}, wantNamespace: "Mine", wantService: "me"},
		{name: "bad namespace from env", env: map[string]string{"LATCH_METRICS_NAMESPACE": "AWS/Lambda"}, wantErr: true},
		{name: "too many dimensions", cfg: metrics.Config{Dimensions: make([]metrics.Dimension, 30)}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"LATCH_METRICS_NAMESPACE", "LATCH_SERVICE", "AWS_LAMBDA_FUNCTION_NAME"} {
				t.Setenv(k, tt.env[k])
			}
			var buf bytes.Buffer
			cfg := tt.cfg
			cfg.Writer = &buf
			m, err := metrics.New(cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewMetrics error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			set := m.NewSet()
			_ = set.Add("x", metrics.UnitCount, 1)
			if err := m.Flush(set); err != nil {
				t.Fatal(err)
			}
			ns, dims, _ := emftest.Check(t, emftest.Blobs(t, &buf)[0])
			if ns != tt.wantNamespace || dims["service"] != tt.wantService {
				t.Errorf("namespace %q service %q, want %q %q", ns, dims["service"], tt.wantNamespace, tt.wantService)
			}
		})
	}
}

func ExampleSet() {
	set, _ := metrics.NewSet("shop", metrics.Dimension{Name: "service", Value: "orders"})
	_ = set.Add("OrdersShipped", metrics.UnitCount, 2)
	_ = set.Put("ShipLatency", metrics.UnitMilliseconds, 180)
	for _, blob := range set.Encode(time.UnixMilli(1772366400000)) {
		fmt.Println(string(blob))
	}
	// Output: {"_aws":{"Timestamp":1772366400000,"CloudWatchMetrics":[{"Namespace":"shop","Dimensions":[["service"]],"Metrics":[{"Name":"OrdersShipped","Unit":"Count"},{"Name":"ShipLatency","Unit":"Milliseconds"}]}]},"service":"orders","OrdersShipped":2,"ShipLatency":180}
}

// testEpoch is the time the tests' blobs are stamped with.
var testEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
