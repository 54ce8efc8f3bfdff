package schedule

import (
	"errors"
	"os"
	"regexp"
	"testing"
	"time"
)

// fuzzSeeds are expressions from the tests' tables and AWS's reference,
// valid and not.
var fuzzSeeds = []string{
	"cron(0 10 * * ? *)", "cron(15 12 * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 8 1 * ? *)",
	"cron(0/15 * * * ? *)", "cron(0/10 * ? * MON-FRI *)", "cron(0/5 8-17 ? * MON-FRI *)",
	"cron(0 9 ? * 2#1 *)", "cron(0 0 L * ? *)", "cron(0 0 LW * ? *)", "cron(0 0 15W * ? *)",
	"cron(0 0 ? * 6L *)", "cron(0 0 29 2 ? *)", "cron(0 0 1 1 ? 2027)", "cron(0 0 30 2 ? *)",
	"cron(0 0 ? * MON-FRIL *)", "cron(1,,2 * * * ? *)", "cron(0 0 1 * ? 2030-2028)", "cron(0/0 * * * ? *)",
	"rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(7 days)",
	"rate(0 minutes)", "rate(five minutes)", "rate(5)", "at(2026-01-01T00:00:00)", " cron(0 3 * * ? *) ", "",
}

// templateExpr finds schedule expressions in templates, to seed from the
// ones the project ships.
var templateExpr = regexp.MustCompile(`(?:cron|rate)\([^)\n]*\)`)

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, int64(1795888410))
	}
	for _, path := range []string{"../../infra/template.yaml", "../local/testdata/template.yaml"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		for _, expr := range templateExpr.FindAllString(string(data), -1) {
			f.Add(expr, int64(0))
		}
	}
	f.Fuzz(func(t *testing.T, expr string, afterSec int64) {
		s, err := Parse(expr)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || s != nil {
				t.Fatalf("Parse(%q) = %v, %v: want a nil schedule and a *schedule.Error", expr, s, err)
			}
			return
		}
		// Any instant between 1970 and 2200.
		const span = 230 * 365 * 24 * 3600
		after := time.Unix((afterSec%span+span)%span, 0).UTC()
		prev := after
		for range 3 {
			next := s.Next(prev)
			if next.IsZero() {
				break
			}
			if !next.After(prev) || next.Location() != time.UTC {
				t.Fatalf("%s: Next(%v) = %v: want a later instant in UTC", expr, prev, next)
			}
			prev = next
		}
		// What it prints parses back to the same schedule.
		again, err := Parse(s.String())
		if err != nil {
			t.Fatalf("%s: String() = %q does not parse: %v", expr, s.String(), err)
		}
		if a, b := s.Next(after), again.Next(after); !a.Equal(b) {
			t.Fatalf("%s: Next = %v, but %v after a round trip through String", expr, a, b)
		}
	})
}
