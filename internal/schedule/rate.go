package schedule

import (
	"strconv"
	"strings"
	"time"
)

// Rate is a rate(value unit) schedule: it fires every Every, on the
// multiples of Every counted from Start.
type Rate struct {
	Every time.Duration
	// Start anchors the fire times. EventBridge counts from the moment the
	// rule is created; the zero Start counts from the Unix epoch, so
	// rate(1 day) fires at 00:00 UTC and rate(5 minutes) on the fives —
	// stable across restarts. Set it to anchor elsewhere.
	Start time.Time

	expr string
}

// ParseRate parses rate(value unit): value a positive integer, unit
// minute(s), hour(s) or day(s), singular exactly when value is 1.
func ParseRate(expr string) (*Rate, error) {
	s := strings.TrimSpace(expr)
	if !strings.HasPrefix(s, "rate(") || !strings.HasSuffix(s, ")") {
		return nil, &Error{Expr: expr, Msg: "want rate(value unit)"}
	}
	fields := strings.Fields(s[len("rate(") : len(s)-1])
	if len(fields) != 2 {
		return nil, &Error{Expr: expr, Msg: "a rate has two fields, value and unit"}
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n <= 0 {
		return nil, &Error{Expr: expr, Field: "rate value", Msg: strconv.Quote(fields[0]) + " is not a positive integer"}
	}
	unit := fields[1]
	var d time.Duration
	switch strings.TrimSuffix(unit, "s") {
	case "minute":
		d = time.Minute
	case "hour":
		d = time.Hour
	case "day":
		d = 24 * time.Hour
	default:
		return nil, &Error{Expr: expr, Field: "rate unit", Msg: strconv.Quote(unit) + " is not minute(s), hour(s) or day(s)"}
	}
	plural := strings.HasSuffix(unit, "s")
	if n == 1 && plural {
		return nil, &Error{Expr: expr, Field: "rate unit", Msg: "a value of 1 takes the singular unit " + strings.TrimSuffix(unit, "s")}
	}
	if n > 1 && !plural {
		return nil, &Error{Expr: expr, Field: "rate unit", Msg: "a value above 1 takes the plural unit " + unit + "s"}
	}
	if int64(n) > int64(1<<62)/int64(d) {
		return nil, &Error{Expr: expr, Field: "rate value", Msg: "too large"}
	}
	return &Rate{Every: time.Duration(n) * d, expr: s}, nil
}

// Next returns the first multiple of Every after Start that is strictly
// after after.
func (r *Rate) Next(after time.Time) time.Time {
	start := r.Start
	if start.IsZero() {
		start = time.Unix(0, 0)
	}
	if after.Before(start) {
		return start.UTC()
	}
	k := after.Sub(start)/r.Every + 1
	return start.Add(k * r.Every).UTC()
}

// String returns the expression as written.
func (r *Rate) String() string { return r.expr }

var _ Schedule = (*Rate)(nil)
