package local

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
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
