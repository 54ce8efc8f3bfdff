package emulators

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Backend names a set of emulators.
type Backend string

// The backends.
const (
	// Default is DynamoDB Local plus moto server.
	Default Backend = "default"
	// LocalStack is LocalStack 4.14.0 in host mode.
	LocalStack Backend = "localstack"
	// MiniStack is MiniStack 1.5.33 for every service, DynamoDB included.
	MiniStack Backend = "ministack"
)

// Backends lists every backend, in the order help texts show them.
var Backends = []Backend{Default, LocalStack, MiniStack}

// ErrUnknownBackend is returned for a backend name that is not one of
// Backends.
var ErrUnknownBackend = errors.New("emulators: unknown backend")

// ErrNotRunning is returned by Status when the state directory records no
// running stack.
var ErrNotRunning = errors.New("emulators: not running")

// ParseBackend returns the backend named s; "" is Default.
func ParseBackend(s string) (Backend, error) {
	switch Backend(s) {
	case "", Default:
		return Default, nil
	case LocalStack, MiniStack:
		return Backend(s), nil
	}
	return "", fmt.Errorf("%w %q (want %q, %q or %q)", ErrUnknownBackend, s, Default, LocalStack, MiniStack)
}

// Config says which stack to run and where its files go.
type Config struct {
	// Backend is the set of emulators Up starts. Zero: Default.
	Backend Backend
	// CacheDir holds the installed emulators, shared by every project.
	// Zero: CacheDir(), that is $LATCH_CACHE or <user cache dir>/latch.
	CacheDir string
	// StateDir holds one stack's run state: pids, logs, the environment.
	// Zero: StateDir(<project of the working directory>), one per project.
	StateDir string
	// Deploy starts, on the localstack backend, the services sam deploy
	// needs as well (LocalStackDeployServices). Zero: only the services
	// latch's functions use, which start several times faster. The default
	// backend has no deploy services and ignores it.
	Deploy bool
	// Log receives progress lines (installs, readiness). Zero: os.Stderr.
	Log io.Writer
	// DynamoDBDir, when set, is the directory where the default backend's
	// DynamoDB Local keeps its tables (-dbPath), so that they outlive a
	// crash of the emulator and Restart brings them back. Zero: in memory,
	// which is faster and gone when the emulator stops.
	DynamoDBDir string
	// ReadyTimeout bounds how long Up waits for each emulator to answer.
	// Zero: $LATCH_EMULATOR_TIMEOUT seconds if set, else 90s — a cold JVM
	// on a busy two-core machine takes tens of seconds.
	ReadyTimeout time.Duration
}

// withDefaults fills in the zero values.
func (c Config) withDefaults() (Config, error) {
	b, err := ParseBackend(string(c.Backend))
	if err != nil {
		return c, err
	}
	c.Backend = b
	if c.CacheDir == "" {
		if c.CacheDir, err = CacheDir(); err != nil {
			return c, err
		}
	}
	if c.StateDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return c, err
		}
		if c.StateDir, err = StateDir(c.CacheDir, ProjectDir(wd)); err != nil {
			return c, err
		}
	}
	if c.Log == nil {
		c.Log = os.Stderr
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 90 * time.Second
		if s := os.Getenv("LATCH_EMULATOR_TIMEOUT"); s != "" {
			if d, err := time.ParseDuration(s + "s"); err == nil && d > 0 {
				c.ReadyTimeout = d
			}
		}
	}
	return c, nil
}

func (c Config) logf(format string, args ...any) {
	fmt.Fprintf(c.Log, "emulators: "+format+"\n", args...)
}
