package chaos

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestPlanHasEveryKind(t *testing.T) {
	t.Parallel()
	cfg := Config{}
	cfg.defaults()
	msgs, valid := plan(cfg, "t")
	if len(msgs) < 1000 {
		t.Errorf("%d messages, want at least 1000", len(msgs))
	}
	kinds := map[string]int{}
	for _, m := range msgs {
		kinds[m.kind]++
		if len(m.body) > maxBody || m.body == "" {
			t.Errorf("%s body of %d bytes: SQS would refuse it", m.kind, len(m.body))
		}
		if !m.poison {
			var o order
			if err := json.Unmarshal([]byte(m.body), &o); err != nil || o.OrderID != m.orderID {
				t.Errorf("valid %s does not decode to its order: %v", m.orderID, err)
			}
		}
	}
	if kinds["valid"] != len(valid) || kinds["duplicate"] != cfg.Duplicates {
		t.Errorf("kinds %v: want %d valid and %d duplicates", kinds, len(valid), cfg.Duplicates)
	}
	for _, pk := range poisonKinds {
		if kinds[pk.kind] != cfg.PoisonPerKind {
			t.Errorf("%d %s messages, want %d", kinds[pk.kind], pk.kind, cfg.PoisonPerKind)
		}
	}
	invalidUTF8 := 0
	for _, m := range msgs {
		if !utf8.ValidString(m.body) {
			invalidUTF8++
		}
	}
	if invalidUTF8 < cfg.PoisonPerKind {
		t.Errorf("%d bodies of invalid UTF-8, want at least %d", invalidUTF8, cfg.PoisonPerKind)
	}
}

func TestLedgerOrder(t *testing.T) {
	t.Parallel()
	e := func(cust string, seq, at int64) ledgerEntry {
		return ledgerEntry{customer: cust, orderID: cust + "-o", seq: seq, receivedAt: at}
	}
	tests := []struct {
		name    string
		in      []ledgerEntry
		wantBad int
	}{
		{"in order", []ledgerEntry{e("a", 2, 20), e("a", 1, 10), e("b", 1, 5)}, 0},
		{"same time", []ledgerEntry{e("a", 1, 10), e("a", 2, 10)}, 0},
		{"received out of order", []ledgerEntry{e("a", 1, 20), e("a", 2, 10)}, 1},
		{"a gap", []ledgerEntry{e("a", 1, 10), e("a", 3, 30)}, 1},
		{"seq twice", []ledgerEntry{e("a", 1, 10), e("a", 1, 10)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, bad := ledgerOrder(tt.in); len(bad) != tt.wantBad {
				t.Errorf("disorder %v, want %d", bad, tt.wantBad)
			}
		})
	}
}

func TestTally(t *testing.T) {
	t.Parallel()
	want := map[string]order{"a": {}, "b": {}, "c": {}}
	missing, twice, extra := tally(want, map[string]int{"a": 1, "b": 2, "x": 1})
	if missing != 1 || twice != 1 || extra != 1 {
		t.Errorf("tally = %d missing, %d twice, %d extra; want 1, 1, 1", missing, twice, extra)
	}
}

// The derived template is the project's, with the short queue settings and
// CodeUris that still lead to the functions.
func TestDeriveTemplate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, err := deriveTemplate("../../infra/template.yaml", dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if strings.Contains(s, "VisibilityTimeout: 180") || strings.Contains(s, "maxReceiveCount: 5\n") {
		t.Error("derived template keeps the slow queue settings")
	}
	for _, line := range strings.Split(s, "\n") {
		if _, uri, ok := strings.Cut(line, "CodeUri: "); ok {
			if _, err := os.Stat(filepath.Join(dir, uri, "main.go")); err != nil {
				t.Errorf("CodeUri %s: %v", uri, err)
			}
		}
	}
	if _, err := deriveTemplate("testdata/none.yaml", dir); err == nil {
		t.Error("a missing template is no error")
	}
}

// TestMessagesSizesTheRun: -messages N plans N messages in make chaos's
// proportions, with a deadline that grows with them; the zero value is
// make chaos's run.
func TestMessagesSizesTheRun(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		messages     int
		want         int
		wantDeadline time.Duration
	}{
		{messages: 0, want: 1015, wantDeadline: 10 * time.Minute},
		{messages: 1015, want: 1015, wantDeadline: 10 * time.Minute},
		{messages: 10000, want: 10000, wantDeadline: 100 * time.Minute},
	} {
		cfg := Config{Messages: tt.messages}
		cfg.defaults()
		msgs, valid := plan(cfg, "t")
		if len(msgs) != tt.want || cfg.Deadline < tt.wantDeadline {
			t.Errorf("-messages %d: %d messages, deadline %s; want %d, at least %s", tt.messages, len(msgs), cfg.Deadline, tt.want, tt.wantDeadline)
		}
		if len(valid) < tt.want/2 || cfg.Duplicates == 0 || cfg.PoisonPerKind == 0 {
			t.Errorf("-messages %d: %d valid orders, %d duplicates, %d poison per kind: not make chaos's mix", tt.messages, len(valid), cfg.Duplicates, cfg.PoisonPerKind)
		}
	}
}
