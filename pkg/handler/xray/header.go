package xray

import (
	"context"
	"strings"

	"github.com/latchkit/latch/pkg/handler"
)

// The X-Ray trace header, as Lambda hands it to each invocation and as an
// instrumented AWS call passes it on: "Root=1-5759e988-bd862e3fe1be46a994272793;
// Parent=53995c3f42cd8ad8;Sampled=1", fields in any order, perhaps others
// (Lineage) that latch neither needs nor forwards.
const xrayTraceHeaderName = "X-Amzn-Trace-Id"

// lambdaTraceHeaderKey is the (string) context key under which
// aws-lambda-go passes the X-Ray trace header of the request.
const lambdaTraceHeaderKey = "x-amzn-trace-id"

// traceHeader is what latch reads from a trace header.
type traceHeader struct {
	root    string // trace id: "1-" 8 hex (epoch seconds) "-" 24 hex
	parent  string // id of the segment the new subsegments belong to
	sampled bool
}

// parseTraceHeader reads h without allocating. ok is false when h lacks a
// well-formed Root or Parent: nothing could be attached to it.
func parseTraceHeader(h string) (th traceHeader, ok bool) {
	for h != "" {
		var field string
		field, h, _ = strings.Cut(h, ";")
		k, v, found := strings.Cut(strings.TrimSpace(field), "=")
		if !found {
			continue
		}
		switch k {
		case "Root":
			th.root = v
		case "Parent":
			th.parent = v
		case "Sampled":
			th.sampled = v == "1"
		}
	}
	return th, validTraceID(th.root) && validSpanID(th.parent)
}

// invocationTraceHeader returns the trace header of the invocation ctx
// belongs to: the Invocation's (Start and the local runner set it), else
// the one aws-lambda-go put in the context. The process-wide
// _X_AMZN_TRACE_ID variable is not read: it belongs to whichever
// invocation the runtime saw last, and more than one can run at a time.
func invocationTraceHeader(ctx context.Context) string {
	if inv, ok := handler.InvocationFromContext(ctx); ok && inv.TraceHeader != "" {
		return inv.TraceHeader
	}
	h, _ := ctx.Value(lambdaTraceHeaderKey).(string)
	return h
}

// validTraceID reports whether id has the X-Ray trace id shape
// "1-xxxxxxxx-yyyyyyyyyyyyyyyyyyyyyyyy".
func validTraceID(id string) bool {
	return len(id) == 35 && id[:2] == "1-" && id[10] == '-' && isHex(id[2:10]) && isHex(id[11:])
}

// validSpanID reports whether id is a segment or subsegment id: 16 hex digits.
func validSpanID(id string) bool { return len(id) == 16 && isHex(id) }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
