package localcloud

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// SAM runs the SAM CLI the way a user does, in the template's directory,
// with the local cloud's endpoints and dummy credentials and nothing of the
// caller's AWS configuration.
type SAM struct {
	// Bin is the sam executable: the Makefile's pinned one
	// ($(SAM_VENV)/bin/sam). Required.
	Bin string
	// Dir is where sam runs: the directory of the user's template.
	Dir string
	// Env is the local cloud's environment (emulators.State.Env as
	// NAME=value): its endpoint, region and dummy credentials.
	Env []string
	// Out receives sam's output. Zero: discarded.
	Out io.Writer
}

// HostArchitecture is the Lambda architecture of this machine, what a local
// cloud can run: it runs function binaries as processes of this machine.
func HostArchitecture() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

// run runs sam with args and returns how long it took.
func (s SAM) run(ctx context.Context, args ...string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, s.Bin, args...)
	cmd.Dir = s.Dir
	cmd.Env = append(withoutAWS(os.Environ()), s.Env...)
	// No telemetry, no update check: sam must not reach anything but the
	// local cloud. Go functions build with the local toolchain (no
	// container), as `make sam-build` builds them.
	cmd.Env = append(cmd.Env, "SAM_CLI_TELEMETRY=0", "SAM_CLI_DISABLE_VERSION_CHECK=1", "CGO_ENABLED=0", "GOFLAGS=-tags=lambda.norpc")
	out := s.Out
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 10 * time.Second
	started := time.Now()
	err := cmd.Run()
	took := time.Since(started)
	if err != nil {
		return took, fmt.Errorf("localcloud: sam %s (in %s): %w", args[0], s.Dir, err)
	}
	return took, nil
}

// Build runs `sam build` of template into buildDir with the parameter
// overrides (Architecture among them, so that sam builds for the host).
func (s SAM) Build(ctx context.Context, template, buildDir string, params map[string]string) (time.Duration, error) {
	args := []string{"build", "--template-file", template, "--build-dir", buildDir, "--parallel"}
	if p := overrides(params); p != nil {
		args = append(args, append([]string{"--parameter-overrides"}, p...)...)
	}
	return s.run(ctx, args...)
}

// Deploy runs `sam deploy` of the built template as stack, creating or
// updating it, without asking.
func (s SAM) Deploy(ctx context.Context, stack, buildDir, region string, params map[string]string) (time.Duration, error) {
	args := []string{"deploy", "--template-file", filepath.Join(buildDir, "template.yaml"),
		"--stack-name", stack, "--region", region, "--resolve-s3", "--capabilities", "CAPABILITY_IAM",
		"--no-confirm-changeset", "--no-fail-on-empty-changeset"}
	if p := overrides(params); p != nil {
		args = append(args, append([]string{"--parameter-overrides"}, p...)...)
	}
	return s.run(ctx, args...)
}

// Delete runs `sam delete` of stack without prompts.
func (s SAM) Delete(ctx context.Context, stack, region string) (time.Duration, error) {
	return s.run(ctx, "delete", "--stack-name", stack, "--region", region, "--no-prompts")
}

// overrides renders params as sam's Key=Value arguments, sorted.
func overrides(params map[string]string) []string {
	if len(params) == 0 {
		return nil
	}
	var out []string
	for k, v := range params {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// withoutAWS drops the caller's AWS_ variables: a profile or real
// credentials must never reach a command pointed at the local cloud.
func withoutAWS(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}
