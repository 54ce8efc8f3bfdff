package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// base is a Friday afternoon: 2026-11-27 17:53:30 UTC.
var base = time.Date(2026, 11, 27, 17, 53, 30, 0, time.UTC)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func times(ss ...string) []time.Time {
	out := make([]time.Time, len(ss))
	for i, s := range ss {
		out[i] = at(s)
	}
	return out
}

func TestNext(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		expr  string
		after time.Time
		want  []time.Time
	}{
		// The examples of AWS's cron expression reference.
		{name: "every day at 10:00", expr: "cron(0 10 * * ? *)", after: base,
			want: times("2026-11-28 10:00", "2026-11-29 10:00", "2026-11-30 10:00")},
		{name: "every day at 12:15", expr: "cron(15 12 * * ? *)", after: base,
			want: times("2026-11-28 12:15", "2026-11-29 12:15")},
		{name: "18:00 Monday to Friday", expr: "cron(0 18 ? * MON-FRI *)", after: base,
			want: times("2026-11-27 18:00", "2026-11-30 18:00", "2026-12-01 18:00")},
		{name: "08:00 on the first of the month", expr: "cron(0 8 1 * ? *)", after: base,
			want: times("2026-12-01 08:00", "2027-01-01 08:00", "2027-02-01 08:00")},
		{name: "every 15 minutes", expr: "cron(0/15 * * * ? *)", after: base,
			want: times("2026-11-27 18:00", "2026-11-27 18:15", "2026-11-27 18:30")},
		{name: "every 10 minutes on weekdays, over a weekend", expr: "cron(0/10 * ? * MON-FRI *)", after: at("2026-11-27 23:41"),
			want: times("2026-11-27 23:50", "2026-11-30 00:00", "2026-11-30 00:10")},
		{name: "every 5 minutes 08:00-17:55 on weekdays", expr: "cron(0/5 8-17 ? * MON-FRI *)", after: base,
			want: times("2026-11-27 17:55", "2026-11-30 08:00", "2026-11-30 08:05")},
		{name: "every 30 minutes 20:00-02:30 on weekdays, a range over midnight", expr: "cron(0/30 20-2 ? * MON-FRI *)", after: at("2026-11-27 23:45"),
			want: times("2026-11-30 00:00", "2026-11-30 00:30", "2026-11-30 01:00", "2026-11-30 01:30", "2026-11-30 02:00", "2026-11-30 02:30", "2026-11-30 20:00")},
		{name: "the daily tick of the examples", expr: "cron(0 3 * * ? *)", after: base,
			want: times("2026-11-28 03:00", "2026-11-29 03:00")},

		// L, W and #.
		{name: "last day of the month", expr: "cron(0 0 L * ? *)", after: base,
			want: times("2026-11-30 00:00", "2026-12-31 00:00", "2027-01-31 00:00", "2027-02-28 00:00")},
		{name: "last weekday of the month", expr: "cron(0 0 LW * ? *)", after: base,
			want: times("2026-11-30 00:00", "2026-12-31 00:00", "2027-01-29 00:00", "2027-02-26 00:00")},
		{name: "weekday nearest the 15th", expr: "cron(0 9 15W * ? *)", after: base,
			want: times("2026-12-15 09:00", "2027-01-15 09:00", "2027-02-15 09:00")},
		{name: "1W on a Saturday moves to Monday the 3rd", expr: "cron(0 9 1W * ? 2027)", after: at("2027-04-15 00:00"),
			want: times("2027-05-03 09:00", "2027-06-01 09:00")},
		{name: "1W on a Sunday moves to Monday the 2nd", expr: "cron(0 9 1W 11 ? 2026)", after: at("2026-10-01 00:00"),
			want: times("2026-11-02 09:00")},
		{name: "31W on a Sunday moves back to Friday, skips short months", expr: "cron(0 9 31W * ? *)", after: at("2027-01-01 00:00"),
			want: times("2027-01-29 09:00", "2027-03-31 09:00", "2027-05-31 09:00")},
		{name: "second Tuesday", expr: "cron(0 8 ? * 3#2 *)", after: base,
			want: times("2026-12-08 08:00", "2027-01-12 08:00", "2027-02-09 08:00")},
		{name: "fifth Sunday only where there is one", expr: "cron(0 0 ? * 1#5 *)", after: base,
			want: times("2026-11-29 00:00", "2027-01-31 00:00")},
		{name: "last Friday", expr: "cron(15 10 ? * 6L *)", after: base,
			want: times("2026-12-25 10:15", "2027-01-29 10:15", "2027-02-26 10:15")},
		{name: "L alone in day-of-week is Saturday", expr: "cron(0 12 ? * L *)", after: base,
			want: times("2026-11-28 12:00", "2026-12-05 12:00")},

		// Numbering, names, lists, ranges and steps.
		{name: "day-of-week 2 is Monday", expr: "cron(0 9 ? * 2 *)", after: base,
			want: times("2026-11-30 09:00", "2026-12-07 09:00")},
		{name: "day-of-week 1 is Sunday, 7 Saturday", expr: "cron(0 9 ? * 1,7 *)", after: base,
			want: times("2026-11-28 09:00", "2026-11-29 09:00", "2026-12-05 09:00")},
		{name: "names in any case, lists", expr: "cron(30 6 1 jan,Jul ? *)", after: base,
			want: times("2027-01-01 06:30", "2027-07-01 06:30")},
		{name: "day range over the week's end", expr: "cron(0 12 ? * FRI-MON *)", after: base,
			want: times("2026-11-28 12:00", "2026-11-29 12:00", "2026-11-30 12:00", "2026-12-04 12:00")},
		{name: "stepped range", expr: "cron(5-20/5 * * * ? *)", after: base,
			want: times("2026-11-27 18:05", "2026-11-27 18:10", "2026-11-27 18:15", "2026-11-27 18:20", "2026-11-27 19:05")},
		{name: "*/ step", expr: "cron(*/20 9 * * ? *)", after: base,
			want: times("2026-11-28 09:00", "2026-11-28 09:20", "2026-11-28 09:40", "2026-11-29 09:00")},
		{name: "month step", expr: "cron(0 0 1 1/3 ? *)", after: base,
			want: times("2027-01-01 00:00", "2027-04-01 00:00", "2027-07-01 00:00")},
		{name: "years end the schedule", expr: "cron(0 0 1 1 ? 2028-2029)", after: base,
			want: times("2028-01-01 00:00", "2029-01-01 00:00")},
		{name: "year step", expr: "cron(0 0 29 2 ? 2024/4)", after: base,
			want: times("2028-02-29 00:00", "2032-02-29 00:00")},
		{name: "never fires", expr: "cron(0 0 30 2 ? *)", after: base, want: nil},
		{name: "strictly after a fire time", expr: "cron(0 18 * * ? *)", after: at("2026-11-27 18:00"),
			want: times("2026-11-28 18:00")},
		{name: "end of the year range", expr: "cron(59 23 31 12 ? *)", after: at("2199-12-31 23:59"), want: nil},

		// Rates, anchored at the Unix epoch.
		{name: "rate 1 minute", expr: "rate(1 minute)", after: base,
			want: times("2026-11-27 17:54", "2026-11-27 17:55")},
		{name: "rate 5 minutes", expr: "rate(5 minutes)", after: base,
			want: times("2026-11-27 17:55", "2026-11-27 18:00")},
		{name: "rate 1 hour", expr: "rate(1 hour)", after: base,
			want: times("2026-11-27 18:00", "2026-11-27 19:00")},
		{name: "rate 1 day", expr: "rate(1 day)", after: base,
			want: times("2026-11-28 00:00", "2026-11-29 00:00")},
		{name: "rate 7 days falls on Thursdays like the epoch", expr: "rate(7 days)", after: base,
			want: times("2026-12-03 00:00", "2026-12-10 00:00")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			n := len(tc.want)
			if n == 0 {
				n = 1
			}
			got := NextN(s, tc.after, n)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s after %s (-want +got):\n%s", tc.expr, tc.after, diff)
			}
			for _, g := range got {
				if g.Location() != time.UTC {
					t.Errorf("%v is not in UTC", g)
				}
			}
			if s.String() != tc.expr {
				t.Errorf("String() = %q", s.String())
			}
		})
	}
}

