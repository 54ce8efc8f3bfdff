package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/handler/metrics"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// PollConfig configures a Poller (NewPoller). Checkpoints, Name and
// exactly one of Handle and Sink are required.
type PollConfig[T any] struct {
	// Checkpoints keeps the cursor under a lease (checkpoint.DynamoDBStore
	// in Lambda). Required.
	Checkpoints checkpoint.Store
	// Name is the checkpoint's name: one per poller and source. Required.
	Name string
	// Handle handles one item inline. With Idempotency it runs once per
	// item across ticks, retries and crashes. A retryable failure ends the
	// tick before the page is committed: the next tick fetches the page
	// again and the items that succeeded are duplicates. A permanent
	// failure (retry.Permanent) is reported and skipped, so one bad item
	// cannot stall the feed.
	Handle func(ctx context.Context, item T) error
	// Sink takes a whole page instead: fan it out to a queue
	// (producer.Queue.SendBatch), where each item gets the SQS processor's
	// retries and dead-letter queue. An error ends the tick before the page
	// is committed, so the page is sent again next tick; FIFO deduplication
	// or the consumer's idempotency keeps the copies harmless.
	Sink func(ctx context.Context, items []T) error
	// Idempotency runs Handle once per item. Default nil: every fetch of a
	// page runs its items again. Requires Key.
	Idempotency *idempotency.Guard
	// Key derives an item's idempotency key (its id in the feed), in the
	// shape of every key function of this package: an error fails the
	// item, classified as the error says (retry.Permanent skips it and
	// the feed moves on; any other error stops the poll at it).
	Key func(T) (idempotency.Key, error)
	// Margin is how long before the invocation's deadline the poll stops
	// taking new items, commits and releases. Default 5s: one page's
	// handling plus a commit must fit in it.
	Margin time.Duration
	// MaxDuration bounds a poll whose context has no deadline (a local
	// run, a test). Default 1 minute.
	MaxDuration time.Duration
	// MaxPages bounds the pages of one poll. Default 0: no bound but time.
	MaxPages int
	// LeaseSlack is added to the poll's budget to make the checkpoint's
	// lease: a holder killed at its deadline holds the feed that much
	// longer, and a holder is never still working when its lease dies.
	// Default 5s.
	LeaseSlack time.Duration
	// Observer is told about every item handled inline. Default
	// NopObserver.
	Observer Observer
	// Logger writes the poll's outcome line. Default: the Observer's
	// logger when it has one, else slog.Default().
	Logger *slog.Logger
	// Now is the clock of the budget and the metrics. Default time.Now.
	Now func() time.Time
}

// Defaults of PollConfig's zero fields.
const (
	DefaultPollMargin      = 5 * time.Second
	DefaultPollMaxDuration = time.Minute
	DefaultPollLeaseSlack  = 5 * time.Second
)

// PollSource is the Delivery Source of an item a poller handles.
const PollSource = "latch.poll"

// Metric names of a poll, in the invocation's metric set (wrap the handler
// in telemetry.Observe).
const (
	MetricPollItems        = "PollItems"
	MetricPollPages        = "PollPages"
	MetricPollCursorAge    = "PollCursorAge"
	MetricPollLag          = "PollLag"
	MetricPollStoppedEarly = "PollStoppedEarly"
	MetricPollHeld         = "PollHeld"
)

// PollMessage is the message of a poll's outcome line.
const PollMessage = "poll finished"

// PollResult says what one poll did.
type PollResult struct {
	// Held is true when another poll held the checkpoint: this one did
	// nothing, and that is not a failure.
	Held bool
	// Pages and Items count what was committed; Skipped counts items
	// dropped for a permanent failure.
	Pages, Items, Skipped int
	// Cursor is the checkpoint's cursor at the end.
	Cursor string
	// StoppedEarly is true when the poll stopped for time or MaxPages with
	// the feed not caught up: the next tick goes on from Cursor.
	StoppedEarly bool
	// CursorAge is how long the cursor had not moved when the poll began.
	CursorAge time.Duration
	// Lag is now minus the checkpoint's watermark at the end; zero when
	// the feed has no watermark.
	Lag time.Duration
}

