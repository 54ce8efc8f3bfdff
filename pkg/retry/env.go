package retry

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Environment variables BackoffFromEnv reads: the way a function's
// deployment (a SAM template's Environment, `latch local`) tunes retry
// delays without a rebuild. Locally a base of a second makes a retried
// record come back in seconds instead of minutes.
const (
	// EnvBaseSeconds is Backoff.Base in seconds, fractions allowed.
	EnvBaseSeconds = "LATCH_RETRY_BASE_SECONDS"
	// EnvMaxSeconds is Backoff.Max in seconds, fractions allowed.
	EnvMaxSeconds = "LATCH_RETRY_MAX_SECONDS"
)

// ErrBackoffEnv is what BackoffFromEnv's error matches: a variable holds
// something that is not a number of seconds in (0, MaxDelay], or the max
// is below the base.
var ErrBackoffEnv = errors.New("retry: invalid backoff environment")

// BackoffFromEnv returns the Backoff that EnvBaseSeconds and EnvMaxSeconds
// describe, read through getenv (os.Getenv; a map lookup in a test). An
// unset or empty variable keeps the Backoff's default (DefaultBase,
// DefaultMax). A bad value is an error naming every bad variable at once,
// so a deploy shows all that is wrong in one cold start; the Backoff
// returned with it has the defaults in their place, never the bad value.
func BackoffFromEnv(getenv func(string) string) (Backoff, error) {
	var problems []string
	seconds := func(name string, def time.Duration) time.Duration {
		s := strings.TrimSpace(getenv(name))
		if s == "" {
			return def
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f <= 0 || math.IsInf(f, 0) || f > MaxDelay.Seconds() {
			problems = append(problems, fmt.Sprintf("%s=%q is not a number of seconds in (0, %d]", name, s, int(MaxDelay.Seconds())))
			return def
		}
		return time.Duration(f * float64(time.Second))
	}
	b := Backoff{Base: seconds(EnvBaseSeconds, DefaultBase), Max: seconds(EnvMaxSeconds, DefaultMax)}
	if len(problems) == 0 && b.Max < b.Base {
		problems = append(problems, fmt.Sprintf("%s (%s) is below %s (%s)", EnvMaxSeconds, b.Max, EnvBaseSeconds, b.Base))
		b = Backoff{Base: DefaultBase, Max: DefaultMax}
	}
	if len(problems) > 0 {
		return b, fmt.Errorf("%w: %s", ErrBackoffEnv, strings.Join(problems, "; "))
	}
	return b, nil
}