func TestNextFromOtherZones(t *testing.T) {
	t.Parallel()
	tokyo := time.FixedZone("JST", 9*3600)
	// 02:30 in Tokyo is 17:30 UTC the day before: cron runs in UTC.
	got := MustParse("cron(0 18 * * ? *)").Next(time.Date(2026, 11, 28, 2, 30, 0, 0, tokyo))
	if want := at("2026-11-27 18:00"); !got.Equal(want) {
		t.Errorf("Next = %v, want %v", got, want)
	}
}

func TestRateStart(t *testing.T) {
	t.Parallel()
	r, err := ParseRate("rate(5 minutes)")
	if err != nil {
		t.Fatal(err)
	}
	r.Start = time.Date(2026, 11, 27, 17, 50, 10, 0, time.UTC)
	got := NextN(r, base, 2)
	want := []time.Time{time.Date(2026, 11, 27, 17, 55, 10, 0, time.UTC), time.Date(2026, 11, 27, 18, 0, 10, 0, time.UTC)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := r.Next(r.Start.Add(-time.Hour)); !got.Equal(r.Start) {
		t.Errorf("before Start: Next = %v, want Start", got)
	}
	if r.Every != 5*time.Minute {
		t.Errorf("Every = %v", r.Every)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr  string
		field string
		msg   string
	}{
		{expr: "cron(0 10 * * ?)", field: "", msg: "six fields"},
		{expr: "cron(0 10 * * ? * *)", field: "", msg: "got 7"},
		{expr: "cron(60 * * * ? *)", field: "minutes", msg: "60 is out of range 0-59"},
		{expr: "cron(0/0 * * * ? *)", field: "minutes", msg: "step"},
		{expr: "cron(? * * * ? *)", field: "minutes", msg: "? is allowed only"},
		{expr: "cron(1,,2 * * * ? *)", field: "minutes", msg: "empty list item"},
		{expr: "cron(0 24 * * ? *)", field: "hours", msg: "24 is out of range 0-23"},
		{expr: "cron(0 x * * ? *)", field: "hours", msg: `"x" is not a number`},
		{expr: "cron(0 0 32 * ? *)", field: "day-of-month", msg: "32 is out of range 1-31"},
		{expr: "cron(0 0 0 * ? *)", field: "day-of-month", msg: "0 is out of range"},
		{expr: "cron(0 0 1W,15W * ? *)", field: "day-of-month", msg: "W wildcard takes a single day"},
		{expr: "cron(0 0 L-3 * ? *)", field: "day-of-month", msg: "L stands alone"},
		{expr: "cron(0 0 1#2 * ? *)", field: "day-of-month", msg: "# is allowed only in day-of-week"},
		{expr: "cron(0 0 MON * ? *)", field: "day-of-month", msg: `"MON" is not a number`},
		{expr: "cron(0 0 ? 13 MON *)", field: "month", msg: "13 is out of range 1-12"},
		{expr: "cron(0 0 ? FOO MON *)", field: "month", msg: `"FOO" is neither a number nor a name`},
		{expr: "cron(0 0 ? * 8 *)", field: "day-of-week", msg: "8 is out of range 1-7"},
		{expr: "cron(0 0 ? * 0 *)", field: "day-of-week", msg: "0 is out of range 1-7"},
		{expr: "cron(0 0 ? * JAN *)", field: "day-of-week", msg: "neither a number nor a name"},
		{expr: "cron(0 0 ? * 3#1,6#3 *)", field: "day-of-week", msg: "single expression"},
		{expr: "cron(0 0 ? * 3#6 *)", field: "day-of-week", msg: "must be 1-5"},
		{expr: "cron(0 0 ? * MON-FRIL *)", field: "day-of-week", msg: "L wildcard takes a single day"},
		{expr: "cron(0 0 * * * *)", field: "day-of-week", msg: "cannot both be given"},
		{expr: "cron(0 0 1 * MON *)", field: "day-of-week", msg: "cannot both be given"},
		{expr: "cron(0 0 ? * ? *)", field: "day-of-week", msg: "both ?"},
		{expr: "cron(0 0 1 * ? 1969)", field: "year", msg: "1969 is out of range 1970-2199"},
		{expr: "cron(0 0 1 * ? 2030-2028)", field: "year", msg: "runs backwards"},
		{expr: "rate(0 minutes)", field: "rate value", msg: "not a positive integer"},
		{expr: "rate(five minutes)", field: "rate value", msg: "not a positive integer"},
		{expr: "rate(1 minutes)", field: "rate unit", msg: "singular unit minute"},
		{expr: "rate(1 hours)", field: "rate unit", msg: "singular"},
		{expr: "rate(5 hour)", field: "rate unit", msg: "plural unit hours"},
		{expr: "rate(2 weeks)", field: "rate unit", msg: `"weeks" is not minute(s)`},
		{expr: "rate(5)", field: "", msg: "two fields"},
		{expr: "at(2026-01-01T00:00:00)", field: "", msg: "EventBridge Scheduler"},
		{expr: "every 5 minutes", field: "", msg: "want cron("},
		{expr: "0 10 * * ? *", field: "", msg: "want cron("},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.expr)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) = %v, want *schedule.Error", tc.expr, err)
			}
			if se.Field != tc.field {
				t.Errorf("Field = %q, want %q (%v)", se.Field, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", err, tc.msg)
			}
			if tc.field != "" && !strings.Contains(err.Error(), tc.field+" field") {
				t.Errorf("error %q does not name the field", err)
			}
		})
	}
}

func TestMustParsePanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("MustParse of an invalid expression did not panic")
		}
	}()
	MustParse("cron(bad)")
}

func BenchmarkCronNext(b *testing.B) {
	s := MustParse("cron(0/5 8-17 ? * MON-FRI *)")
	t := base
	b.ReportAllocs()
	for b.Loop() {
		t = s.Next(t)
	}
}

func BenchmarkCronNextSparse(b *testing.B) {
	s := MustParse("cron(15 10 ? * 6L *)")
	b.ReportAllocs()
	for b.Loop() {
		s.Next(base)
	}
}
