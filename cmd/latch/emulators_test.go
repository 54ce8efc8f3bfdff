package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/latchkit/latch/internal/emulators"
)

// useBackend never points a local run at something other than asked: set
// endpoints of another backend are an error, and without endpoints it
// wants the project's stack, never real AWS.
func TestUseBackend(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		backend emulators.Backend
		aws     bool   // --aws
		err     string // substring; "" for none
	}{
		{name: "endpoints of the same backend", env: map[string]string{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:1", "LATCH_BACKEND": "localstack"}, backend: emulators.LocalStack},
		{name: "endpoints set by hand", env: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, backend: emulators.LocalStack},
		{name: "endpoints of the other backend", env: map[string]string{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:1", "LATCH_BACKEND": "default"}, backend: emulators.LocalStack, err: "points at the default stack"},
		{name: "no endpoints and no stack", backend: emulators.Default, err: "latch emulators up"},
		{name: "no endpoints, --aws", backend: emulators.Default, aws: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var environ []string
			for k, v := range tc.env {
				environ = append(environ, k+"="+v)
			}
			env := &Env{Environ: func() []string { return environ }}
			err := useBackend(env, emulators.Config{Backend: tc.backend, StateDir: t.TempDir(), CacheDir: t.TempDir()}, tc.aws)
			if tc.name == "no endpoints and no stack" && !errors.Is(err, ErrNoEndpoint) {
				t.Fatalf("useBackend error %v, want ErrNoEndpoint", err)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("useBackend: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("useBackend error %v, want one containing %q", err, tc.err)
			}
		})
	}
}