// Poller reads a Source page by page from a durable checkpoint. Make one
// with NewPoller; run it with Poll, from a test or a local loop, or on a
// schedule with NewPollSchedule, whose ticks each call Poll.
type Poller[T any] struct {
	src Source[T]
	cfg PollConfig[T]
	log *slog.Logger
}

// MustNewPoller is NewPoller that panics on a config error, for
// package-level wiring at cold start.
func MustNewPoller[T any](src Source[T], cfg PollConfig[T]) *Poller[T] {
	p, err := NewPoller(src, cfg)
	if err != nil {
		panic(err)
	}
	return p
}

// NewPoller checks cfg and returns a Poller. Errors wrap ErrConfig.
func NewPoller[T any](src Source[T], cfg PollConfig[T]) (*Poller[T], error) {
	bad := func(why string) (*Poller[T], error) { return nil, configError("%s", why) }
	switch {
	case src == nil:
		return bad("the Source given to NewPoller is nil")
	case cfg.Checkpoints == nil:
		return bad("PollConfig.Checkpoints is nil: pass a checkpoint.Store")
	case cfg.Name == "":
		return bad("PollConfig.Name is empty: name the checkpoint, one per poller and source")
	case (cfg.Handle == nil) == (cfg.Sink == nil):
		return bad("PollConfig: set exactly one of Handle and Sink")
	case cfg.Idempotency != nil && cfg.Key == nil:
		return bad("PollConfig.Idempotency is set without a Key: key items by their id in the feed")
	case cfg.Idempotency != nil && cfg.Handle == nil:
		return bad("PollConfig.Idempotency guards Handle; a Sink's consumer keeps its own")
	}
	if cfg.Margin <= 0 {
		cfg.Margin = DefaultPollMargin
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = DefaultPollMaxDuration
	}
	if cfg.LeaseSlack <= 0 {
		cfg.LeaseSlack = DefaultPollLeaseSlack
	}
	if cfg.Observer == nil {
		cfg.Observer = NopObserver{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Poller[T]{src: src, cfg: cfg, log: loggerOf(cfg.Logger, cfg.Observer)}, nil
}

// Poll runs one poll: it takes the checkpoint's lease (or returns at once
// with Held when another poll has it), then fetches, handles and commits
// page after page until the feed is caught up, MaxPages is reached, or the
// budget — the context's deadline less Margin, or MaxDuration — runs out;
// it releases the lease, writes its outcome line and metrics, and returns.
//
// Fetch, Handle and Sink run under the poll's own deadline (the budget
// plus Margin; the lease lasts LeaseSlack longer), so none outlives the
// lease. A panic in any of them is recovered, logged with its stack and
// returned as a retryable *PanicError (an item's is reported to the
// Observer too, as the SQS processor reports a record's); the page is not
// committed and the lease is released, as after any failure.
//
// Each page is committed only after all its items were handled, so a poll
// that dies mid-page leaves the cursor at the page's start: the next poll
// fetches the page again, and the item idempotency makes its effects
// single. A poll whose lease was lost (it overran, and another took over)
// stops without moving the cursor.
func (p *Poller[T]) Poll(ctx context.Context) (res PollResult, err error) {
	start := p.cfg.Now()
	stopAt := start.Add(p.cfg.MaxDuration)
	if d, ok := ctx.Deadline(); ok {
		stopAt = d.Add(-p.cfg.Margin)
	}
	lease, err := p.cfg.Checkpoints.Acquire(ctx, p.cfg.Name, stopAt.Sub(start)+p.cfg.Margin+p.cfg.LeaseSlack)
	if errors.Is(err, checkpoint.ErrHeld) {
		res.Held = true
		p.report(ctx, start, res, nil)
		return res, nil
	}
	if err != nil {
		p.report(ctx, start, res, err)
		return res, err
	}
	// Release in a defer, even when ctx ended or something panicked: a
	// lease left behind holds the feed until it dies.
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.Margin)
		defer cancel()
		if rerr := p.cfg.Checkpoints.Release(rctx, lease); rerr != nil && err == nil && !errors.Is(rerr, checkpoint.ErrLeaseLost) {
			err = rerr
		}
		p.report(ctx, start, res, err)
	}()
	if !lease.UpdatedAt.IsZero() {
		res.CursorAge = start.Sub(lease.UpdatedAt)
	}
	// The pages run under the poll's own deadline, the lease's end less
	// its slack, so that no Fetch, Handle or Sink outlives the lease, in
	// Lambda or outside it.
	pctx, cancel := context.WithTimeout(ctx, stopAt.Sub(start)+p.cfg.Margin)
	defer cancel()
	err = p.pages(pctx, &lease, &res, stopAt)
	res.Cursor = lease.Cursor
	if !lease.Watermark.IsZero() {
		res.Lag = p.cfg.Now().Sub(lease.Watermark)
	}
	return res, err
}

