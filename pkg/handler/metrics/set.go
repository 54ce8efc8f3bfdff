package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Unit is a CloudWatch metric unit.
type Unit string

// The units CloudWatch accepts.
const (
	UnitNone               Unit = "None"
	UnitCount              Unit = "Count"
	UnitPercent            Unit = "Percent"
	UnitSeconds            Unit = "Seconds"
	UnitMilliseconds       Unit = "Milliseconds"
	UnitMicroseconds       Unit = "Microseconds"
	UnitBytes              Unit = "Bytes"
	UnitKilobytes          Unit = "Kilobytes"
	UnitMegabytes          Unit = "Megabytes"
	UnitGigabytes          Unit = "Gigabytes"
	UnitTerabytes          Unit = "Terabytes"
	UnitBits               Unit = "Bits"
	UnitKilobits           Unit = "Kilobits"
	UnitMegabits           Unit = "Megabits"
	UnitGigabits           Unit = "Gigabits"
	UnitTerabits           Unit = "Terabits"
	UnitCountPerSecond     Unit = "Count/Second"
	UnitBytesPerSecond     Unit = "Bytes/Second"
	UnitKilobytesPerSecond Unit = "Kilobytes/Second"
	UnitMegabytesPerSecond Unit = "Megabytes/Second"
	UnitGigabytesPerSecond Unit = "Gigabytes/Second"
	UnitTerabytesPerSecond Unit = "Terabytes/Second"
	UnitBitsPerSecond      Unit = "Bits/Second"
	UnitKilobitsPerSecond  Unit = "Kilobits/Second"
	UnitMegabitsPerSecond  Unit = "Megabits/Second"
	UnitGigabitsPerSecond  Unit = "Gigabits/Second"
	UnitTerabitsPerSecond  Unit = "Terabits/Second"
)

func (u Unit) valid() bool {
	switch u {
	case UnitNone, UnitCount, UnitPercent, UnitSeconds, UnitMilliseconds, UnitMicroseconds,
		UnitBytes, UnitKilobytes, UnitMegabytes, UnitGigabytes, UnitTerabytes,
		UnitBits, UnitKilobits, UnitMegabits, UnitGigabits, UnitTerabits,
		UnitCountPerSecond, UnitBytesPerSecond, UnitKilobytesPerSecond, UnitMegabytesPerSecond,
		UnitGigabytesPerSecond, UnitTerabytesPerSecond, UnitBitsPerSecond, UnitKilobitsPerSecond,
		UnitMegabitsPerSecond, UnitGigabitsPerSecond, UnitTerabitsPerSecond:
		return true
	}
	return false
}

// Limits of the CloudWatch embedded metric format. A Set that holds
// more than MaxMetricsPerBlob metrics, or a metric with more than
// MaxValuesPerMetric values, encodes to several blobs.
const (
	MaxMetricsPerBlob  = 100
	MaxDimensions      = 30
	MaxValuesPerMetric = 100
)

// ErrInvalid is returned for a metric, dimension or property that
// CloudWatch would reject. The error text says which and why.
var ErrInvalid = errors.New("metrics: invalid metric")

// ErrConfig means the Config given to New is unusable (a namespace or
// dimension CloudWatch would reject); the error also matches ErrInvalid,
// which says what is wrong. It is the package's config error, as
// handler.ErrConfig and producer.ErrConfig are theirs.
var ErrConfig = errors.New("metrics: invalid config")

// Dimension is a metric dimension: a name and its value.
type Dimension struct {
	Name  string
	Value string
}

// emfRoot is the top-level member that holds the metric metadata; no metric,
// dimension or property may use it.
const emfRoot = "_aws"

// Set collects metrics for one blob in the CloudWatch embedded metric
// format (EMF): one namespace, one dimension set, any number of metrics and
// string properties. It is safe for concurrent use, so the records of a
// batch can count into the set of their invocation.
type Set struct {
	namespace string
	dims      []Dimension

	mu      sync.Mutex
	order   []string
	metrics map[string]*metric
	props   []Dimension
}

type metric struct {
	unit    Unit
	counter bool
	values  []float64
}

// NewSet returns an empty set of metrics in namespace, all with the
// given dimensions. It fails on a namespace or dimension CloudWatch would
// reject, and on more than MaxDimensions dimensions.
func NewSet(namespace string, dims ...Dimension) (*Set, error) {
	if err := checkNamespace(namespace); err != nil {
		return nil, err
	}
	if len(dims) > MaxDimensions {
		return nil, fmt.Errorf("%w: %d dimensions, at most %d", ErrInvalid, len(dims), MaxDimensions)
	}
	seen := make(map[string]bool, len(dims))
	for _, d := range dims {
		if err := checkMember("dimension", d.Name, 255); err != nil {
			return nil, err
		}
		if d.Value == "" || len(d.Value) > 1024 || strings.TrimSpace(d.Value) == "" {
			return nil, fmt.Errorf("%w: dimension %q: value must be 1 to 1024 characters, not blank", ErrInvalid, d.Name)
		}
		if seen[d.Name] {
			return nil, fmt.Errorf("%w: dimension %q given twice", ErrInvalid, d.Name)
		}
		seen[d.Name] = true
	}
	return &Set{namespace: namespace, dims: dims, metrics: make(map[string]*metric)}, nil
}

func checkNamespace(ns string) error {
	if ns == "" || len(ns) > 255 || strings.TrimSpace(ns) == "" {
		return fmt.Errorf("%w: namespace %q must be 1 to 255 characters, not blank", ErrInvalid, ns)
	}
	if strings.HasPrefix(ns, "AWS/") {
		return fmt.Errorf("%w: namespace %q: the AWS/ prefix is reserved for AWS services", ErrInvalid, ns)
	}
	return nil
}

