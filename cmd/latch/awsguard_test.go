package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestCommandsRefuseRealAWSWithoutEndpoint(t *testing.T) {
	t.Parallel()
	// A shell with real-looking credentials and no emulator endpoint: every
	// command that calls AWS must stop before loading the SDK's config.
	environ := func() []string {
		return []string{"AWS_ACCESS_KEY_ID=AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=eu-west-1", "AWS_ENDPOINT_URL_SQS="}
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{name: "dlq ls", args: []string{"dlq", "ls", "orders-dlq"}},
		{name: "dlq redrive", args: []string{"dlq", "redrive", "orders-dlq"}},
		{name: "local", args: []string{"local", "--template", "does-not-matter.yaml"}},
		{name: "local fire", args: []string{"local", "fire", "DailyReport"}},
		{name: "demo", args: []string{"demo"}},
		{name: "send", args: []string{"send", "orders", "{}"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			env := &Env{Stdout: &out, Stderr: &errOut, Now: time.Now, Environ: environ}
			code := run(context.Background(), tc.args, env)
			if code != 1 {
				t.Errorf("exit code = %d, want 1\nstderr:\n%s", code, errOut.String())
			}
			for _, want := range []string{"no AWS_ENDPOINT_URL* variable is set", "latch emulators up", `eval "$(latch emulators env)"`, "--aws"} {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
				}
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", out.String())
			}
		})
	}
}

func TestHasEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		environ []string
		want    bool
	}{
		{name: "none", environ: []string{"HOME=/home/u", "AWS_PROFILE=prod"}},
		{name: "empty values", environ: []string{"AWS_ENDPOINT_URL=", "AWS_ENDPOINT_URL_SQS= "}},
		{name: "global", environ: []string{"AWS_ENDPOINT_URL=http://127.0.0.1:4566"}, want: true},
		{name: "one service", environ: []string{"AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000"}, want: true},
		{name: "look-alike", environ: []string{"MY_AWS_ENDPOINT_URL=http://x", "AWS_ENDPOINT_URLS=http://x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := hasEndpoint(tc.environ); got != tc.want {
				t.Errorf("hasEndpoint(%q) = %v, want %v", tc.environ, got, tc.want)
			}
		})
	}
}
