package localcloud

import (
	"strings"
	"testing"

	"github.com/latchkit/latch/internal/template"
)

func TestInvocationError(t *testing.T) {
	t.Parallel()
	item := `{"level":"INFO","outcome":"succeeded","source":"latch.poll","message_id":"f1"}`
	for _, tc := range []struct {
		name    string
		lines   []string
		wantErr string // "" for success
	}{
		{name: "tick succeeded", lines: []string{item, `{"outcome":"succeeded","source":"aws.events"}`}},
		{name: "tick duplicate", lines: []string{`2026/12/08 {"outcome":"duplicate","source":"aws.events"}`}},
		{name: "tick failed", lines: []string{item, `{"outcome":"failed","source":"aws.events","error":"feed: 503"}`}, wantErr: "feed: 503"},
		{name: "items then the process died", lines: []string{item, item}, wantErr: "latch.poll"},
		{name: "no output", wantErr: "the process died"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := invocationError(Invocation{RequestID: "r1", Lines: tc.lines, Done: true})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("invocationError = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("invocationError = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestFollowerTrack(t *testing.T) {
	t.Parallel()
	f := NewFollower(nil, nil, nil)
	for _, l := range []string{
		"START RequestId: a Version: $LATEST", "one", "END RequestId: a", "REPORT RequestId: a\tDuration: 1 ms",
		"START RequestId: b Version: $LATEST", "two",
	} {
		f.track("fn", l)
	}
	if n := f.Invocations("fn"); n != 1 {
		t.Fatalf("Invocations = %d, want 1 (b has no REPORT yet)", n)
	}
	if got := f.inv["fn"]; len(got) != 2 || strings.Join(got[0].Lines, ",") != "one" || strings.Join(got[1].Lines, ",") != "two" {
		t.Fatalf("invocations %+v, want a with [one] and b with [two]", got)
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, got, want string }{
		{"rule name", ruleName("latch-local-FeedPollerSchedule-1A2B"), "latch-local-FeedPollerSchedule-1A2B"},
		{"rule ARN", ruleName("arn:aws:events:us-east-1:000000000000:rule/bus/r1"), "r1"},
		{"rule bus|name", ruleName("bus|r1"), "r1"},
		{"function ARN", functionName("arn:aws:lambda:us-east-1:000000000000:function:f1"), "f1"},
		{"function ARN with qualifier", functionName("arn:aws:lambda:us-east-1:000000000000:function:f1:live"), "f1"},
		{"Ref", refID(&template.Intrinsic{Name: "Ref", Arg: "OrdersDLQ"}), "OrdersDLQ"},
		{"GetAtt dotted", refID(&template.Intrinsic{Name: "Fn::GetAtt", Arg: "OrdersDLQ.Arn"}), "OrdersDLQ"},
		{"GetAtt list", refID(&template.Intrinsic{Name: "Fn::GetAtt", Arg: []any{"OrdersDLQ", "Arn"}}), "OrdersDLQ"},
		{"literal", refID("arn:aws:sqs:us-east-1:1:q"), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if got := strings.Join(overrides(map[string]string{"B": "2", "A": "x y"}), " "); got != "A=x y B=2" {
		t.Errorf("overrides = %q", got)
	}
}
