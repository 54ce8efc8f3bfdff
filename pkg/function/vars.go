package function

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/latchkit/latch/pkg/retry"
)

// ErrConfig is what Vars.Err and New's errors match: the environment misses
// a required variable or holds a value that does not parse.
var ErrConfig = errors.New("function: invalid configuration")

// Vars reads environment variables through a lookup function and remembers
// every problem it meets, so that one error names them all. A Function's
// Vars holds the convention's problems already; a function reads its own
// variables through it too. The zero value is not usable; call NewVars.
type Vars struct {
	get  func(string) string
	errs []string
}

// NewVars returns Vars reading through get (os.Getenv in a function, a
// map's lookup in a test).
func NewVars(get func(string) string) *Vars { return &Vars{get: get} }

func (v *Vars) fail(format string, args ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

func (v *Vars) lookup(name string) string { return strings.TrimSpace(v.get(name)) }

// Required returns the variable's value; an empty or unset one is a problem.
func (v *Vars) Required(name string) string {
	s := v.lookup(name)
	if s == "" {
		v.fail("%s is not set", name)
	}
	return s
}

// Optional returns the variable's value, or def when it is empty or unset.
func (v *Vars) Optional(name, def string) string {
	if s := v.lookup(name); s != "" {
		return s
	}
	return def
}

// OneOf returns the variable's value, which must be one of allowed, or def
// when it is unset.
func (v *Vars) OneOf(name, def string, allowed ...string) string {
	s := v.lookup(name)
	if s == "" {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return a
		}
	}
	v.fail("%s=%q is not one of %s", name, s, strings.Join(allowed, ", "))
	return def
}

// Int returns the variable as an integer in [lo, hi], or def when unset.
func (v *Vars) Int(name string, def, lo, hi int) int {
	s := v.lookup(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		v.fail("%s=%q is not an integer in [%d, %d]", name, s, lo, hi)
		return def
	}
	return n
}

// Duration returns the variable, a positive Go duration ("90s", "48h"), or
// def when unset.
func (v *Vars) Duration(name string, def time.Duration) time.Duration {
	s := v.lookup(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		v.fail("%s=%q is not a positive duration such as 90s or 48h", name, s)
		return def
	}
	return d
}

// Seconds returns the variable, a positive number of seconds (fractions
// allowed) up to retry.MaxDelay, as a duration; def when unset.
func (v *Vars) Seconds(name string, def time.Duration) time.Duration {
	s := v.lookup(name)
	if s == "" {
		return def
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || f > retry.MaxDelay.Seconds() {
		v.fail("%s=%q is not a number of seconds in (0, %d]", name, s, int(retry.MaxDelay.Seconds()))
		return def
	}
	return time.Duration(f * float64(time.Second))
}

// Backoff returns the retry policy through retry.BackoffFromEnv, its
// problems collected with the rest.
func (v *Vars) Backoff() retry.Backoff {
	b, err := retry.BackoffFromEnv(v.get)
	if err != nil {
		v.fail("%s", strings.TrimPrefix(err.Error(), retry.ErrBackoffEnv.Error()+": "))
	}
	return b
}

// Err returns every problem met so far in one error matching ErrConfig, or
// nil.
func (v *Vars) Err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrConfig, strings.Join(v.errs, "; "))
}
