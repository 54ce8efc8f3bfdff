package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/metrics"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// feed is a paged feed of items "i0", "i1", ...: a page holds size items
// from the cursor (the index of its first item).
type feed struct {
	mu      sync.Mutex
	items   int
	size    int
	fetches int
	start   time.Time
	// failAt fails the next fetch at this cursor once, when set.
	failAt string
}

func (f *feed) Fetch(_ context.Context, cursor string) (handler.Page[string], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetches++
	if f.failAt != "" && cursor == f.failAt {
		f.failAt = ""
		return handler.Page[string]{}, errors.New("feed: 503")
	}
	from := 0
	if cursor != "" {
		from, _ = strconv.Atoi(cursor)
	}
	to := min(from+f.size, f.items)
	var p handler.Page[string]
	for i := from; i < to; i++ {
		p.Items = append(p.Items, "i"+strconv.Itoa(i))
	}
	p.Next = strconv.Itoa(to)
	p.More = to < f.items
	if to > 0 && !f.start.IsZero() {
		p.Watermark = f.start.Add(time.Duration(to-1) * time.Minute)
	}
	return p, nil
}

// itemEffects counts how often each item's effect happened.
type itemEffects struct {
	mu sync.Mutex
	n  map[string]int
}

func (e *itemEffects) add(item string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == nil {
		e.n = map[string]int{}
	}
	e.n[item]++
}

// exactlyOnce fails unless items i0..i(n-1) each happened once.
func (e *itemEffects) exactlyOnce(t *testing.T, n int) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range n {
		if got := e.n["i"+strconv.Itoa(i)]; got != 1 {
			t.Errorf("item i%d happened %d times, want once", i, got)
		}
	}
	if len(e.n) != n {
		t.Errorf("%d distinct items happened, want %d", len(e.n), n)
	}
}

// pollClock is a clock the test moves; tick advances it on every reading.
type pollClock struct {
	mu   sync.Mutex
	t    time.Time
	tick time.Duration
}

func (c *pollClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.tick)
	return c.t
}

func (c *pollClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newPollGuard(t *testing.T) *idempotency.Guard {
	t.Helper()
	g, err := idempotency.NewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), Namespace: "poll"})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// quiet discards the outcome lines of tests that do not read them.
var quiet = slog.New(slog.DiscardHandler)

func itemKey(s string) (idempotency.Key, error) { return idempotency.Key{ID: s}, nil }

