package handler

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Metric and dimension names latch emits. Besides these, every outcome is
// a counter metric of its own name (Outcome's string value: "succeeded",
// "dead_lettered", ...).
const (
	// MetricHandlerDuration is the invocation's duration, Milliseconds.
	MetricHandlerDuration = "HandlerDuration"
	// MetricColdStart is 1 (Count) in the blob of a cold invocation and
	// absent otherwise.
	MetricColdStart = "ColdStart"
	// DimensionService is the one dimension latch puts on every metric.
	DimensionService = "service"
	// PropertyRequestID carries the Lambda request id in each blob, so the
	// blob of a request can be found in the logs; it is not a dimension.
	PropertyRequestID = LogKeyRequestID
)

// EnvMetricsNamespace names the metric namespace when MetricsConfig does not.
const EnvMetricsNamespace = "LATCH_METRICS_NAMESPACE"

// DefaultNamespace is the namespace when neither MetricsConfig nor the
// environment names one.
const DefaultNamespace = "latch"

// MetricsConfig configures NewMetrics. The zero value writes to standard
// output (where Lambda's log agent extracts EMF) in the namespace and for
// the service the environment names.
type MetricsConfig struct {
	// Namespace of every metric. Default: LATCH_METRICS_NAMESPACE, else
	// DefaultNamespace.
	Namespace string
	// Service is the value of the service dimension. Default: LATCH_SERVICE,
	// else the Lambda function name, else DefaultNamespace, because a
	// dimension value may not be empty.
	Service string
	// Dimensions are added to every metric after the service dimension; with
	// it at most MaxDimensions. Default none: every dimension multiplies
	// the metrics CloudWatch bills for.
	Dimensions []Dimension
	// Writer receives one blob per line. Default os.Stdout.
	Writer io.Writer
	// Clock stamps the blobs. Default time.Now.
	Clock func() time.Time
}

// Metrics writes EMF blobs: typically one MetricSet per invocation, flushed
// when the invocation ends. It is safe for concurrent use.
type Metrics struct {
	namespace string
	dims      []Dimension
	clock     func() time.Time

	mu sync.Mutex // one blob is one Write: lines never interleave
	w  io.Writer
}

// NewMetrics checks cfg, fills its defaults and returns the writer of
// metric sets. It fails on a namespace or dimensions CloudWatch would
// reject.
func NewMetrics(cfg MetricsConfig) (*Metrics, error) {
	ns := cfg.Namespace
	if ns == "" {
		ns = os.Getenv(EnvMetricsNamespace)
	}
	if ns == "" {
		ns = DefaultNamespace
	}
	service := serviceName(cfg.Service)
	if service == "" {
		service = DefaultNamespace
	}
	dims := append([]Dimension{{Name: DimensionService, Value: service}}, cfg.Dimensions...)
	if _, err := NewMetricSet(ns, dims...); err != nil {
		return nil, fmt.Errorf("handler: metrics config: %w", err)
	}
	m := &Metrics{namespace: ns, dims: dims, clock: cfg.Clock, w: cfg.Writer}
	if m.clock == nil {
		m.clock = time.Now
	}
	if m.w == nil {
		m.w = os.Stdout
	}
	return m, nil
}

// NewSet returns an empty MetricSet with the namespace and dimensions of m.
func (m *Metrics) NewSet() *MetricSet {
	// Already validated by NewMetrics: the constructor cannot fail here.
	return &MetricSet{namespace: m.namespace, dims: m.dims, metrics: make(map[string]*metric)}
}

// Flush writes set as EMF blobs, one per line, stamped with the clock's
// time. An empty set writes nothing.
func (m *Metrics) Flush(set *MetricSet) error {
	blobs := set.Encode(m.clock())
	if len(blobs) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range blobs {
		if _, err := m.w.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("handler: write metrics: %w", err)
		}
	}
	return nil
}

type metricSetKey struct{}

// ContextWithMetrics returns a copy of ctx that carries set.
func ContextWithMetrics(ctx context.Context, set *MetricSet) context.Context {
	return context.WithValue(ctx, metricSetKey{}, set)
}

// MetricsFromContext returns the metric set of the current invocation, which
// Observe puts in the context, so a handler can add its own metrics to the
// invocation's blob:
//
//	if m, ok := handler.MetricsFromContext(ctx); ok {
//		_ = m.Add("OrdersShipped", handler.UnitCount, 1)
//	}
func MetricsFromContext(ctx context.Context) (*MetricSet, bool) {
	set, ok := ctx.Value(metricSetKey{}).(*MetricSet)
	return set, ok && set != nil
}
