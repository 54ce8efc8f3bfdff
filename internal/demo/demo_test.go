package demo

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlanMixesEveryKindOfMessage(t *testing.T) {
	t.Parallel()
	cfg := Config{Orders: 40, Customers: 4, Duplicates: 7, Invalid: 9}
	cfg.defaults()
	msgs, valid := plan(cfg, "t")
	if len(valid) != 40 || len(msgs) != 40+7+9 {
		t.Fatalf("plan: %d valid orders, %d messages; want 40 and 56", len(valid), len(msgs))
	}
	bodies := map[string]int{}
	invalid, undecodable := 0, 0
	for _, m := range msgs {
		bodies[m.body]++
		if !m.valid {
			invalid++
			var o order
			if json.Unmarshal([]byte(m.body), &o) != nil {
				undecodable++
			}
		}
	}
	if invalid != 9 || undecodable != 3 {
		t.Errorf("invalid %d (undecodable %d), want 9 (3)", invalid, undecodable)
	}
	if len(bodies) != 40+9 {
		t.Errorf("%d distinct bodies, want 49: duplicates must repeat a valid order's body exactly", len(bodies))
	}
}

func TestOutcomesParsesPrefixedJSONLines(t *testing.T) {
	t.Parallel()
	o := NewOutcomes()
	fmt.Fprintln(o, `[order-worker 1] {"function_name":"ow","outcome":"retry_scheduled","message_id":"m1","attempt":1,"retry_delay_ms":900}`)
	fmt.Fprint(o, `{"function_name":"ow","outcome":"succeeded","message_id":"m1","attempt":2}`+"\n"+`START RequestId: x`+"\n")
	fmt.Fprintln(o, `{"level":"INFO","message":"no outcome here"}`)
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	want := []Outcome{
		{Function: "ow", Outcome: "retry_scheduled", MessageID: "m1", Attempt: 1, RetryDelayMS: 900},
		{Function: "ow", Outcome: "succeeded", MessageID: "m1", Attempt: 2},
	}
	if diff := cmp.Diff(want, o.Snapshot()); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestTransientInvariant(t *testing.T) {
	t.Parallel()
	retry := func(msg string, attempt int, ms int64) Outcome {
		return Outcome{Function: "ow", Outcome: "retry_scheduled", MessageID: msg, Attempt: attempt, RetryDelayMS: ms}
	}
	done := func(msg string) Outcome { return Outcome{Function: "ow", Outcome: "succeeded", MessageID: msg} }
	tests := []struct {
		name string
		in   []Outcome
		ok   bool
	}{
		{"growing then processed", []Outcome{retry("a", 2, 1800), retry("a", 1, 900), done("a")}, true},
		{"never retried", []Outcome{done("a")}, false},
		{"not processed", []Outcome{retry("a", 1, 900), retry("a", 2, 1800)}, false},
		{"not growing", []Outcome{retry("a", 1, 900), retry("a", 2, 900), done("a")}, false},
		{"other function ignored", []Outcome{retry("a", 1, 900), done("a"), {Function: "x", Outcome: "retry_scheduled", MessageID: "b"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, ok, detail := transientInvariant(tt.in, "ow"); ok != tt.ok {
				t.Errorf("ok = %v, want %v (%s)", ok, tt.ok, detail)
			}
		})
	}
}