// protect runs f, one call of the poller's user code (what names it),
// turning a panic into a *PanicError logged with its stack, as the SQS
// processor does for a record function.
func (p *Poller[T]) protect(ctx context.Context, what string, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			pe := &PanicError{Value: v, Stack: debug.Stack()}
			p.log.ErrorContext(ctx, "handler: poll "+what+" panicked",
				slog.String("poller", p.cfg.Name),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(pe.Stack)))
			err = pe
		}
	}()
	return f()
}

// pages is the loop of one poll.
func (p *Poller[T]) pages(ctx context.Context, lease *checkpoint.Lease, res *PollResult, stopAt time.Time) error {
	for {
		if p.cfg.MaxPages > 0 && res.Pages >= p.cfg.MaxPages || !p.cfg.Now().Before(stopAt) {
			res.StoppedEarly = true
			return nil
		}
		var page Page[T]
		err := p.protect(ctx, "Fetch", func() (err error) { page, err = p.src.Fetch(ctx, lease.Cursor); return err })
		if err != nil {
			return fmt.Errorf("handler: poll %s: fetch at cursor %q: %w", p.cfg.Name, lease.Cursor, err)
		}
		done, skipped, err := p.handle(ctx, page.Items, stopAt)
		if err != nil {
			return err
		}
		if !done {
			res.StoppedEarly = true // mid-page: the page is fetched again next tick
			return nil
		}
		next, err := p.cfg.Checkpoints.Commit(ctx, *lease, checkpoint.Position{Cursor: page.Next, Watermark: page.Watermark})
		if err != nil {
			return fmt.Errorf("handler: poll %s: commit cursor %q: %w", p.cfg.Name, page.Next, err)
		}
		*lease = next
		res.Pages++
		res.Items += len(page.Items)
		res.Skipped += skipped
		if !page.More {
			return nil
		}
	}
}

// handle runs a page's items. done is false when the budget ran out before
// the last item: the page must not be committed.
func (p *Poller[T]) handle(ctx context.Context, items []T, stopAt time.Time) (done bool, skipped int, err error) {
	if p.cfg.Sink != nil {
		if len(items) == 0 {
			return true, 0, nil
		}
		if err := p.protect(ctx, "Sink", func() error { return p.cfg.Sink(ctx, items) }); err != nil {
			return false, 0, fmt.Errorf("handler: poll %s: sink: %w", p.cfg.Name, err)
		}
		return true, 0, nil
	}
	for i, item := range items {
		if !p.cfg.Now().Before(stopAt) {
			return false, skipped, nil
		}
		rep, err := p.item(ctx, i, item)
		if err == nil {
			continue
		}
		if rep.Class == retry.ClassPermanent {
			skipped++
			continue
		}
		return false, skipped, fmt.Errorf("handler: poll %s: item %d: %w", p.cfg.Name, i, err)
	}
	return true, skipped, nil
}

