package local

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/logging"
)

func TestChecksumNoise(t *testing.T) {
	t.Parallel()
	var out, logs bytes.Buffer
	c := &checksumNoise{w: &out, log: slog.New(slog.NewTextHandler(&logs, nil))}
	lines := []string{
		"[svc-OrderWorker 1] {\"msg\":\"outcome\",\"outcome\":\"duplicate\"}\n",
		"[svc-OrderWorker 1] SDK 2026/11/27 00:00:01 WARN failed to close HTTP response body, this may affect connection reuse: response did not match expected checksum, 0, 3951282041\n",
		"[svc-OrderWorker 2] SDK 2026/11/27 00:00:02 WARN failed to close HTTP response body, this may affect connection reuse: response did not match expected checksum, 0, 12\n",
		// A real mismatch (a header that was there) stays.
		"[svc-OrderWorker 2] SDK 2026/11/27 00:00:03 WARN failed to close HTTP response body, this may affect connection reuse: response did not match expected checksum, 1234, 12\n",
		"[svc-OrderWorker 2] failed to close HTTP response body: connection reset\n",
	}
	for _, l := range lines {
		if n, err := io.WriteString(c, l); err != nil || n != len(l) {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	want := lines[0] + lines[3] + lines[4]
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if c.Dropped() != 2 || strings.Count(logs.String(), "aws-sdk-go-v2#3545") != 1 || !strings.Contains(logs.String(), "DisableValidateResponseChecksum") {
		t.Errorf("dropped %d; runner log:\n%s", c.Dropped(), logs.String())
	}
}

// recordingLogger keeps what the SDK logs.
type recordingLogger struct {
	mu    sync.Mutex
	lines []string
}

func (r *recordingLogger) Logf(c logging.Classification, format string, v ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, string(c)+" "+fmt.Sprintf(format, v...))
}

func (r *recordingLogger) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// TestQuietCancelled: a call the runner cancels while the SDK reads the
// answer's body (a long-poll receive at Stop) logs nothing through a
// QuietCancelled configuration; without it the SDK warns that it could
// not drain the body. The server sends half an answer and waits, as
// an emulator does that is slow to finish one.
func TestQuietCancelled(t *testing.T) {
	t.Parallel()
	for _, quiet := range []bool{false, true} {
		t.Run(fmt.Sprintf("quiet=%v", quiet), func(t *testing.T) {
			t.Parallel()
			sent := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.Header().Set("Content-Length", "4096")
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, `{"Messages":[{"MessageId":"m1",`)
				w.(http.Flusher).Flush()
				close(sent)
				<-r.Context().Done()
			}))
			defer srv.Close()
			logs := &recordingLogger{}
			cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
				BaseEndpoint: aws.String(srv.URL), Logger: logs}
			if quiet {
				QuietCancelled(&cfg)
			}
			client := sqs.NewFromConfig(cfg)
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				<-sent
				time.Sleep(50 * time.Millisecond) // the SDK is reading the body
				cancel()
			}()
			if _, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(srv.URL + "/q")}); err == nil {
				t.Fatal("a cancelled receive succeeded")
			}
			warned := strings.Contains(logs.String(), "failed to discard remaining HTTP response body")
			if warned == quiet {
				t.Errorf("SDK log with QuietCancelled %v:\n%s", quiet, logs)
			}
		})
	}
	// Any other warning goes through.
	logs := &recordingLogger{}
	cfg := aws.Config{Logger: logs}
	QuietCancelled(&cfg)
	logging.WithContext(context.Background(), cfg.Logger).Logf(logging.Warn, "failed to discard remaining HTTP response body, this may affect connection reuse: %v", io.ErrUnexpectedEOF)
	if !strings.Contains(logs.String(), "unexpected EOF") {
		t.Errorf("a warning of a call that was not cancelled was dropped: %q", logs)
	}
}
