package retry_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchkit/latch/pkg/retry"
)

func TestBackoffFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    map[string]string
		want    retry.Backoff
		wantErr []string // each must appear in the error
	}{
		{name: "unset: defaults", vars: nil, want: retry.Backoff{Base: retry.DefaultBase, Max: retry.DefaultMax}},
		{name: "local", vars: map[string]string{retry.EnvBaseSeconds: "0.5", retry.EnvMaxSeconds: " 4 "}, want: retry.Backoff{Base: 500 * time.Millisecond, Max: 4 * time.Second}},
		{name: "base only", vars: map[string]string{retry.EnvBaseSeconds: "1"}, want: retry.Backoff{Base: time.Second, Max: retry.DefaultMax}},
		{name: "both bad, both named", vars: map[string]string{retry.EnvBaseSeconds: "soon", retry.EnvMaxSeconds: "-1"},
			want: retry.Backoff{Base: retry.DefaultBase, Max: retry.DefaultMax}, wantErr: []string{`LATCH_RETRY_BASE_SECONDS="soon"`, `LATCH_RETRY_MAX_SECONDS="-1"`}},
		{name: "above the visibility limit", vars: map[string]string{retry.EnvMaxSeconds: "43201"},
			want: retry.Backoff{Base: retry.DefaultBase, Max: retry.DefaultMax}, wantErr: []string{"LATCH_RETRY_MAX_SECONDS"}},
		{name: "max below base", vars: map[string]string{retry.EnvBaseSeconds: "10", retry.EnvMaxSeconds: "2"},
			want: retry.Backoff{Base: retry.DefaultBase, Max: retry.DefaultMax}, wantErr: []string{"is below"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := retry.BackoffFromEnv(func(k string) string { return tt.vars[k] })
			if got.Base != tt.want.Base || got.Max != tt.want.Max {
				t.Errorf("backoff %+v, want %+v", got, tt.want)
			}
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, retry.ErrBackoffEnv) {
				t.Fatalf("error %v does not match ErrBackoffEnv", err)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
		})
	}
}