func TestPollReadsTheFeedAcrossTicks(t *testing.T) {
	t.Parallel()
	clk := &pollClock{t: time.UnixMilli(1_800_000_000_000)}
	f := &feed{items: 25, size: 10, start: clk.t.Add(-time.Hour)}
	var eff itemEffects
	store := checkpoint.NewMemoryStore(checkpoint.MemoryConfig{Now: clk.Now})
	p, err := handler.NewPoller[string](f, handler.PollConfig[string]{
		Logger:      quiet,
		Checkpoints: store, Name: "feed", Now: clk.Now,
		Handle: func(_ context.Context, s string) error { eff.add(s); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := handler.PollResult{Pages: 3, Items: 25, Cursor: "25"}
	if diff := cmp.Diff(want, res, cmpopts.IgnoreFields(handler.PollResult{}, "Lag")); diff != "" {
		t.Errorf("first poll (-want +got):\n%s", diff)
	}
	if res.Lag <= 0 {
		t.Errorf("lag %v, want positive (the feed's newest item is in the past)", res.Lag)
	}
	// Nothing new: one fetch, nothing handled, the cursor stays.
	f.items = 28
	clk.Advance(time.Minute)
	res, err = p.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != 3 || res.Cursor != "28" || res.CursorAge < time.Minute {
		t.Errorf("second poll %+v, want 3 items to cursor 28, cursor age >= 1m", res)
	}
	eff.exactlyOnce(t, 28)
}

func TestPollStopsBeforeTheDeadlineAndResumes(t *testing.T) {
	t.Parallel()
	// Every clock reading moves 100ms: with a 2s budget a poll gets through
	// a few items, stops mid-page and commits only whole pages.
	clk := &pollClock{t: time.UnixMilli(1_800_000_000_000), tick: 100 * time.Millisecond}
	f := &feed{items: 40, size: 4}
	var eff itemEffects
	p, err := handler.NewPoller[string](f, handler.PollConfig[string]{
		Logger:      quiet,
		Checkpoints: checkpoint.NewMemoryStore(checkpoint.MemoryConfig{Now: clk.Now}), Name: "feed", Now: clk.Now,
		Margin: time.Second, MaxDuration: 2 * time.Second,
		Idempotency: newPollGuard(t), Key: itemKey,
		Handle: func(_ context.Context, s string) error { eff.add(s); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	ticks := 0
	for ; ticks < 100; ticks++ {
		res, err := p.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !res.StoppedEarly {
			break
		}
		if ticks == 0 && res.Items >= 40 {
			t.Fatalf("first poll did everything (%+v): the budget did not bind", res)
		}
	}
	if ticks < 2 {
		t.Errorf("caught up in %d ticks; the budget should take several", ticks+1)
	}
	eff.exactlyOnce(t, 40)
}

func TestPollWithDeadlineUsesMargin(t *testing.T) {
	t.Parallel()
	f := &feed{items: 5, size: 5}
	p, err := handler.NewPoller[string](f, handler.PollConfig[string]{
		Logger:      quiet,
		Checkpoints: checkpoint.NewMemoryStore(checkpoint.MemoryConfig{}), Name: "feed", Margin: time.Hour,
		Handle: func(context.Context, string) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // less than the margin
	defer cancel()
	res, err := p.Poll(ctx)
	if err != nil || !res.StoppedEarly || f.fetches != 0 {
		t.Errorf("poll with a deadline inside the margin: %+v, %v, %d fetches; want stopped early before any fetch", res, err, f.fetches)
	}
}

func TestPollCrashMidPageResumesWithEffectsOnce(t *testing.T) {
	t.Parallel()
	f := &feed{items: 12, size: 5}
	var eff itemEffects
	store := checkpoint.NewMemoryStore(checkpoint.MemoryConfig{})
	guard := newPollGuard(t)
	crashed := false
	cfg := handler.PollConfig[string]{
		Logger:      quiet,
		Checkpoints: store, Name: "feed", Idempotency: guard, Key: itemKey,
		Handle: func(_ context.Context, s string) error {
			if s == "i7" && !crashed {
				crashed = true
				return errors.New("process died") // retryable: the tick ends
			}
			eff.add(s)
			return nil
		},
	}
	p, err := handler.NewPoller[string](f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "process died") {
		t.Fatalf("first poll err = %v, want the item's failure", err)
	}
	cp, _, _ := store.Get(context.Background(), "feed")
	if cp.Cursor != "5" {
		t.Errorf("cursor after the crash %q, want 5 (the start of the page that failed)", cp.Cursor)
	}
	if _, err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	eff.exactlyOnce(t, 12)
}

func TestPollHeldByAnotherTick(t *testing.T) {
	t.Parallel()
	store := checkpoint.NewMemoryStore(checkpoint.MemoryConfig{})
	if _, err := store.Acquire(context.Background(), "feed", time.Minute); err != nil {
		t.Fatal(err)
	}
	f := &feed{items: 3, size: 3}
	var logs bytes.Buffer
	p, err := handler.NewPoller[string](f, handler.PollConfig[string]{
		Checkpoints: store, Name: "feed", Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Handle: func(context.Context, string) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	set, _ := metrics.NewSet("test")
	ctx := metrics.NewContext(context.Background(), set)
	res, err := p.Poll(ctx)
	if err != nil || !res.Held || f.fetches != 0 {
		t.Errorf("poll of a held checkpoint: %+v, %v, %d fetches; want held, no error, no fetch", res, err, f.fetches)
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("outcome line %q: %v", logs.String(), err)
	}
	if line["msg"] != handler.PollMessage || line["held"] != true || line["level"] != "INFO" {
		t.Errorf("outcome line %v, want an INFO %q with held=true", line, handler.PollMessage)
	}
	blob := string(bytes.Join(set.Encode(time.Now()), nil))
	if !strings.Contains(blob, `"`+handler.MetricPollHeld+`":1`) {
		t.Errorf("EMF %s lacks %s=1", blob, handler.MetricPollHeld)
	}
}

func TestPollOverlappingTicksHandleEachItemOnce(t *testing.T) {
	t.Parallel()
	f := &feed{items: 200, size: 7}
	var eff itemEffects
	store := checkpoint.NewMemoryStore(checkpoint.MemoryConfig{})
	// No idempotency: the lease alone must keep overlapping ticks apart.
	p, err := handler.NewPoller[string](f, handler.PollConfig[string]{
		Logger:      quiet,
		Checkpoints: store, Name: "feed", MaxPages: 3,
		Handle: func(_ context.Context, s string) error { eff.add(s); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				res, err := p.Poll(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if !res.Held && !res.StoppedEarly {
					return
				}
			}
		})
	}
	wg.Wait()
	eff.exactlyOnce(t, 200)
}

func TestPollStaleHolderCannotCommit(t *testing.T) {
	t.Parallel()
	for _, sink := range []bool{false, true} {
		t.Run(fmt.Sprintf("sink=%v", sink), func(t *testing.T) {
			t.Parallel()
			clk := &pollClock{t: time.UnixMilli(1_800_000_000_000)}
			store := checkpoint.NewMemoryStore(checkpoint.MemoryConfig{Now: clk.Now})
			f := &feed{items: 10, size: 5}
			taken := false
			// The tick stalls past its lease on its first page, and another
			// holder takes the checkpoint over meanwhile.
			stall := func(ctx context.Context) {
				if taken {
					return
				}
				taken = true
				clk.Advance(10 * time.Second)
				if _, err := store.Acquire(ctx, "feed", time.Minute); err != nil {
					t.Errorf("takeover: %v", err)
				}
			}
			cfg := handler.PollConfig[string]{
				Logger:      quiet,
				Checkpoints: store, Name: "feed", Now: clk.Now, MaxDuration: time.Second, Margin: time.Second, LeaseSlack: time.Second,
			}
			if sink {
				cfg.Sink = func(ctx context.Context, _ []string) error { stall(ctx); return nil }
			} else {
				cfg.Handle = func(ctx context.Context, s string) error {
					if s == "i2" {
						stall(ctx)
					}
					return nil
				}
			}
			p, err := handler.NewPoller[string](f, cfg)
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Poll(context.Background())
			if sink {
				// The sink's page is done, but the commit is fenced off.
				if !errors.Is(err, checkpoint.ErrLeaseLost) {
					t.Errorf("stalled poll err = %v, want ErrLeaseLost", err)
				}
			} else if err != nil || !res.StoppedEarly {
				// Inline items see the budget run out first and stop.
				t.Errorf("stalled poll: %+v, %v; want stopped early, no error", res, err)
			}
			cp, _, _ := store.Get(context.Background(), "feed")
			if cp.Cursor != "" || cp.Version != 0 {
				t.Errorf("the stale poll moved the cursor: %+v", cp)
			}
			if _, err := store.Acquire(context.Background(), "feed", time.Minute); !errors.Is(err, checkpoint.ErrHeld) {
				t.Errorf("the stale poll released the new holder's lease: Acquire err = %v", err)
			}
		})
	}
}

func TestPollSkipsPermanentItemFailures(t *testing.T) {
	t.Parallel()
	f := &feed{items: 4, size: 4}
	var eff itemEffects
	p, err := handler.NewPoller[string](f, handler.PollConfig[string]{
		Logger:      quiet,
		Checkpoints: checkpoint.NewMemoryStore(checkpoint.MemoryConfig{}), Name: "feed",
		Handle: func(_ context.Context, s string) error {
			if s == "i1" {
				return retry.Permanent(errors.New("bad item"))
			}
			eff.add(s)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Poll(context.Background())
	if err != nil || res.Skipped != 1 || res.Items != 4 || res.Cursor != "4" {
		t.Errorf("poll %+v, %v; want 4 items, 1 skipped, cursor 4", res, err)
	}
}

func TestPollSink(t *testing.T) {
	t.Parallel()
	f := &feed{items: 9, size: 4, failAt: ""}
	var pages [][]string
	fail := true
	store := checkpoint.NewMemoryStore(checkpoint.MemoryConfig{})
	p, err := handler.NewPoller[string](f, handler.PollConfig[string]{
		Logger:      quiet,
		Checkpoints: store, Name: "feed",
		Sink: func(_ context.Context, items []string) error {
			if items[0] == "i4" && fail {
				fail = false
				return errors.New("queue throttled")
			}
			pages = append(pages, items)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Poll(context.Background()); err == nil {
		t.Fatal("sink failure not returned")
	}
	if cp, _, _ := store.Get(context.Background(), "feed"); cp.Cursor != "4" {
		t.Errorf("cursor after a failed sink %q, want 4", cp.Cursor)
	}
	if _, err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"i0", "i1", "i2", "i3"}, {"i4", "i5", "i6", "i7"}, {"i8"}}
	if diff := cmp.Diff(want, pages); diff != "" {
		t.Errorf("pages sunk (-want +got):\n%s", diff)
	}
}

func TestPollFetchFailureKeepsTheCursor(t *testing.T) {
	t.Parallel()
	f := &feed{items: 8, size: 4, failAt: "4"}
	store := checkpoint.NewMemoryStore(checkpoint.MemoryConfig{})
	var eff itemEffects
	p, err := handler.NewPoller[string](f, handler.PollConfig[string]{
		Logger:      quiet,
		Checkpoints: store, Name: "feed",
		Handle: func(_ context.Context, s string) error { eff.add(s); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Poll(context.Background()); err == nil || retry.Classify(err) != retry.ClassRetryable {
		t.Fatalf("err = %v, want a retryable fetch failure", err)
	}
	if _, err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	eff.exactlyOnce(t, 8)
}

func TestNewPollerConfigErrors(t *testing.T) {
	t.Parallel()
	h := func(context.Context, string) error { return nil }
	s := func(context.Context, []string) error { return nil }
	store := checkpoint.NewMemoryStore(checkpoint.MemoryConfig{})
	tests := []struct {
		name string
		src  handler.Source[string]
		cfg  handler.PollConfig[string]
	}{
		{name: "no source", cfg: handler.PollConfig[string]{Checkpoints: store, Name: "n", Handle: h}},
		{name: "no store", src: &feed{}, cfg: handler.PollConfig[string]{Name: "n", Handle: h}},
		{name: "no name", src: &feed{}, cfg: handler.PollConfig[string]{Checkpoints: store, Handle: h}},
		{name: "neither handle nor sink", src: &feed{}, cfg: handler.PollConfig[string]{Checkpoints: store, Name: "n"}},
		{name: "both", src: &feed{}, cfg: handler.PollConfig[string]{Checkpoints: store, Name: "n", Handle: h, Sink: s}},
		{name: "guard without key", src: &feed{}, cfg: handler.PollConfig[string]{Checkpoints: store, Name: "n", Handle: h, Idempotency: newPollGuard(t)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := handler.NewPoller(tt.src, tt.cfg); !errors.Is(err, handler.ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
		})
	}
}

// BenchmarkPollTick is the poller's own cost per tick: acquire, one page
// of ten items handled inline, commit, release, outcome line, on the
// memory store (the DynamoDB round trips are in the integration bench).
func BenchmarkPollTick(b *testing.B) {
	for _, guarded := range []bool{false, true} {
		b.Run(fmt.Sprintf("guarded=%v", guarded), func(b *testing.B) {
			store := checkpoint.NewMemoryStore(checkpoint.MemoryConfig{})
			cfg := handler.PollConfig[string]{
				Logger:      quiet,
				Checkpoints: store, Name: "feed",
				Handle: func(context.Context, string) error { return nil },
			}
			if guarded {
				g, err := idempotency.NewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{}), Namespace: "b"})
				if err != nil {
					b.Fatal(err)
				}
				cfg.Idempotency, cfg.Key = g, itemKey
			}
			// A feed whose every page is ten new items.
			n := 0
			src := handler.SourceFunc[string](func(_ context.Context, cursor string) (handler.Page[string], error) {
				items := make([]string, 10)
				for i := range items {
					items[i] = "i" + strconv.Itoa(n)
					n++
				}
				return handler.Page[string]{Items: items, Next: strconv.Itoa(n)}, nil
			})
			p, err := handler.NewPoller[string](src, cfg)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Poll(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A key function's error fails its item as the error is classified: a
// permanent one skips the item (reported, never handled) and the feed moves
// on; a retryable one stops the poll at the item, which the next poll
// retries.
func TestPollKeyError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		keyErr    error
		wantErr   bool
		wantItems int
	}{
		{name: "permanent", keyErr: retry.Permanent(errors.New("item has no id")), wantItems: 4},
		{name: "retryable", keyErr: errors.New("id service down"), wantErr: true, wantItems: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var eff itemEffects
			p, err := handler.NewPoller[string](&feed{items: 5, size: 5}, handler.PollConfig[string]{
				Logger:      quiet,
				Checkpoints: checkpoint.NewMemoryStore(checkpoint.MemoryConfig{}), Name: "feed",
				Idempotency: newPollGuard(t),
				Key: func(s string) (idempotency.Key, error) {
					if strings.HasSuffix(s, "1") {
						return idempotency.Key{}, tt.keyErr
					}
					return idempotency.Key{ID: s}, nil
				},
				Handle: func(_ context.Context, s string) error { eff.add(s); return nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Poll(context.Background())
			if (err != nil) != tt.wantErr || tt.wantErr && !strings.Contains(err.Error(), "key: id service down") {
				t.Fatalf("Poll = %v, want an error: %v", err, tt.wantErr)
			}
			eff.mu.Lock()
			n := len(eff.n)
			eff.mu.Unlock()
			if n != tt.wantItems {
				t.Errorf("%d items handled, want %d", n, tt.wantItems)
			}
		})
	}
}
