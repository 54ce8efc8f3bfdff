package idempotency

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Defaults for Config.
const (
	// DefaultTTL is how long a completed record answers duplicates.
	DefaultTTL = time.Hour
	// DefaultMaxLock is Lambda's maximum timeout, so that inside Lambda the
	// invocation deadline always decides the lock's life.
	DefaultMaxLock = 15 * time.Minute
	// DefaultLockWithoutDeadline is the lock's length when the context has
	// no deadline, as in a consumer outside Lambda. A lock shorter than the
	// work lets a duplicate run beside it; a longer one makes a crashed
	// holder block its key that long. A minute covers the per-record work of
	// queue and schedule handlers (SQS's default visibility timeout is 30 s)
	// while a crash delays the key's retry by a minute, not a quarter hour.
	// Work that may run longer gives its context a deadline or sets
	// Config.LockWithoutDeadline.
	DefaultLockWithoutDeadline = time.Minute
	// DefaultNamespace is the namespace outside Lambda, where
	// AWS_LAMBDA_FUNCTION_NAME is not set.
	DefaultNamespace = "latch"
)

// cleanupTimeout bounds a complete or release that runs after the caller's
// context was already cancelled (see detach).
const cleanupTimeout = 5 * time.Second

// Config configures a Guard. Only Store is required; every other zero value
// is a working default.
type Config struct {
	// Store keeps the records. Required.
	Store Store

	// Namespace prefixes every stored id ("<namespace>#<sha256>"), so that
	// functions sharing a table do not share keys. Default: the Lambda
	// function name (AWS_LAMBDA_FUNCTION_NAME), else DefaultNamespace.
	Namespace string

	// TTL is how long a completed record answers duplicates, counted from
	// completion; it is also how long an abandoned INPROGRESS record lingers.
	// Default DefaultTTL (1 h). Make it longer than the longest time a
	// duplicate can arrive (SQS: visibility timeout × maxReceiveCount).
	TTL time.Duration

	// MaxLock caps how long a claim holds its lock. The lock dies at the
	// context deadline (a Lambda's remaining time) or after MaxLock,
	// whichever comes first; never unbounded. Default DefaultMaxLock (15 min,
	// Lambda's longest timeout, so it never cuts a Lambda's lock short).
	MaxLock time.Duration

	// LockWithoutDeadline is the lock's length when the context has no
	// deadline (a consumer outside Lambda), still capped by MaxLock. It is
	// how long a crashed holder blocks its key, and it must outlast the
	// function's work, or a duplicate can run beside it. Default
	// DefaultLockWithoutDeadline (1 min). Inside Lambda the invocation
	// deadline decides instead.
	LockWithoutDeadline time.Duration

	// CacheSize is the number of COMPLETED records kept in a local LRU
	// cache, so that a duplicate hitting the same warm container costs no
	// store call. INPROGRESS records are never cached. Default 0: no cache.
	CacheSize int

	// AllowMissingKey runs the function without idempotency when the key is
	// empty, instead of failing with ErrNoKey. Default false: a missing key
	// is a permanent error, because silently running twice is the failure
	// this package exists to prevent.
	AllowMissingKey bool

	// Now is the clock. Default time.Now. Tests inject a fake one to decide
	// expiry without sleeping. Lock lengths still come from the real
	// context deadline (its remaining time is added to Now()).
	Now func() time.Time
}

// Guard runs functions at most once per key. It is safe for concurrent use;
// make one per function at cold start and share it.
type Guard struct {
	store        Store
	namespace    string
	prefix       string
	ttl          time.Duration
	maxLock      time.Duration
	noDeadline   time.Duration
	cache        *lru.Cache[string, Record]
	seen         *lru.Cache[string, struct{}] // see expects
	allowMissing bool
	now          func() time.Time
}

// NewGuard validates cfg, fills its defaults and returns a Guard.
func NewGuard(cfg Config) (*Guard, error) {
	if cfg.Store == nil {
		return nil, errors.New("idempotency: Config.Store is nil")
	}
	if cfg.TTL < 0 || cfg.MaxLock < 0 || cfg.LockWithoutDeadline < 0 || cfg.CacheSize < 0 {
		return nil, fmt.Errorf("idempotency: negative TTL (%s), MaxLock (%s), LockWithoutDeadline (%s) or CacheSize (%d)",
			cfg.TTL, cfg.MaxLock, cfg.LockWithoutDeadline, cfg.CacheSize)
	}
	g := &Guard{
		store:        cfg.Store,
		namespace:    cfg.Namespace,
		ttl:          cfg.TTL,
		maxLock:      cfg.MaxLock,
		noDeadline:   cfg.LockWithoutDeadline,
		allowMissing: cfg.AllowMissingKey,
		now:          cfg.Now,
		seen:         newSeen(),
	}
	if g.namespace == "" {
		g.namespace = os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
	}
	if g.namespace == "" {
		g.namespace = DefaultNamespace
	}
	g.prefix = g.namespace + "#"
	if g.ttl == 0 {
		g.ttl = DefaultTTL
	}
	if g.maxLock == 0 {
		g.maxLock = DefaultMaxLock
	}
	if g.noDeadline == 0 {
		g.noDeadline = DefaultLockWithoutDeadline
	}
	if g.now == nil {
		g.now = time.Now
	}
	if cfg.CacheSize > 0 {
		c, err := lru.New[string, Record](cfg.CacheSize)
		if err != nil {
			return nil, fmt.Errorf("idempotency: cache: %w", err)
		}
		g.cache = c
	}
	return g, nil
}

// MustNewGuard is NewGuard for package-level initialisation; it panics on
// a configuration error.
func MustNewGuard(cfg Config) *Guard {
	g, err := NewGuard(cfg)
	if err != nil {
		panic(err)
	}
	return g
}

