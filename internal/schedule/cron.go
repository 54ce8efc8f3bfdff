package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cron is a cron(minutes hours day-of-month month day-of-week year)
// schedule under EventBridge's rules, evaluated in UTC: six fields, exactly
// one of day-of-month and day-of-week is ?, day-of-week counts 1-7 from
// Sunday, and L, W and # pick the last, nearest-weekday and nth days.
type Cron struct {
	expr    string
	minutes uint64 // bit i: minute i
	hours   uint64 // bit i: hour i
	months  uint64 // bit i: month i (1-12)
	years   [4]uint64
	dom     domSpec // used when dow.any
	dow     dowSpec // used when dom.any
}

// domSpec is the day-of-month field.
type domSpec struct {
	any         bool   // ?
	days        uint64 // bit i: day i (1-31)
	last        bool   // L
	lastWeekday bool   // LW
	nearest     int    // nW: the weekday nearest day n; 0 when unused
}

// dowSpec is the day-of-week field, days 1-7 = Sunday-Saturday.
type dowSpec struct {
	any     bool  // ?
	days    uint8 // bit i: weekday i (1-7)
	lastOf  int   // nL: the last weekday n of the month; 0 when unused
	nthDay  int   // n#k: weekday n ...
	nthWeek int   // ... in week k (1-5); 0 when unused
}

const (
	minYear = 1970
	maxYear = 2199
)

var monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
	"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}

var dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

// field describes one cron field's range and names.
type field struct {
	name     string
	min, max int
	names    map[string]int
}

var (
	fMinutes = field{name: "minutes", min: 0, max: 59}
	fHours   = field{name: "hours", min: 0, max: 23}
	fDOM     = field{name: "day-of-month", min: 1, max: 31}
	fMonth   = field{name: "month", min: 1, max: 12, names: monthNames}
	fDOW     = field{name: "day-of-week", min: 1, max: 7, names: dayNames}
	fYear    = field{name: "year", min: minYear, max: maxYear}
)

// ParseCron parses cron(minutes hours day-of-month month day-of-week year).
func ParseCron(expr string) (*Cron, error) {
	s := strings.TrimSpace(expr)
	if !strings.HasPrefix(s, "cron(") || !strings.HasSuffix(s, ")") {
		return nil, &Error{Expr: expr, Msg: "want cron(fields)"}
	}
	fs := strings.Fields(s[len("cron(") : len(s)-1])
	if len(fs) != 6 {
		return nil, &Error{Expr: expr, Msg: fmt.Sprintf("a cron expression has six fields (minutes hours day-of-month month day-of-week year), got %d", len(fs))}
	}
	c := &Cron{expr: s}
	fail := func(f field, err error) error {
		return &Error{Expr: expr, Field: f.name, Msg: err.Error()}
	}
	var err error
	if c.minutes, err = parseSet(fs[0], fMinutes); err != nil {
		return nil, fail(fMinutes, err)
	}
	if c.hours, err = parseSet(fs[1], fHours); err != nil {
		return nil, fail(fHours, err)
	}
	if c.dom, err = parseDOM(fs[2]); err != nil {
		return nil, fail(fDOM, err)
	}
	if c.months, err = parseSet(fs[3], fMonth); err != nil {
		return nil, fail(fMonth, err)
	}
	if c.dow, err = parseDOW(fs[4]); err != nil {
		return nil, fail(fDOW, err)
	}
	if err = parseYears(fs[5], &c.years); err != nil {
		return nil, fail(fYear, err)
	}
	switch {
	case c.dom.any && c.dow.any:
		return nil, &Error{Expr: expr, Field: fDOW.name, Msg: "day-of-month and day-of-week are both ?: one of them must give the days"}
	case !c.dom.any && !c.dow.any:
		return nil, &Error{Expr: expr, Field: fDOW.name, Msg: "day-of-month and day-of-week cannot both be given: use ? in one of them"}
	}
	return c, nil
}

