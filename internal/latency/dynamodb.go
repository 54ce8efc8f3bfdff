package latency

import (
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// Delays are the one-way delays the DynamoDB benchmarks run at: none (the
// emulator alone, CPU-bound), 2 ms and 5 ms, each ±20 %. A function in AWS
// sees DynamoDB at a few milliseconds per round trip in its own region
// (docs/transact.md cites the figures), so 2 ms each way is a short
// in-region trip and 5 ms a slow one.
var Delays = []Config{
	{},
	{Delay: 2 * time.Millisecond, Jitter: 400 * time.Microsecond},
	{Delay: 5 * time.Millisecond, Jitter: time.Millisecond},
}

// DynamoDB returns a client like env.DynamoDB whose requests go through a
// Proxy with cfg in front of the emulator's DynamoDB endpoint, closed at
// tb's cleanup; with no delay it returns env.DynamoDB itself, so that D=0
// measures the emulator without the proxy's copy.
func DynamoDB(tb testing.TB, env *emulator.Env, cfg Config) *dynamodb.Client {
	tb.Helper()
	if cfg.Delay == 0 {
		return env.DynamoDB
	}
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		tb.Fatalf("latency: DynamoDB endpoint %q is not a URL with a host: %v", endpoint, err)
	}
	p, err := Start(u.Host, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return dynamodb.NewFromConfig(env.Cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(p.URL())
		o.DisableValidateResponseChecksum = true // as env.DynamoDB: see emulator.New
	})
}