// Namespace returns the namespace in use.
func (g *Guard) Namespace() string { return g.namespace }

// KeyHash returns the stored id of a key: "<namespace>#<hex SHA-256 of id>".
// It is what logs and metrics may show instead of the raw key.
func (g *Guard) KeyHash(id string) string { return keyHash(g.prefix, id) }

// errNoKey is returned for every empty key: permanent, and errors.Is
// matches ErrNoKey.
var errNoKey error = &permanentError{err: ErrNoKey}

// ticket is the outcome of begin: what Do must do next.
type ticket struct {
	hash       string
	owner      string // set when this call holds the lock
	validation string
	display    string // Key.Display
	bypass     bool   // no key and AllowMissingKey: run without a record
	replay     bool   // a COMPLETED record answers: return data
	data       []byte // the stored result; nil if stored without one
}

// name is how errors name the ticket's key.
func (t *ticket) name() string { return keyName(t.display, t.hash) }

// begin answers from the cache or claims the key.
func (g *Guard) begin(ctx context.Context, key Key) (ticket, error) {
	if key.ID == "" {
		if g.allowMissing {
			return ticket{bypass: true}, nil
		}
		return ticket{}, errNoKey
	}
	t := ticket{hash: keyHash(g.prefix, key.ID), display: key.Display}
	if key.Payload != nil {
		t.validation = hashHex(key.Payload)
	}
	now := g.now()
	if g.cache != nil {
		if r, ok := g.cache.Get(t.hash); ok {
			if r.Live(now) {
				err := t.replayOf(&r)
				return t, err
			}
			g.cache.Remove(t.hash)
		}
	}
	lock, err := g.lockFor(ctx)
	if err != nil {
		return t, err
	}
	owner := rand.Text()
	held, err := g.store.Claim(ctx, Claim{
		KeyHash:    t.hash,
		Owner:      owner,
		Now:        now,
		LockExpiry: now.Add(lock),
		Expiry:     now.Add(g.ttl),
		Validation: t.validation,
	})
	if err != nil {
		return t, err
	}
	if held == nil {
		t.owner = owner
		return t, nil
	}
	return t, g.answer(&t, held)
}

// lockFor returns how long a claim made now under ctx holds its lock. A
// context already done fails as the claim would, as a *StoreError, so that
// every failure to reach the store has one shape.
func (g *Guard) lockFor(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, &StoreError{Op: "claim", Err: err}
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return min(g.noDeadline, g.maxLock), nil
	}
	lock := min(time.Until(deadline), g.maxLock)
	if lock <= 0 {
		return 0, &StoreError{Op: "claim", Err: context.DeadlineExceeded}
	}
	return lock, nil
}

// replayOf sets t to replay r, a live COMPLETED record, unless its payload
// hash differs.
func (t *ticket) replayOf(r *Record) error {
	if mismatch(r.Validation, t.validation) {
		return &PayloadMismatchError{KeyHash: t.hash, KeyDisplay: t.display}
	}
	t.replay = true
	t.data = r.Data
	return nil
}

// mismatch reports whether two payload hashes differ; a missing hash on
// either side matches anything (see Key.Payload).
func mismatch(stored, given string) bool {
	return stored != "" && given != "" && stored != given
}

// complete records the result of a successful run. encErr is the error of
// encoding the result, if any: the record is then completed without data,
// because the side effect happened either way.
func (g *Guard) complete(ctx context.Context, t ticket, data []byte, encErr error) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	expiry := g.now().Add(g.ttl)
	err := g.store.Complete(ctx, Completion{KeyHash: t.hash, Owner: t.owner, Data: data, Expiry: expiry})
	switch {
	case err == nil:
	case errors.Is(err, ErrResultTooLarge):
		data = nil
		var tl *ResultTooLargeError
		if errors.As(err, &tl) {
			tl.KeyDisplay = t.display
		}
	case errors.Is(err, ErrLockLost):
		return fmt.Errorf("%w (completing key %s)", err, t.name())
	default:
		return err
	}
	if g.cache != nil {
		g.cache.Add(t.hash, Record{
			KeyHash:    t.hash,
			Status:     StatusCompleted,
			Expiry:     time.Unix(expiry.Unix(), 0),
			Owner:      t.owner,
			Validation: t.validation,
			Data:       data,
		})
	}
	if encErr != nil {
		return &permanentError{err: fmt.Errorf("idempotency: key %s: result not stored, recorded as completed without data: %w", t.name(), encErr)}
	}
	return err
}

// release frees the key after the function failed (fnErr) or panicked
// (fnErr nil). The function's error comes back unchanged when the release
// works, and joined with the release's error when it does not.
func (g *Guard) release(ctx context.Context, t ticket, fnErr error) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	err := g.store.Release(ctx, t.hash, t.owner)
	if err == nil {
		return fnErr
	}
	if errors.Is(err, ErrLockLost) {
		err = fmt.Errorf("%w (releasing key %s)", err, t.name())
	}
	if fnErr == nil {
		return err
	}
	return &releaseError{fnErr: fnErr, releaseErr: err}
}

// releaseError is a function's error whose release failed too. It is
// errors.Join on one line: it ends up in one log line or DLQ attribute.
type releaseError struct{ fnErr, releaseErr error }

func (e *releaseError) Error() string {
	return e.fnErr.Error() + "; and then " + e.releaseErr.Error()
}

// Unwrap returns both errors, for errors.Is and errors.As.
func (e *releaseError) Unwrap() []error { return []error{e.fnErr, e.releaseErr} }

// detach returns a context for the bookkeeping after the function ran. The
// work is done by then, so recording it must not fail just because the
// caller's context was cancelled meanwhile; a live context is used as is.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}
