package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// ErrNoEndpoint is the refusal of a command that would call AWS while no
// emulator endpoint is set: with credentials in the shell it would create
// or change resources in a real account.
var ErrNoEndpoint = errors.New(`no AWS_ENDPOINT_URL* variable is set, so this command would call real AWS with your default credentials.
Start the local emulators and load their endpoints:
  latch emulators up
  eval "$(latch emulators env)"
or pass --aws to use the AWS account your credentials name`)

// awsFlag declares --aws, the explicit opt-in to real AWS, on fs.
func awsFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("aws", false, "call real AWS even though no AWS_ENDPOINT_URL* variable points at an emulator")
}

// hasEndpoint reports whether an SDK endpoint variable (AWS_ENDPOINT_URL or
// AWS_ENDPOINT_URL_<SERVICE>) is set to something.
func hasEndpoint(environ []string) bool {
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if (k == "AWS_ENDPOINT_URL" || strings.HasPrefix(k, "AWS_ENDPOINT_URL_")) && strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
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
	return cfg, nil
}

func (e *Env) environ() []string {
	if e.Environ == nil {
		return os.Environ()
	}
	return e.Environ()
}
