package handler_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
)

// idempotency.Wrap promises a function assignable to Func without a
// conversion. The check lives here, not in idempotency's tests, so that no
// idempotency test binary imports handler (the dependency runs one way).
var _ handler.Func[string, int] = idempotency.Wrap[string, int](nil, nil, nil)

// trailMW returns a middleware that notes when the request passes through
// it on the way in and on the way out.
func trailMW(name string, trail *[]string) handler.Middleware[string, string] {
	return func(next handler.Func[string, string]) handler.Func[string, string] {
		return func(ctx context.Context, in string) (string, error) {
			*trail = append(*trail, name+">")
			out, err := next(ctx, in+"+"+name)
			*trail = append(*trail, "<"+name)
			return out, err
		}
	}
}

func TestChainOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mw        []string
		wantTrail []string
		wantOut   string
	}{
		{name: "no middleware", wantTrail: []string{"f"}, wantOut: "in"},
		{name: "one", mw: []string{"a"}, wantTrail: []string{"a>", "f", "<a"}, wantOut: "in+a"},
		{
			name:      "first is outermost",
			mw:        []string{"a", "b", "c"},
			wantTrail: []string{"a>", "b>", "c>", "f", "<c", "<b", "<a"},
			wantOut:   "in+a+b+c",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var trail []string
			f := func(_ context.Context, in string) (string, error) {
				trail = append(trail, "f")
				return in, nil
			}
			var mw []handler.Middleware[string, string]
			for _, n := range tt.mw {
				mw = append(mw, trailMW(n, &trail))
			}
			out, err := handler.Chain(f, mw...)(context.Background(), "in")
			if err != nil {
				t.Fatal(err)
			}
			if out != tt.wantOut {
				t.Errorf("out = %q, want %q", out, tt.wantOut)
			}
			if diff := cmp.Diff(tt.wantTrail, trail); diff != "" {
				t.Errorf("trail (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChainSkipsNilAndPassesErrors(t *testing.T) {
	t.Parallel()
	var trail []string
	boom := errors.New("boom")
	f := func(context.Context, string) (string, error) { return "", boom }
	_, err := handler.Chain(f, nil, trailMW("a", &trail), nil)(context.Background(), "x")
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if diff := cmp.Diff([]string{"a>", "<a"}, trail); diff != "" {
		t.Errorf("trail (-want +got):\n%s", diff)
	}
}

func ExampleChain() {
	upper := func(_ context.Context, in string) (string, error) { return strings.ToUpper(in), nil }
	exclaim := func(next handler.Func[string, string]) handler.Func[string, string] {
		return func(ctx context.Context, in string) (string, error) {
			out, err := next(ctx, in)
			return out + "!", err
		}
	}
	greet := func(next handler.Func[string, string]) handler.Func[string, string] {
		return func(ctx context.Context, in string) (string, error) {
			return next(ctx, "hello "+in)
		}
	}
	f := handler.Chain(upper, exclaim, greet)
	out, _ := f(context.Background(), "latch")
	fmt.Println(out)
	// Output: HELLO LATCH!
}
