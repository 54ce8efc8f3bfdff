package batch

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPack(t *testing.T) {
	t.Parallel()
	id := func(n int) int { return n }
	seq := func(n, size int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = size
		}
		return s
	}
	tests := []struct {
		name    string
		entries []int // each entry is its own size
		lim     Limits
		want    [][]int
		wantErr *TooLargeError
	}{
		{name: "empty", entries: nil, lim: SQSLimits, want: nil},
		{name: "one", entries: []int{5}, lim: SQSLimits, want: [][]int{{5}}},
		{name: "count only, zero limits mean ten", entries: seq(23, 1), lim: Limits{},
			want: [][]int{seq(10, 1), seq(10, 1), seq(3, 1)}},
		{name: "exactly ten", entries: seq(10, 1), lim: SQSLimits, want: [][]int{seq(10, 1)}},
		{name: "eleven", entries: seq(11, 1), lim: SQSLimits, want: [][]int{seq(10, 1), {1}}},
		{name: "custom count", entries: seq(5, 1), lim: Limits{MaxEntries: 2}, want: [][]int{{1, 1}, {1, 1}, {1}}},
		// issue 15: ~250 KB messages, ten to a batch, were over 1 MiB.
		{name: "250 KB messages, four to a MiB", entries: seq(10, 250_000), lim: SQSLimits,
			want: [][]int{seq(4, 250_000), seq(4, 250_000), seq(2, 250_000)}},
		{name: "exactly at the byte limit", entries: []int{60, 40, 100}, lim: Limits{MaxBytes: 100},
			want: [][]int{{60, 40}, {100}}},
		{name: "one byte over closes the batch", entries: []int{60, 41, 59}, lim: Limits{MaxBytes: 100},
			want: [][]int{{60}, {41, 59}}},
		{name: "order kept, no reordering to fill gaps", entries: []int{90, 20, 10, 90}, lim: Limits{MaxBytes: 100},
			want: [][]int{{90}, {20, 10}, {90}}},
		{name: "zero-size entries still count", entries: seq(12, 0), lim: Limits{MaxBytes: 1},
			want: [][]int{seq(10, 0), seq(2, 0)}},
		{name: "entry over the limit alone", entries: []int{10, 101, 10}, lim: Limits{MaxBytes: 100},
			wantErr: &TooLargeError{Index: 1, Size: 101, Max: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Pack(tt.entries, id, tt.lim)
			if tt.wantErr != nil {
				var te *TooLargeError
				if !errors.As(err, &te) || !errors.Is(err, ErrTooLarge) {
					t.Fatalf("Pack error = %v, want a *TooLargeError matching ErrTooLarge", err)
				}
				if diff := cmp.Diff(tt.wantErr, te); diff != "" {
					t.Errorf("TooLargeError (-want +got):\n%s", diff)
				}
				if got != nil {
					t.Errorf("Pack returned batches %v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Pack: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("batches (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPackBatchesDoNotAlias checks that appending to one batch cannot
// overwrite the first entry of the next (each batch's capacity is capped).
func TestPackBatchesDoNotAlias(t *testing.T) {
	t.Parallel()
	entries := []int{1, 2, 3}
	got, err := Pack(entries, func(int) int { return 0 }, Limits{MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	_ = append(got[0], 99)
	if entries[1] != 2 {
		t.Errorf("appending to batch 0 changed entry 1 to %d", entries[1])
	}
}
