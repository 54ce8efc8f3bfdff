package xray

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/latchkit/latch/pkg/handler"
)

// xraySpanKey is the context key of the subsegment a context runs in.
type xraySpanKey struct{}

// xraySpan is one subsegment. It is sent, whole, when it ends.
type xraySpan struct {
	daemon   *xrayDaemon
	traceID  string
	parentID string
	id       string
	name     string
	start    time.Time
	awsCall  bool // an AWS SDK call: namespace "aws", flags from the HTTP status

	mu          sync.Mutex
	ended       bool
	annotations map[string]any
	aws         xrayAWSDoc
	status      int
}

var _ handler.Span = (*xraySpan)(nil)

// X-Ray's limits on what a subsegment holds.
const (
	maxXRayNameLen        = 200
	maxXRayAnnotationKey  = 500
	maxXRayAnnotationText = 1000
	maxXRayAnnotations    = 50
	maxXRayCauseText      = 4096
)

// startSubsegment begins a subsegment under the span in ctx, or under the
// invocation's segment, or returns nil when ctx is not traced: no span in
// it and no sampled trace header, or no daemon to send to. The nil path is
// the one every untraced Start takes, so it allocates nothing.
func startSubsegment(ctx context.Context, name string) *xraySpan {
	var traceID, parentID string
	var daemon *xrayDaemon
	if parent, _ := ctx.Value(xraySpanKey{}).(*xraySpan); parent != nil {
		traceID, parentID, daemon = parent.traceID, parent.id, parent.daemon
	} else {
		h := invocationTraceHeader(ctx)
		if h == "" {
			return nil
		}
		th, ok := parseTraceHeader(h)
		if !ok || !th.sampled {
			return nil
		}
		if daemon = xrayDaemonFromEnv(); daemon == nil {
			return nil
		}
		traceID, parentID = th.root, th.parent
	}
	return &xraySpan{
		daemon:   daemon,
		traceID:  traceID,
		parentID: parentID,
		id:       newXRaySpanID(),
		name:     truncateUTF8(name, maxXRayNameLen),
		start:    time.Now(),
	}
}

// newXRaySpanID returns 16 random hex digits, never all zero. math/rand's
// generator is safe for concurrent use and does not lock.
func newXRaySpanID() string {
	var n uint64
	for n == 0 {
		n = rand.Uint64()
	}
	var b [16]byte
	const digits = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// traceHeader is the header an AWS call made inside s carries: same
// trace, s as the parent, sampled.
func (s *xraySpan) traceHeader() string {
	return "Root=" + s.traceID + ";Parent=" + s.id + ";Sampled=1"
}

// Annotate sets an annotation; see Span.
func (s *xraySpan) Annotate(key string, value any) {
	key = xrayAnnotationKey(key)
	value, ok := xrayAnnotationValue(value)
	if key == "" || !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	if s.annotations == nil {
		s.annotations = make(map[string]any, 4)
	}
	if _, exists := s.annotations[key]; !exists && len(s.annotations) >= maxXRayAnnotations {
		return
	}
	s.annotations[key] = value
}

// xrayAnnotationKey makes key a valid X-Ray annotation key: letters,
// digits and underscores only (any other character becomes one
// underscore), at most 500 bytes. A valid key is returned as it is,
// without allocating.
func xrayAnnotationKey(key string) string {
	valid := func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
	}
	for i := 0; i < len(key); i++ {
		if !valid(key[i]) {
			var b strings.Builder
			b.Grow(len(key))
			b.WriteString(key[:i])
			for _, r := range key[i:] {
				if r < utf8.RuneSelf && valid(byte(r)) {
					b.WriteRune(r)
				} else {
					b.WriteByte('_')
				}
			}
			key = b.String()
			break
		}
	}
	if len(key) > maxXRayAnnotationKey {
		key = key[:maxXRayAnnotationKey] // all ASCII by now
	}
	return key
}

