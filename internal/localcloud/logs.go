package localcloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Invocation is one function invocation as its log group shows it: the
// lines between Lambda's START and REPORT lines for its request id.
type Invocation struct {
	RequestID string
	Lines     []string
	// Done is set once its REPORT line arrived.
	Done bool
}

// Follower tails the log groups of functions, as `aws logs tail --follow`
// does, writing every line to Out (the demo's outcome collector) and
// keeping each function's invocations in the order they started.
type Follower struct {
	logs   *cloudwatchlogs.Client
	out    io.Writer
	groups map[string]string // function name -> log group

	mu    sync.Mutex
	seen  map[string]map[string]int // group -> "stream\x00ts" -> events taken
	mark  map[string]int64          // group -> newest timestamp taken
	inv   map[string][]*Invocation  // function name -> invocations
	open  map[string]*Invocation    // request id -> invocation without REPORT
	taken map[string]int            // function name -> invocations handed out by Next
}

// lateWrites is how far back poll reads again.
const lateWrites = 5 * time.Second

// LogGroup returns the log group a function writes to: its LoggingConfig's,
// or Lambda's default /aws/lambda/<name>.
func LogGroup(ctx context.Context, lc *lambda.Client, function string) (string, error) {
	out, err := lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(function)})
	if err != nil {
		return "", fmt.Errorf("localcloud: function %s: %w", function, err)
	}
	if out.LoggingConfig != nil && aws.ToString(out.LoggingConfig.LogGroup) != "" {
		return aws.ToString(out.LoggingConfig.LogGroup), nil
	}
	return "/aws/lambda/" + function, nil
}

// NewFollower follows the log groups of the functions (by name) and writes
// their lines to out.
func NewFollower(logs *cloudwatchlogs.Client, groups map[string]string, out io.Writer) *Follower {
	return &Follower{logs: logs, out: out, groups: groups,
		seen: map[string]map[string]int{}, mark: map[string]int64{},
		inv: map[string][]*Invocation{}, open: map[string]*Invocation{}, taken: map[string]int{}}
}

// Run polls every log group each interval until ctx is done.
func (f *Follower) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for fn, g := range f.groups {
			_ = f.poll(ctx, fn, g) // a failed read is tried again next time
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sync reads every log group once more now: what was logged before the
// call is then seen.
func (f *Follower) Sync(ctx context.Context) error {
	var errs []error
	for fn, g := range f.groups {
		errs = append(errs, f.poll(ctx, fn, g))
	}
	return errors.Join(errs...)
}

// poll takes the group's events from a little before its newest timestamp
// on: a writer that stamped its events before a faster one can append them
// after it. Events in that overlap were taken already: per stream and
// timestamp, the first n of them were, and are skipped.
func (f *Follower) poll(ctx context.Context, fn, group string) error {
	f.mu.Lock()
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)}
	if m, ok := f.mark[group]; ok {
		in.StartTime = aws.Int64(m - lateWrites.Milliseconds())
	}
	f.mu.Unlock()
	var events []logtypes.FilteredLogEvent
	p := cloudwatchlogs.NewFilterLogEventsPaginator(f.logs, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			var nf *logtypes.ResourceNotFoundException
			if errors.As(err, &nf) {
				return nil // nothing logged yet
			}
			return err
		}
		events = append(events, out.Events...)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := f.seen[group]
	if seen == nil {
		seen = map[string]int{}
		f.seen[group] = seen
	}
	batch := map[string]int{}
	var b strings.Builder
	for _, e := range events {
		ts := aws.ToInt64(e.Timestamp)
		key := fmt.Sprintf("%s\x00%d", aws.ToString(e.LogStreamName), ts)
		batch[key]++
		if batch[key] <= seen[key] {
			continue
		}
		seen[key] = batch[key]
		if ts > f.mark[group] {
			f.mark[group] = ts
		}
		msg := strings.TrimRight(aws.ToString(e.Message), "\n")
		f.track(fn, msg)
		b.WriteString(msg)
		b.WriteByte('\n')
	}
	if b.Len() > 0 {
		_, _ = io.WriteString(f.out, b.String())
	}
	return nil
}

// track files a line under its invocation: Lambda brackets each one with
// "START RequestId: <id>" and "REPORT RequestId: <id>".
func (f *Follower) track(fn, line string) {
	switch {
	case strings.HasPrefix(line, "START RequestId: "):
		id := firstField(strings.TrimPrefix(line, "START RequestId: "))
		iv := &Invocation{RequestID: id}
		f.inv[fn] = append(f.inv[fn], iv)
		f.open[id] = iv
	case strings.HasPrefix(line, "REPORT RequestId: "):
		id := firstField(strings.TrimPrefix(line, "REPORT RequestId: "))
		if iv := f.open[id]; iv != nil {
			iv.Done = true
			delete(f.open, id)
		}
	case strings.HasPrefix(line, "END RequestId: "):
	default:
		// A line belongs to the function's one open invocation; with
		// several open at once (concurrent invocations) it cannot be told
		// apart from its neighbours, and is kept with the newest.
		ivs := f.inv[fn]
		for i := len(ivs) - 1; i >= 0; i-- {
			if !ivs[i].Done {
				ivs[i].Lines = append(ivs[i].Lines, line)
				break
			}
		}
	}
}

func firstField(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

// Invocations returns how many invocations of fn have finished.
func (f *Follower) Invocations(fn string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, iv := range f.inv[fn] {
		if iv.Done {
			n++
		}
	}
	return n
}

// Next waits for the next finished invocation of fn that Next has not
// returned yet, oldest first, until ctx is done.
func (f *Follower) Next(ctx context.Context, fn string) (Invocation, error) {
	for {
		f.mu.Lock()
		ivs := f.inv[fn]
		if i := f.taken[fn]; i < len(ivs) && ivs[i].Done {
			f.taken[fn]++
			iv := *ivs[i]
			iv.Lines = append([]string(nil), iv.Lines...)
			f.mu.Unlock()
			return iv, nil
		}
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return Invocation{}, fmt.Errorf("localcloud: no invocation of %s: %w", fn, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
