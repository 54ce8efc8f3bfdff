package feedpoller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/retry"
)

// Item is one entry of the feed.
type Item struct {
	ID          string    `json:"id"`
	CustomerID  string    `json:"customerId"`
	AmountCents int64     `json:"amountCents"`
	At          time.Time `json:"at"`
	// Crash asks the function to exit before the item's effect, when fault
	// injection is on (the demo's crash mid-page). Production feeds never
	// set it.
	Crash bool `json:"crash,omitempty"`
}

// PageJSON is the feed's answer to GET <feed URL>?cursor=<cursor>.
type PageJSON struct {
	Items     []Item    `json:"items"`
	Next      string    `json:"next"`
	More      bool      `json:"more"`
	Watermark time.Time `json:"watermark,omitzero"`
}

// HTTPSource reads the feed over HTTP: a handler.Source[Item].
type HTTPSource struct {
	// URL is the feed's address; the cursor goes in its "cursor" query
	// parameter.
	URL string
	// Client makes the requests. Nil means a client with a 10 s timeout.
	Client *http.Client
}

var _ handler.Source[Item] = HTTPSource{}

// Fetch implements handler.Source. A 5xx or 429 answer is retryable (the
// tick fails and the next one fetches the page again); any other non-200
// answer is permanent.
func (s HTTPSource) Fetch(ctx context.Context, cursor string) (handler.Page[Item], error) {
	u, err := url.Parse(s.URL)
	if err != nil {
		return handler.Page[Item]{}, retry.Permanent(fmt.Errorf("feed URL %q: %w", s.URL, err))
	}
	q := u.Query()
	q.Set("cursor", cursor)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return handler.Page[Item]{}, retry.Permanent(err)
	}
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return handler.Page[Item]{}, fmt.Errorf("feed: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return handler.Page[Item]{}, fmt.Errorf("feed: read page: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("feed: %s at cursor %q: %.200s", resp.Status, cursor, body)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return handler.Page[Item]{}, err
		}
		return handler.Page[Item]{}, retry.Permanent(err)
	}
	var p PageJSON
	if err := json.Unmarshal(body, &p); err != nil {
		return handler.Page[Item]{}, retry.Permanent(fmt.Errorf("feed: page at cursor %q is not JSON: %w", cursor, err))
	}
	if p.More && p.Next == cursor {
		return handler.Page[Item]{}, retry.Permanent(errors.New("feed: more pages but the cursor did not move"))
	}
	return handler.Page[Item]{Items: p.Items, Next: p.Next, More: p.More, Watermark: p.Watermark}, nil
}
