package demo

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/latchkit/latch/functions/feed-poller/feedpoller"
)

// FeedConfig sizes the paged feed the demo serves to feed-poller. The zero
// value is the demo's.
type FeedConfig struct {
	Items    int // default 150
	PageSize int // default 10
	// PageDelay slows each answer, as a remote API is slow; default 50ms.
	PageDelay time.Duration
}

// Feed is the paged HTTP feed the demo serves locally, with injected
// failures: one page answers 503 the first time it is asked for, and one
// item in the middle of a page asks the function to crash the first time it
// is served (Item.Crash, honoured with fault injection on). Its cursor is
// "<run>:<index>", so a checkpoint left by an earlier run starts this run's
// feed from its beginning.
type Feed struct {
	cfg  FeedConfig
	run  string
	srv  *http.Server
	ln   net.Listener
	fail int // page start index that answers 503 once
	bomb int // item index served once with Crash set

	mu          sync.Mutex
	failed      bool
	crashServed bool
	requests    int
}

// NewFeed starts the feed on a free loopback port.
func NewFeed(cfg FeedConfig) (*Feed, error) {
	if cfg.Items == 0 {
		cfg.Items = 150
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 10
	}
	if cfg.PageDelay == 0 {
		cfg.PageDelay = 50 * time.Millisecond
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: feed: %w", err)
	}
	pages := (cfg.Items + cfg.PageSize - 1) / cfg.PageSize
	f := &Feed{
		cfg: cfg, run: fmt.Sprintf("f%d", time.Now().UnixNano()%1_000_000), ln: ln,
		fail: (pages * 2 / 3) * cfg.PageSize,          // late in the feed
		bomb: (pages/3)*cfg.PageSize + cfg.PageSize/2, // mid-page, early
	}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

// URL is the feed's address, for the template's FeedURL parameter.
func (f *Feed) URL() string { return "http://" + f.ln.Addr().String() + "/feed" }

// Close stops the server.
func (f *Feed) Close() error { return f.srv.Close() }

// ItemID is the id of the feed's item i.
func (f *Feed) ItemID(i int) string { return fmt.Sprintf("%s-item%04d", f.run, i) }

// Prefix is what every item id of this run starts with.
func (f *Feed) Prefix() string { return f.run + "-item" }

// CrashServed reports whether the crash item went out.
func (f *Feed) CrashServed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.crashServed
}

// FailServed reports whether the injected 503 went out. It may go to the
// demo's own overlapping poller rather than to a tick: either way a poller
// had to resume past it.
func (f *Feed) FailServed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// ServeHTTP answers GET ?cursor=.
func (f *Feed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(f.cfg.PageDelay)
	from := 0
	if run, idx, ok := strings.Cut(r.URL.Query().Get("cursor"), ":"); ok && run == f.run {
		n, err := strconv.Atoi(idx)
		if err != nil || n < 0 || n > f.cfg.Items {
			http.Error(w, "bad cursor", http.StatusBadRequest)
			return
		}
		from = n
	}
	f.mu.Lock()
	f.requests++
	if from == f.fail && !f.failed {
		f.failed = true
		f.mu.Unlock()
		http.Error(w, "feed: injected 503", http.StatusServiceUnavailable)
		return
	}
	to := min(from+f.cfg.PageSize, f.cfg.Items)
	p := feedpoller.PageJSON{Next: f.run + ":" + strconv.Itoa(to), More: to < f.cfg.Items, Items: []feedpoller.Item{}}
	start := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for i := from; i < to; i++ {
		it := feedpoller.Item{ID: f.ItemID(i), CustomerID: fmt.Sprintf("c%02d", i%7), AmountCents: int64(100 + i), At: start.Add(time.Duration(i) * time.Minute)}
		if i == f.bomb && !f.crashServed {
			it.Crash = true
			f.crashServed = true
		}
		p.Items = append(p.Items, it)
		p.Watermark = it.At
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(p)
}