// xrayAnnotationValue returns v as X-Ray takes it: a string (cut to 1000
// bytes), a bool or a finite number. Anything else is refused.
func xrayAnnotationValue(v any) (any, bool) {
	switch v := v.(type) {
	case string:
		return truncateUTF8(v, maxXRayAnnotationText), true
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return v, true
	case float32:
		f := float64(v)
		return v, !math.IsNaN(f) && !math.IsInf(f, 0)
	case float64:
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	return nil, false
}

// End closes the subsegment and sends it; see Span. Only the first End
// counts.
func (s *xraySpan) End(err error) {
	end := time.Now()
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	doc := s.document(end, err)
	s.mu.Unlock()
	s.daemon.send(doc)
}

// xraySubsegmentDoc is the JSON document of a subsegment sent on its own.
type xraySubsegmentDoc struct {
	Name        string         `json:"name"`
	ID          string         `json:"id"`
	TraceID     string         `json:"trace_id"`
	ParentID    string         `json:"parent_id"`
	Type        string         `json:"type"`
	StartTime   float64        `json:"start_time"`
	EndTime     float64        `json:"end_time"`
	Namespace   string         `json:"namespace,omitempty"`
	Error       bool           `json:"error,omitempty"`
	Throttle    bool           `json:"throttle,omitempty"`
	Fault       bool           `json:"fault,omitempty"`
	Cause       *xrayCauseDoc  `json:"cause,omitempty"`
	Annotations map[string]any `json:"annotations,omitempty"`
	HTTP        *xrayHTTPDoc   `json:"http,omitempty"`
	AWS         *xrayAWSDoc    `json:"aws,omitempty"`
}

type xrayCauseDoc struct {
	Exceptions []xrayExceptionDoc `json:"exceptions"`
}

type xrayExceptionDoc struct {
	ID      string `json:"id"`
	Message string `json:"message"`
	Type    string `json:"type,omitempty"`
}

type xrayHTTPDoc struct {
	Response xrayHTTPResponseDoc `json:"response"`
}

type xrayHTTPResponseDoc struct {
	Status int `json:"status"`
}

// xrayAWSDoc is the "aws" object of an AWS call's subsegment.
type xrayAWSDoc struct {
	Operation string `json:"operation,omitempty"`
	Region    string `json:"region,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Retries   int    `json:"retries,omitempty"`
}

// document encodes s, ended at end with err, in under maxXRayDatagram
// bytes with the daemon header. Caller holds s.mu.
func (s *xraySpan) document(end time.Time, err error) []byte {
	doc := xraySubsegmentDoc{
		Name:        s.name,
		ID:          s.id,
		TraceID:     s.traceID,
		ParentID:    s.parentID,
		Type:        "subsegment",
		StartTime:   epochSeconds(s.start),
		EndTime:     epochSeconds(end),
		Annotations: s.annotations,
	}
	if s.awsCall {
		doc.Namespace = "aws"
		doc.AWS = &s.aws
		if s.status != 0 {
			doc.HTTP = &xrayHTTPDoc{Response: xrayHTTPResponseDoc{Status: s.status}}
		}
	}
	switch {
	case s.awsCall && s.status == 429:
		doc.Error, doc.Throttle = true, true
	case s.awsCall && s.status >= 500:
		doc.Fault = true
	case err != nil || s.awsCall && s.status >= 400:
		doc.Error = true
	}
	if err != nil {
		doc.Cause = &xrayCauseDoc{Exceptions: []xrayExceptionDoc{{
			ID:      newXRaySpanID(),
			Message: truncateUTF8(err.Error(), maxXRayCauseText),
			Type:    fmt.Sprintf("%T", err),
		}}}
	}
	b := marshalXRay(&doc)
	if len(xrayDaemonHeader)+len(b) > maxXRayDatagram {
		// Only annotations and the cause can be this long: keep the
		// subsegment, its timing and its flags, and say what was cut.
		doc.Annotations = map[string]any{"truncated": true}
		if doc.Cause != nil {
			doc.Cause.Exceptions[0].Message = truncateUTF8(doc.Cause.Exceptions[0].Message, 256)
		}
		b = marshalXRay(&doc)
	}
	return b
}

// marshalXRay encodes doc. Every value in it is a string, bool, finite
// number or a struct of those, so encoding cannot fail.
func marshalXRay(doc *xraySubsegmentDoc) []byte {
	b, _ := json.Marshal(doc)
	return b
}

// epochSeconds is t as X-Ray wants it: seconds since the epoch, with
// microseconds in the fraction.
func epochSeconds(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