// parseSet parses a field of values, ranges, lists and steps into a
// bitset. A range may wrap around (hours 22-2 is 22,23,0,1,2), except in
// the year field.
func parseSet(s string, f field) (uint64, error) {
	var set uint64
	for _, item := range strings.Split(s, ",") {
		lo, hi, step, err := parseItem(item, f)
		if err != nil {
			return 0, err
		}
		for _, v := range expand(lo, hi, step, f) {
			set |= 1 << uint(v)
		}
	}
	return set, nil
}

// parseItem parses one list item: *, v, a-b, */n, v/n, a-b/n.
func parseItem(item string, f field) (lo, hi, step int, err error) {
	if item == "" {
		return 0, 0, 0, fmt.Errorf("empty list item")
	}
	base, stepStr, hasStep := strings.Cut(item, "/")
	step = 1
	if hasStep {
		if step, err = strconv.Atoi(stepStr); err != nil || step <= 0 {
			return 0, 0, 0, fmt.Errorf("step %q in %q is not a positive integer", stepStr, item)
		}
	}
	switch {
	case base == "*":
		return f.min, f.max, step, nil
	case base == "?":
		return 0, 0, 0, fmt.Errorf("? is allowed only alone, and only in day-of-month or day-of-week")
	}
	if a, b, isRange := strings.Cut(base, "-"); isRange {
		if lo, err = value(a, f); err != nil {
			return 0, 0, 0, err
		}
		if hi, err = value(b, f); err != nil {
			return 0, 0, 0, err
		}
		if lo > hi && f.name == fYear.name {
			return 0, 0, 0, fmt.Errorf("range %q runs backwards", base)
		}
		return lo, hi, step, nil
	}
	if lo, err = value(base, f); err != nil {
		return 0, 0, 0, err
	}
	if hasStep {
		// v/n: from v to the end of the field, every n.
		return lo, f.max, step, nil
	}
	return lo, lo, 1, nil
}

// expand lists the values from lo to hi every step, wrapping past f.max
// back to f.min when lo > hi.
func expand(lo, hi, step int, f field) []int {
	var out []int
	span := hi - lo
	if lo > hi {
		span = (f.max - lo + 1) + (hi - f.min)
	}
	for i := 0; i <= span; i += step {
		v := lo + i
		if v > f.max {
			v -= f.max - f.min + 1
		}
		out = append(out, v)
	}
	return out
}

// value parses a number or a name in field f and checks its range.
func value(s string, f field) (int, error) {
	if n, ok := f.names[strings.ToUpper(s)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		if f.names != nil {
			return 0, fmt.Errorf("%q is neither a number nor a name", s)
		}
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%d is out of range %d-%d", n, f.min, f.max)
	}
	return n, nil
}

func parseDOM(s string) (domSpec, error) {
	switch u := strings.ToUpper(s); {
	case u == "?":
		return domSpec{any: true}, nil
	case u == "L":
		return domSpec{last: true}, nil
	case u == "LW" || u == "WL":
		return domSpec{lastWeekday: true}, nil
	case strings.HasSuffix(u, "W"):
		if strings.ContainsAny(u, ",-/*") {
			return domSpec{}, fmt.Errorf("the W wildcard takes a single day, as in 15W, not %q", s)
		}
		n, err := value(strings.TrimSuffix(u, "W"), fDOM)
		if err != nil {
			return domSpec{}, err
		}
		return domSpec{nearest: n}, nil
	case strings.Contains(u, "L") || strings.Contains(u, "W"):
		return domSpec{}, fmt.Errorf("%q: L stands alone (or as LW), W follows a single day", s)
	case strings.Contains(u, "#"):
		return domSpec{}, fmt.Errorf("# is allowed only in day-of-week")
	}
	days, err := parseSet(s, fDOM)
	return domSpec{days: days}, err
}

