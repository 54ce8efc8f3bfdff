//go:build integration

package awstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Env holds SDK clients for the emulators (or whatever the environment's
// endpoints point at).
type Env struct {
	Cfg         aws.Config
	DynamoDB    *dynamodb.Client
	SQS         *sqs.Client
	EventBridge *eventbridge.Client
}

// endpointVars are the SDK's own endpoint variables the harness requires: a
// test that would silently talk to real AWS is worse than one that fails.
var endpointVars = []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_EVENTBRIDGE"}

// New loads the SDK configuration from the environment and checks that each
// emulator answers. It fails the test (under make) or skips it (elsewhere)
// when they do not.
func New(t testing.TB) *Env {
	t.Helper()
	for _, v := range endpointVars {
		u := os.Getenv(v)
		if u == "" && os.Getenv("AWS_ENDPOINT_URL") != "" {
			u = os.Getenv("AWS_ENDPOINT_URL")
		}
		if u == "" {
			unavailable(t, v+" is not set")
			return nil
		}
		if err := reachable(u); err != nil {
			unavailable(t, v+"="+u+" does not answer: "+err.Error())
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatalf("awstest: load AWS config: %v", err)
	}
	return &Env{
		Cfg: cfg,
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			// DynamoDB Local's 4xx answers carry no CRC32 the SDK accepts;
			// without this every conditional-check failure logs a warning.
			o.DisableValidateResponseChecksum = true
		}),
		SQS:         sqs.NewFromConfig(cfg),
		EventBridge: eventbridge.NewFromConfig(cfg),
	}
}

func unavailable(t testing.TB, why string) {
	t.Helper()
	msg := "awstest: emulators unavailable (" + why + "); run the suite with `make integration`, " +
		"or `make emulators-up` and source the env file it prints"
	if os.Getenv("LATCH_REQUIRE_EMULATORS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func reachable(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	c, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// UniqueName returns prefix-<test name>-<random>, valid as a table, queue,
// bus or rule name (letters, digits, dashes; at most 64 characters).
func UniqueName(t testing.TB, prefix string) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := strings.Trim(unsafeChars.ReplaceAllString(t.Name(), "-"), "-")
	suffix := hex.EncodeToString(b[:])
	const max = 64 - 1 - 8 // name limit of rules; queues reserve ".fifo" separately
	s := prefix + "-" + name
	if len(s) > max-6 {
		s = s[:max-6]
	}
	return strings.TrimRight(s, "-") + "-" + suffix
}

// cleanupCtx is the context for deletes at cleanup: the test's own may be
// done by then.
func cleanupCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 15*time.Second)
}

// BackendVar is the environment variable naming the emulator backend the
// endpoints point at; `latch emulators env` and `latch emulators exec` set
// it.
const BackendVar = "LATCH_BACKEND"

// Backend returns the emulator backend of the environment: "default"
// (DynamoDB Local + moto), "localstack", or "" when LATCH_BACKEND is unset
// (real AWS, or endpoints set by hand).
func Backend() string { return os.Getenv(BackendVar) }

// Gap is a known way in which an emulator backend differs from AWS that a
// test cannot work around. Each has a test of its own that asserts the gap
// is still there, so that an emulator that fixes it is noticed and the
// skips go.
type Gap struct {
	// Name is the Gap's Go name, for the skip message.
	Name string
	// Backend is the backend that has it.
	Backend string
	// What says what the emulator does wrong.
	What string
}

// The known gaps.
var (
	// GapFIFOInFlight: LocalStack 4.14 hands out a FIFO message group's
	// later messages while an earlier one of the group is still in flight
	// (received, not yet deleted or visible again); SQS holds the group
	// back until it is settled.
	GapFIFOInFlight = Gap{
		Name: "GapFIFOInFlight", Backend: "localstack",
		What: "LocalStack 4.14 returns a FIFO group's later messages while an earlier one is still in flight",
	}
)

// Present reports whether the environment's backend has the gap.
func (g Gap) Present() bool { return Backend() == g.Backend }

// SkipOnGap skips the test when the environment's backend has the gap,
// naming it; elsewhere the test runs.
func SkipOnGap(t testing.TB, g Gap) {
	t.Helper()
	if g.Present() {
		t.Skipf("awstest: skipped on the %s backend, known emulator gap %s: %s", g.Backend, g.Name, g.What)
	}
}
