// Package lambdaenv reads what the Lambda environment says about the
// function, for the logging, metrics and telemetry packages alike, so the
// three agree on the service name and the trace id.
package lambdaenv

import (
	"os"
	"strings"
)

// EnvService names the service: the "service" log field, the service
// metric dimension and the service span annotation.
const EnvService = "LATCH_SERVICE"

// Service returns configured, else LATCH_SERVICE, else the Lambda function
// name, else "".
func Service(configured string) string {
	if configured != "" {
		return configured
	}
	if s := os.Getenv(EnvService); s != "" {
		return s
	}
	return os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
}

// TraceRoot returns the Root field of an X-Ray trace header
// ("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=...;Sampled=1").
func TraceRoot(header string) string {
	for header != "" {
		var field string
		field, header, _ = strings.Cut(header, ";")
		if k, v, ok := strings.Cut(strings.TrimSpace(field), "="); ok && k == "Root" {
			return v
		}
	}
	return ""
}