func parseDOW(s string) (dowSpec, error) {
	u := strings.ToUpper(s)
	switch {
	case u == "?":
		return dowSpec{any: true}, nil
	case u == "L":
		// L alone is the last day of the week: Saturday.
		return dowSpec{days: 1 << 7}, nil
	case strings.Contains(u, "#"):
		if strings.Contains(u, ",") {
			return dowSpec{}, fmt.Errorf("with # the field holds a single expression, not a list (%q)", s)
		}
		d, k, _ := strings.Cut(u, "#")
		day, err := value(d, fDOW)
		if err != nil {
			return dowSpec{}, err
		}
		week, err := strconv.Atoi(k)
		if err != nil || week < 1 || week > 5 {
			return dowSpec{}, fmt.Errorf("in %q the week after # must be 1-5", s)
		}
		return dowSpec{nthDay: day, nthWeek: week}, nil
	case strings.HasSuffix(u, "L"):
		if strings.ContainsAny(u, ",-/*") {
			return dowSpec{}, fmt.Errorf("the L wildcard takes a single day, as in 6L, not %q", s)
		}
		day, err := value(strings.TrimSuffix(u, "L"), fDOW)
		if err != nil {
			return dowSpec{}, err
		}
		return dowSpec{lastOf: day}, nil
	case strings.Contains(u, "L"):
		return dowSpec{}, fmt.Errorf("%q: L stands alone or follows a single day", s)
	}
	set, err := parseSet(s, fDOW)
	return dowSpec{days: uint8(set)}, err
}

func parseYears(s string, years *[4]uint64) error {
	for _, item := range strings.Split(s, ",") {
		lo, hi, step, err := parseItem(item, fYear)
		if err != nil {
			return err
		}
		for y := lo; y <= hi; y += step {
			i := y - minYear
			years[i/64] |= 1 << uint(i%64)
		}
	}
	return nil
}

func (c *Cron) hasYear(y int) bool {
	if y < minYear || y > maxYear {
		return false
	}
	i := y - minYear
	return c.years[i/64]&(1<<uint(i%64)) != 0
}

// String returns the expression as written.
func (c *Cron) String() string { return c.expr }

// Next returns the first fire time strictly after after, in UTC; the zero
// time when there is none before the end of 2199.
func (c *Cron) Next(after time.Time) time.Time {
	t := after.UTC().Truncate(time.Minute).Add(time.Minute)
	for t.Year() <= maxYear {
		if !c.hasYear(t.Year()) {
			t = time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if c.months&(1<<uint(t.Month())) == 0 {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !c.dayMatches(t) {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if c.hours&(1<<uint(t.Hour())) == 0 {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
			continue
		}
		if c.minutes&(1<<uint(t.Minute())) == 0 {
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{}
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// dayMatches reports whether t's day fires under the day fields.
func (c *Cron) dayMatches(t time.Time) bool {
	y, m, d := t.Date()
	n := daysIn(y, m)
	if c.dow.any {
		dom := c.dom
		switch {
		case dom.last:
			return d == n
		case dom.lastWeekday:
			return d == nearestWeekday(y, m, n)
		case dom.nearest > 0:
			return dom.nearest <= n && d == nearestWeekday(y, m, dom.nearest)
		}
		return dom.days&(1<<uint(d)) != 0
	}
	wd := int(t.Weekday()) + 1 // 1 = Sunday
	dow := c.dow
	switch {
	case dow.lastOf > 0:
		return wd == dow.lastOf && d+7 > n
	case dow.nthWeek > 0:
		return wd == dow.nthDay && (d-1)/7+1 == dow.nthWeek
	}
	return dow.days&(1<<uint(wd)) != 0
}

// nearestWeekday returns the weekday (Monday-Friday) nearest day d of the
// month, without leaving the month: a Saturday moves to Friday (or to
// Monday the 3rd when d is the 1st), a Sunday to Monday (or to Friday when
// d is the month's last day).
func nearestWeekday(y int, m time.Month, d int) int {
	n := daysIn(y, m)
	switch time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if d == 1 {
			return 3
		}
		return d - 1
	case time.Sunday:
		if d == n {
			return d - 2
		}
		return d + 1
	}
	return d
}

var _ Schedule = (*Cron)(nil)