func checkMember(what, name string, maxLen int) error {
	if name == "" || len(name) > maxLen || strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w: %s name %q must be 1 to %d characters, not blank", ErrInvalid, what, name, maxLen)
	}
	if name == emfRoot {
		return fmt.Errorf("%w: %s name %q is reserved by the embedded metric format", ErrInvalid, what, name)
	}
	return nil
}

// Put records one sample of a metric: a duration, a size. Samples of one
// metric accumulate (CloudWatch computes the statistics); all must have the
// same unit.
func (s *Set) Put(name string, unit Unit, value float64) error {
	return s.record(name, unit, value, false)
}

// Add adds delta to a counter: the blob carries one value, the sum.
func (s *Set) Add(name string, unit Unit, delta float64) error {
	return s.record(name, unit, delta, true)
}

func (s *Set) record(name string, unit Unit, v float64, counter bool) error {
	if unit == "" {
		unit = UnitNone
	}
	if err := checkMember("metric", name, 255); err != nil {
		return err
	}
	if !unit.valid() {
		return fmt.Errorf("%w: metric %q: unit %q is not a CloudWatch unit", ErrInvalid, name, unit)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%w: metric %q: value %v is not a finite number", ErrInvalid, name, v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.nameFree(name, "metric", true); err != nil {
		return err
	}
	m, ok := s.metrics[name]
	if !ok {
		m = &metric{unit: unit, counter: counter}
		s.metrics[name] = m
		s.order = append(s.order, name)
	}
	switch {
	case m.unit != unit:
		return fmt.Errorf("%w: metric %q has unit %s, not %s", ErrInvalid, name, m.unit, unit)
	case m.counter != counter:
		return fmt.Errorf("%w: metric %q mixes Put and Add", ErrInvalid, name)
	case counter && len(m.values) == 1:
		m.values[0] += v
	default:
		m.values = append(m.values, v)
	}
	return nil
}

// SetProperty sets a top-level string member that is not a metric: the
// request id, say, so Logs Insights can find the blob of a request.
func (s *Set) SetProperty(name, value string) error {
	if err := checkMember("property", name, 255); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.nameFree(name, "property", false); err != nil {
		return err
	}
	for i, p := range s.props {
		if p.Name == name {
			s.props[i].Value = value
			return nil
		}
	}
	s.props = append(s.props, Dimension{Name: name, Value: value})
	return nil
}

// nameFree checks that name is not taken by a member of another kind; the
// blob is one flat JSON object, so names share one space.
func (s *Set) nameFree(name, kind string, isMetric bool) error {
	for _, d := range s.dims {
		if d.Name == name {
			return fmt.Errorf("%w: %s %q is a dimension of the set", ErrInvalid, kind, name)
		}
	}
	if isMetric {
		for _, p := range s.props {
			if p.Name == name {
				return fmt.Errorf("%w: metric %q is a property of the set", ErrInvalid, name)
			}
		}
	} else if _, ok := s.metrics[name]; ok {
		return fmt.Errorf("%w: property %q is a metric of the set", ErrInvalid, name)
	}
	return nil
}

// Len returns the number of distinct metrics in the set.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.order)
}

// Encode returns the set as EMF blobs stamped with ts, each a JSON object
// on one line (no trailing newline), ready for CloudWatch Logs. A set of at
// most MaxMetricsPerBlob metrics with at most MaxValuesPerMetric values each
// is one blob; a bigger one is split so that no blob breaks either limit.
// An empty set encodes to no blob.
func (s *Set) Encode(ts time.Time) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Round r carries the r-th chunk of MaxValuesPerMetric values of every
	// metric that has one; each round is cut into blobs of at most
	// MaxMetricsPerBlob metrics.
	var blobs [][]byte
	for r := 0; ; r++ {
		var round []string
		for _, name := range s.order {
			if len(s.metrics[name].values) > r*MaxValuesPerMetric {
				round = append(round, name)
			}
		}
		if len(round) == 0 {
			return blobs
		}
		for len(round) > 0 {
			n := min(len(round), MaxMetricsPerBlob)
			blobs = append(blobs, s.encodeBlob(ts, round[:n], r))
			round = round[n:]
		}
	}
}

func (s *Set) encodeBlob(ts time.Time, names []string, round int) []byte {
	b := make([]byte, 0, 256+64*len(names))
	b = append(b, `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, ts.UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":[{"Namespace":`...)
	b = appendJSONString(b, s.namespace)
	b = append(b, `,"Dimensions":[[`...)
	for i, d := range s.dims {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, d.Name)
	}
	b = append(b, `]],"Metrics":[`...)
	for i, name := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Name":`...)
		b = appendJSONString(b, name)
		b = append(b, `,"Unit":`...)
		b = appendJSONString(b, string(s.metrics[name].unit))
		b = append(b, '}')
	}
	b = append(b, `]}]}`...)
	for _, d := range s.dims {
		b = appendMember(b, d.Name)
		b = appendJSONString(b, d.Value)
	}
	for _, p := range s.props {
		b = appendMember(b, p.Name)
		b = appendJSONString(b, p.Value)
	}
	for _, name := range names {
		b = appendMember(b, name)
		vs := s.metrics[name].values
		vs = vs[round*MaxValuesPerMetric : min(len(vs), (round+1)*MaxValuesPerMetric)]
		if len(vs) == 1 {
			b = appendNumber(b, vs[0])
			continue
		}
		b = append(b, '[')
		for i, v := range vs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendNumber(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendMember(b []byte, name string) []byte {
	b = append(b, ',')
	b = appendJSONString(b, name)
	return append(b, ':')
}

func appendNumber(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// appendJSONString appends s as a JSON string. Names and values are short
// and mostly plain, so the common case copies bytes; anything that needs
// escaping goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
