package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/latchkit/latch/internal/local"
)

// ErrNoEndpoint is the refusal of a command that would call AWS while no
// emulator endpoint is set: with credentials in the shell it would create
// or change resources in a real account.
var ErrNoEndpoint = errors.New(`no AWS_ENDPOINT_URL* variable is set, no latch local runs in this project and its emulator stack is not up,
so this command would call real AWS with your default credentials.
Start this project's local stack (latch local, in another shell, then runs the template's functions on it):
  latch emulators up
or load the endpoints of a stack started elsewhere with eval "$(latch emulators env)",
or pass --aws to use the AWS account your credentials name`)

// awsFlag declares --aws, the explicit opt-in to real AWS, on fs.
func awsFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("aws", false, "call real AWS even though no AWS_ENDPOINT_URL* variable points at an emulator")
}

// hasEndpoint reports whether an SDK endpoint variable (AWS_ENDPOINT_URL or
// AWS_ENDPOINT_URL_<SERVICE>) is set to something.
func hasEndpoint(environ []string) bool {
	return len(endpoints(environ)) > 0
}

// checkEndpoint refuses, unless allowAWS, when env's environment names no
// emulator endpoint.
func checkEndpoint(env *Env, allowAWS bool) error {
	if allowAWS || hasEndpoint(env.environ()) {
		return nil
	}
	return ErrNoEndpoint
}

// awsConfig is the SDK's default configuration, after checkEndpoint.
func awsConfig(ctx context.Context, env *Env, allowAWS bool) (aws.Config, error) {
	if err := checkEndpoint(env, allowAWS); err != nil {
		return aws.Config{}, err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	// Commands cancel calls of their own when they stop (Ctrl-C, the end
	// of a demo phase); the SDK's warnings about those are noise.
	local.QuietCancelled(&cfg)
	return cfg, nil
}

func (e *Env) environ() []string {
	if e.Environ == nil {
		return os.Environ()
	}
	return e.Environ()
}
