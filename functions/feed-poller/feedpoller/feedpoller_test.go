package feedpoller_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/latchkit/latch/functions/feed-poller/feedpoller"
	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// counter is the feed table: how often each item's effect ran.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[in.Key[feedpoller.AttrID].(*ddbtypes.AttributeValueMemberS).Value]++
	return &dynamodb.UpdateItemOutput{}, nil
}

// serveFeed serves items 0..n-1, size a page, with item crashAt marked to
// crash on its first serving and the page at cursor fail503 failing once.
func serveFeed(t *testing.T, n, size, crashAt int, fail503 string) *httptest.Server {
	var mu sync.Mutex
	served := map[int]bool{}
	failed := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		cursor := r.URL.Query().Get("cursor")
		if cursor == fail503 && !failed {
			failed = true
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		from, _ := strconv.Atoi(cursor)
		to := min(from+size, n)
		p := feedpoller.PageJSON{Next: strconv.Itoa(to), More: to < n}
		for i := from; i < to; i++ {
			p.Items = append(p.Items, feedpoller.Item{ID: fmt.Sprintf("f%03d", i), CustomerID: "c1", AmountCents: 1, Crash: i == crashAt && !served[i]})
			served[i] = true
		}
		_ = json.NewEncoder(w).Encode(p)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPollerCrashAndFailuresKeepEffectsSingle(t *testing.T) {
	t.Parallel()
	srv := serveFeed(t, 23, 5, 12, "15")
	guard, err := idempotency.NewGuard(idempotency.Config{Store: idempotency.NewMemoryStore(), Namespace: "feed-poller"})
	if err != nil {
		t.Fatal(err)
	}
	db := &counter{n: map[string]int{}}
	p, err := feedpoller.NewPoller(feedpoller.Config{
		Source: feedpoller.HTTPSource{URL: srv.URL}, Checkpoints: checkpoint.NewMemoryStore(nil), Guard: guard,
		DynamoDB: db, FeedTable: "feed", CrashInjection: true,
		Crash: func() error { return errors.New("crashed") },
	})
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for range 10 {
		res, err := p.Poll(context.Background())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !res.StoppedEarly && res.Cursor == "23" {
			break
		}
	}
	if len(errs) != 2 {
		t.Errorf("%d failed ticks (%v), want 2: the crash and the 503", len(errs), errs)
	}
	for i := range 23 {
		if got := db.n[fmt.Sprintf("f%03d", i)]; got != 1 {
			t.Errorf("item f%03d counted %d times, want once", i, got)
		}
	}
}

func TestHTTPSourceClassifiesAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		perm   bool
	}{
		{name: "503 is retryable", status: 503, body: "busy"},
		{name: "429 is retryable", status: 429, body: "slow down"},
		{name: "404 is permanent", status: 404, body: "no feed", perm: true},
		{name: "not JSON is permanent", status: 200, body: "<html>", perm: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			_, err := feedpoller.HTTPSource{URL: srv.URL}.Fetch(context.Background(), "")
			if err == nil || (retry.Classify(err) == retry.ClassPermanent) != tt.perm {
				t.Errorf("err = %v, want permanent=%v", err, tt.perm)
			}
		})
	}
}

// TestBuildNamesEveryProblem: a cold start with nothing set names every
// required variable in one error; with them set it builds.
func TestBuildNamesEveryProblem(t *testing.T) {
	t.Parallel()
	opts := function.Options{AWS: &aws.Config{Region: "us-east-1"}, Getenv: func(string) string { return "" }}
	_, _, err := function.Prepare(context.Background(), opts, feedpoller.Build)
	for _, want := range []string{"LATCH_CHECKPOINT_TABLE (or LATCH_IDEMPOTENCY_TABLE) is not set", "FEED_URL is not set", "FEED_TABLE is not set"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Build with nothing set: %v; want it to say %q", err, want)
		}
	}
	vars := map[string]string{"LATCH_IDEMPOTENCY_TABLE": "idem", "FEED_URL": "http://feed", "FEED_TABLE": "feed", "TRANSIENT_FAULT_PERCENT": "10"}
	opts.Getenv = func(k string) string { return vars[k] }
	if _, _, err := function.Prepare(context.Background(), opts, feedpoller.Build); err != nil {
		t.Errorf("Build with every variable set: %v", err)
	}
}
