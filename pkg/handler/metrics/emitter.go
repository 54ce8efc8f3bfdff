package metrics

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/latchkit/latch/pkg/handler/internal/lambdaenv"
)

// DimensionService is the one dimension an Emitter puts on every metric.
const DimensionService = "service"

// EnvNamespace names the metric namespace when Config does not.
const EnvNamespace = "LATCH_METRICS_NAMESPACE"

// DefaultNamespace is the namespace when neither Config nor the
// environment names one.
const DefaultNamespace = "latch"

// Config configures New. The zero value writes to standard
// output (where Lambda's log agent extracts EMF) in the namespace and for
// the service the environment names.
type Config struct {
	// Namespace of every metric. Default: LATCH_METRICS_NAMESPACE, else
	// DefaultNamespace.
	Namespace string
	// Service is the value of the service dimension. Default: LATCH_SERVICE
	// (logging.EnvService),
	// else the Lambda function name, else DefaultNamespace, because a
	// dimension value may not be empty.
	Service string
	// Dimensions are added to every metric after the service dimension; with
	// it at most MaxDimensions. Default none: every dimension multiplies
	// the metrics CloudWatch bills for.
	Dimensions []Dimension
	// Writer receives one blob per line. Default os.Stdout.
	Writer io.Writer
	// Now is the clock that stamps the blobs. Default time.Now.
	Now func() time.Time
}

// Emitter writes EMF blobs: typically one Set per invocation, flushed
// when the invocation ends. It is safe for concurrent use.
type Emitter struct {
	namespace string
	dims      []Dimension
	clock     func() time.Time

	mu sync.Mutex // one blob is one Write: lines never interleave
	w  io.Writer
}

// MustNew is New that panics on a config error, for package-level wiring
// at cold start.
func MustNew(cfg Config) *Emitter {
	m, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return m
}

// New checks cfg, fills its defaults and returns the writer of
// metric sets. It fails on a namespace or dimensions CloudWatch would
// reject, with an error matching both ErrConfig and ErrInvalid.
func New(cfg Config) (*Emitter, error) {
	ns := cfg.Namespace
	if ns == "" {
		ns = os.Getenv(EnvNamespace)
	}
	if ns == "" {
		ns = DefaultNamespace
	}
	service := lambdaenv.Service(cfg.Service)
	if service == "" {
		service = DefaultNamespace
	}
	dims := append([]Dimension{{Name: DimensionService, Value: service}}, cfg.Dimensions...)
	if _, err := NewSet(ns, dims...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	m := &Emitter{namespace: ns, dims: dims, clock: cfg.Now, w: cfg.Writer}
	if m.clock == nil {
		m.clock = time.Now
	}
	if m.w == nil {
		m.w = os.Stdout
	}
	return m, nil
}

// NewSet returns an empty Set with the namespace and dimensions of m.
func (m *Emitter) NewSet() *Set {
	// Already validated by New: the constructor cannot fail here.
	return &Set{namespace: m.namespace, dims: m.dims, metrics: make(map[string]*metric)}
}

// Flush writes set as EMF blobs, one per line, stamped with the clock's
// time. An empty set writes nothing.
func (m *Emitter) Flush(set *Set) error {
	blobs := set.Encode(m.clock())
	if len(blobs) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range blobs {
		if _, err := m.w.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("metrics: write metrics: %w", err)
		}
	}
	return nil
}

type metricSetKey struct{}

// NewContext returns a copy of ctx that carries set.
func NewContext(ctx context.Context, set *Set) context.Context {
	return context.WithValue(ctx, metricSetKey{}, set)
}

// FromContext returns the metric set of the current invocation, which
// telemetry.Observe puts in the context, so a handler can add its own
// metrics to the invocation's blob:
//
//	if m, ok := metrics.FromContext(ctx); ok {
//		_ = m.Add("OrdersShipped", metrics.UnitCount, 1)
//	}
func FromContext(ctx context.Context) (*Set, bool) {
	set, ok := ctx.Value(metricSetKey{}).(*Set)
	return set, ok && set != nil
}
