package emulator

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

	"github.com/latchkit/latch/internal/sdkfix"
)

// Env holds SDK clients for the emulators (or whatever the environment's
// endpoints point at). Its methods create resources for one test and
// delete them at its cleanup; they fail the test on an emulator error.
type Env struct {
	Cfg         aws.Config
	DynamoDB    *dynamodb.Client
	SQS         *sqs.Client
	EventBridge *eventbridge.Client
}

// EndpointVars are the SDK's own endpoint variables New requires (or
// AWS_ENDPOINT_URL for all of them): a test that would silently talk to
// real AWS is worse than one that fails.
var EndpointVars = []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_EVENTBRIDGE"}

// RequireVar is the variable that turns New's skip into a failure: set it
// (to anything) in CI and in make targets, where a suite that skips for
// want of emulators would pass without testing anything.
const RequireVar = "LATCH_REQUIRE_EMULATORS"

// New loads the SDK configuration from the environment and checks that each
// emulator answers. When one is not configured or does not answer it skips
// the test, or fails it when RequireVar is set, with a message saying how
// to start them.
func New(t testing.TB) *Env {
	t.Helper()
	for _, v := range EndpointVars {
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
		t.Fatalf("emulator: load AWS config: %v", err)
	}
	// Emulators answer within a millisecond: without this, now and then
	// one call is carried out twice (see sdkfix).
	sdkfix.Apply(&cfg)
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
	msg := "emulator: emulators unavailable (" + why + "); run the tests under `latch emulators exec -- go test ...`, " +
		"or `latch emulators up` and `eval \"$(latch emulators env)\"`"
	if os.Getenv(RequireVar) != "" {
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

// callTimeout bounds one setup or cleanup call. It is generous on purpose:
// an emulator on a loaded two-core machine (LocalStack above all) can take
// well over 15 s to create a queue, and a bound that fails a healthy but
// slow emulator is a flaky test, not a finding.
const callTimeout = 60 * time.Second

// cleanupCtx is the context for deletes at cleanup: the test's own may be
// done by then.
func cleanupCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), callTimeout)
}
