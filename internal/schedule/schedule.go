package schedule

import (
	"fmt"
	"strings"
	"time"
)

// Schedule is a parsed EventBridge schedule expression.
type Schedule interface {
	// Next returns the first fire time strictly after after, in UTC, or the
	// zero time when the schedule never fires again.
	Next(after time.Time) time.Time
	// String returns the expression as it was written.
	String() string
}

// Error is an invalid schedule expression. Field names the part that is
// wrong, in the words of AWS's documentation: "minutes", "hours",
// "day-of-month", "month", "day-of-week", "year", "rate value" or
// "rate unit"; it is empty when the expression as a whole is malformed.
type Error struct {
	Expr  string
	Field string
	Msg   string
}

// Error names the expression, the field at fault if one is, and the problem.
func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("schedule %q: %s", e.Expr, e.Msg)
	}
	return fmt.Sprintf("schedule %q: %s field: %s", e.Expr, e.Field, e.Msg)
}

// Parse parses cron(...) and rate(...) expressions. Rate schedules are
// anchored at the Unix epoch; see Rate.
func Parse(expr string) (Schedule, error) {
	s := strings.TrimSpace(expr)
	switch {
	// A failed ParseCron or ParseRate returns a nil pointer, which as a
	// Schedule would not be nil: return a nil interface with the error.
	case strings.HasPrefix(s, "cron(") && strings.HasSuffix(s, ")"):
		c, err := ParseCron(s)
		if err != nil {
			return nil, err
		}
		return c, nil
	case strings.HasPrefix(s, "rate(") && strings.HasSuffix(s, ")"):
		r, err := ParseRate(s)
		if err != nil {
			return nil, err
		}
		return r, nil
	case strings.HasPrefix(s, "at("):
		return nil, &Error{Expr: expr, Msg: "one-time at(...) expressions belong to EventBridge Scheduler, not schedule rules"}
	}
	return nil, &Error{Expr: expr, Msg: "want cron(minutes hours day-of-month month day-of-week year) or rate(value unit)"}
}

// MustParse is Parse for expressions known to be valid; it panics on error.
func MustParse(expr string) Schedule {
	s, err := Parse(expr)
	if err != nil {
		panic(err)
	}
	return s
}

// NextN returns the next n fire times after after; fewer when the schedule
// ends.
func NextN(s Schedule, after time.Time, n int) []time.Time {
	var out []time.Time
	for len(out) < n {
		t := s.Next(after)
		if t.IsZero() {
			break
		}
		out = append(out, t)
		after = t
	}
	return out
}
