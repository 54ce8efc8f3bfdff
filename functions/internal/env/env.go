// Package env reads the example functions' configuration from environment
// variables, the way infra/template.yaml passes it, and collects every
// problem at once, so that a cold start with a bad deploy says everything
// that is wrong in one log line instead of one variable per deploy.
//
//	v := env.New(os.Getenv)
//	table := v.Required("ORDERS_TABLE")
//	backoff := v.Backoff()
//	if err := v.Err(); err != nil {
//		return err
//	}
package env

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/latchkit/latch/pkg/retry"
)

// Names of the variables the example functions share.
const (
	// IdempotencyTable names the idempotency table (required).
	IdempotencyTable = "IDEMPOTENCY_TABLE"
	// IdempotencyNamespace prefixes the function's idempotency keys.
	// Default: the Lambda function name.
	IdempotencyNamespace = "IDEMPOTENCY_NAMESPACE"
	// RetryBaseSeconds and RetryMaxSeconds are retry.BackoffFromEnv's
	// variables: the public API a service of your own reads them with.
	RetryBaseSeconds = retry.EnvBaseSeconds
	RetryMaxSeconds  = retry.EnvMaxSeconds
)

// ErrInvalid is what Vars.Err matches: the environment misses a required
// variable or holds a value that does not parse.
var ErrInvalid = errors.New("env: invalid configuration")

// Vars reads variables through a lookup function and remembers every
// problem it meets. The zero value is not usable; call New.
type Vars struct {
	get  func(string) string
	errs []string
}

// New returns Vars reading through get (os.Getenv in a function, a map's
// lookup in a test).
func New(get func(string) string) *Vars { return &Vars{get: get} }

func (v *Vars) fail(format string, args ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

// Required returns the variable's value; an empty or unset one is a problem.
func (v *Vars) Required(name string) string {
	s := strings.TrimSpace(v.get(name))
	if s == "" {
		v.fail("%s is not set", name)
	}
	return s
}

// Optional returns the variable's value, or def when it is empty or unset.
func (v *Vars) Optional(name, def string) string {
	if s := strings.TrimSpace(v.get(name)); s != "" {
		return s
	}
	return def
}

// Int returns the variable as an integer in [lo, hi], or def when unset.
func (v *Vars) Int(name string, def, lo, hi int) int {
	s := strings.TrimSpace(v.get(name))
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

// Seconds returns the variable, a positive number of seconds (fractions
// allowed), as a duration; def when unset.
func (v *Vars) Seconds(name string, def time.Duration) time.Duration {
	s := strings.TrimSpace(v.get(name))
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

// Backoff returns the retry policy from LATCH_RETRY_BASE_SECONDS and
// LATCH_RETRY_MAX_SECONDS through retry.BackoffFromEnv, its problems collected
// with the rest. The local demo sets a 1 s base so that retries take
// seconds, not minutes.
func (v *Vars) Backoff() retry.Backoff {
	b, err := retry.BackoffFromEnv(v.get)
	if err != nil {
		v.fail("%s", strings.TrimPrefix(err.Error(), retry.ErrBackoffEnv.Error()+": "))
	}
	return b
}

// Err returns every problem met so far in one error matching ErrInvalid,
// or nil.
func (v *Vars) Err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(v.errs, "; "))
}