// item runs one item under the guard and tells the observer.
func (p *Poller[T]) item(ctx context.Context, i int, item T) (Report, error) {
	d := Delivery{Source: PollSource, ID: p.cfg.Name + "#" + strconv.Itoa(i), Attempt: 1}
	var key idempotency.Key
	var keyErr error
	if p.cfg.Key != nil {
		if key, keyErr = p.cfg.Key(item); keyErr == nil {
			d.ID = key.ID
		}
	}
	if inv, ok := InvocationFromContext(ctx); ok {
		d.CorrelationID = inv.RequestID
	}
	ctx = p.cfg.Observer.RecordStarted(ContextWithDelivery(ctx, d), d)
	start := p.cfg.Now()
	rep := Report{Delivery: d}
	var err error
	handle := func(ctx context.Context) error {
		return p.protect(ctx, "Handle", func() error { return p.cfg.Handle(ctx, item) })
	}
	switch {
	case keyErr != nil:
		err = fmt.Errorf("handler: poll %s: item %d: key: %w", p.cfg.Name, i, keyErr)
	case p.cfg.Idempotency == nil:
		err = handle(ctx)
	default:
		var r idempotency.Result[struct{}]
		r, err = idempotency.Do(ctx, p.cfg.Idempotency, key, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, handle(ctx)
		})
		rep.KeyHash, rep.KeyDisplay = r.KeyHash, key.Display
		if err == nil && r.Replayed {
			rep.Outcome = Duplicate
		}
	}
	switch {
	case err == nil && rep.Outcome == "":
		rep.Outcome = Succeeded
	case err != nil:
		rep.Err, rep.Class = err, retry.Classify(err)
		rep.Outcome = Failed
		if rep.Class == retry.ClassRetryable {
			rep.Outcome = RetryScheduled
		}
	}
	rep.Duration = p.cfg.Now().Sub(start)
	p.cfg.Observer.RecordFinished(ctx, rep)
	return rep, err
}

// report writes the poll's outcome line and adds its metrics to the
// invocation's set.
func (p *Poller[T]) report(ctx context.Context, start time.Time, res PollResult, err error) {
	if set, ok := metrics.FromContext(ctx); ok {
		// latch's own names and units: valid, no error.
		_ = set.Add(MetricPollItems, metrics.UnitCount, float64(res.Items))
		_ = set.Add(MetricPollPages, metrics.UnitCount, float64(res.Pages))
		_ = set.Add(MetricPollStoppedEarly, metrics.UnitCount, b2f(res.StoppedEarly))
		_ = set.Add(MetricPollHeld, metrics.UnitCount, b2f(res.Held))
		if res.CursorAge > 0 {
			_ = set.Put(MetricPollCursorAge, metrics.UnitSeconds, res.CursorAge.Seconds())
		}
		if res.Lag > 0 {
			_ = set.Put(MetricPollLag, metrics.UnitSeconds, res.Lag.Seconds())
		}
	}
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("poller", p.cfg.Name),
		slog.Bool("held", res.Held),
		slog.Int("pages", res.Pages),
		slog.Int("items", res.Items),
		slog.Int("skipped", res.Skipped),
		slog.String("cursor", res.Cursor),
		slog.Bool("stopped_early", res.StoppedEarly),
		slog.Float64("cursor_age_s", res.CursorAge.Seconds()),
		slog.Float64("lag_s", res.Lag.Seconds()),
		slog.Float64("duration_ms", float64(p.cfg.Now().Sub(start))/float64(time.Millisecond)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()), slog.String("error_class", retry.Classify(err).String()))
	}
	p.log.LogAttrs(ctx, level, PollMessage, attrs...)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
