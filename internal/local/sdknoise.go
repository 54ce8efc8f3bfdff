package local

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/logging"
)

// checksumNoise drops one known false alarm from the functions' output:
// aws-sdk-go-v2's DynamoDB client checks every answer against its
// X-Amz-Crc32 header and, when the header is missing, against a checksum of
// zero, and logs
//
//	WARN failed to close HTTP response body, this may affect connection reuse: response did not match expected checksum, 0, ...
//
// DynamoDB Local sends no such header with its 4xx answers, so a function
// under the runner logs that line for every conditional write that loses,
// which for an idempotent handler is every duplicate (aws-sdk-go-v2 issue
// #3545). Only the client option DynamoDB's DisableValidateResponseChecksum
// turns the check off: the SDK's AWS_RESPONSE_CHECKSUM_VALIDATION variable
// governs the flexible checksums of other services, not this one (read in
// service/dynamodb v1.73.1), so the runner cannot switch it off in a
// function it did not write. It says once that it drops these lines, and
// how a function's own client avoids them.
type checksumNoise struct {
	w   io.Writer
	log *slog.Logger

	mu      sync.Mutex
	dropped int
}

var (
	noiseClose    = []byte("failed to close HTTP response body")
	noiseChecksum = []byte("did not match expected checksum, 0,")
)

// Write takes whole lines, as the function output writers send them.
func (c *checksumNoise) Write(p []byte) (int, error) {
	if bytes.Contains(p, noiseClose) && bytes.Contains(p, noiseChecksum) {
		c.mu.Lock()
		c.dropped++
		first := c.dropped == 1
		c.mu.Unlock()
		if first {
			c.log.Info("dropping aws-sdk-go-v2's false checksum warnings on DynamoDB Local's error answers (aws-sdk-go-v2#3545); "+
				"set DisableValidateResponseChecksum on a function's DynamoDB client for local runs to avoid them at the source",
				"example", "dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })")
		}
		return len(p), nil
	}
	return c.w.Write(p)
}

// Dropped counts the lines dropped so far.
func (c *checksumNoise) Dropped() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// cancelledNoise is the SDK logger of the runner's own clients. When the
// runner cancels a call (a long-poll receive at Stop, a phase of the demo
// that ends), a response whose body was still being read has its
// connection closed under it, and aws-sdk-go-v2 (smithy-go's
// CloseResponseBody) warns that it could not drain the body:
//
//	WARN failed to discard remaining HTTP response body, this may affect connection reuse: read tcp ...: use of closed network connection
//
// The warning is about connection reuse, and the connection is gone
// because the caller wanted it gone, so for a cancelled call it says
// nothing; for any other call it goes through, as does everything else.
type cancelledNoise struct {
	l   logging.Logger
	ctx context.Context // the call's, once WithContext gave it
}

var (
	_ logging.Logger        = cancelledNoise{}
	_ logging.ContextLogger = cancelledNoise{}
)

// QuietCancelled makes cfg's SDK logger drop the body-drain warnings of
// calls whose context was cancelled (see cancelledNoise). Start applies it
// to the runner's configuration; commands apply it to their own.
func QuietCancelled(cfg *aws.Config) {
	if _, done := cfg.Logger.(cancelledNoise); done {
		return
	}
	l := cfg.Logger
	if l == nil {
		l = logging.Nop{}
	}
	cfg.Logger = cancelledNoise{l: l}
}

func (c cancelledNoise) Logf(class logging.Classification, format string, v ...any) {
	if c.ctx != nil && c.ctx.Err() != nil && class == logging.Warn &&
		(strings.HasPrefix(format, "failed to discard remaining HTTP response body") || strings.HasPrefix(format, "failed to close HTTP response body")) {
		return
	}
	c.l.Logf(class, format, v...)
}

func (c cancelledNoise) WithContext(ctx context.Context) logging.Logger {
	return cancelledNoise{l: logging.WithContext(ctx, c.l), ctx: ctx}
}
