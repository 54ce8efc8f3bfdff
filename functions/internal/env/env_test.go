package env_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/functions/internal/env"
	"github.com/latchkit/latch/pkg/retry"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    map[string]string
		want    retry.Backoff
		wantErr bool
	}{
		{name: "defaults", want: retry.Backoff{Base: retry.DefaultBase, Max: retry.DefaultMax}},
		{name: "demo", vars: map[string]string{env.RetryBaseSeconds: "1", env.RetryMaxSeconds: "20"}, want: retry.Backoff{Base: time.Second, Max: 20 * time.Second}},
		{name: "fractions", vars: map[string]string{env.RetryBaseSeconds: "0.5"}, want: retry.Backoff{Base: 500 * time.Millisecond, Max: retry.DefaultMax}},
		{name: "zero", vars: map[string]string{env.RetryBaseSeconds: "0"}, wantErr: true},
		{name: "not a number", vars: map[string]string{env.RetryMaxSeconds: "5m"}, wantErr: true},
		{name: "above SQS's limit", vars: map[string]string{env.RetryMaxSeconds: "43201"}, wantErr: true},
		{name: "max below base", vars: map[string]string{env.RetryBaseSeconds: "10", env.RetryMaxSeconds: "5"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := env.New(func(k string) string { return tt.vars[k] })
			got := v.Backoff()
			err := v.Err()
			if tt.wantErr {
				if !errors.Is(err, env.ErrInvalid) {
					t.Fatalf("Err() = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b func() float64) bool { return a == nil && b == nil }), cmp.Comparer(func(a, b func() time.Time) bool { return a == nil && b == nil })); diff != "" {
				t.Errorf("Backoff (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrListsEverything(t *testing.T) {
	t.Parallel()
	v := env.New(func(string) string { return "" })
	v.Required("A")
	v.Required("B")
	if got := v.Optional("C", "dflt"); got != "dflt" {
		t.Errorf("Optional = %q", got)
	}
	want := "env: invalid configuration: A is not set; B is not set"
	if err := v.Err(); err == nil || err.Error() != want {
		t.Errorf("Err() = %v, want %q", err, want)
	}
}
