//go:build integration

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// lockedBuffer is output the test reads while the command writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLocalOnAUserTemplate runs `latch local --template` on a template in a
// directory of its own, as a user's service would be: its resources get
// the directory's name as their prefix, `latch send` reaches its function,
// and Ctrl-C says what is left in flight.
func TestLocalOnAUserTemplate(t *testing.T) {
	emulator.New(t) // skips or fails without the emulators
	fn, err := filepath.Abs("../../internal/local/testdata/fn")
	if err != nil {
		t.Fatal(err)
	}
	svc := emulator.UniqueName(t, "svc")
	svc = strings.ToLower(svc[len(svc)-8:]) // a short, unique service name
	svc = "svc" + svc
	dir := filepath.Join(t.TempDir(), svc, "infra")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmpl := `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Inbox:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ` + fn + `
      Handler: bootstrap
      Runtime: provided.al2023
      Events:
        In:
          Type: SQS
          Properties:
            Queue: !GetAtt Inbox.Arn
`
	path := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(path, []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"local", "--template", path}, &Env{Stdout: out, Stderr: errOut, Now: time.Now})
	}()
	queue := svc + "-Inbox"
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for !cond() {
			select {
			case code := <-done:
				t.Fatalf("latch local exited (%d) before %s\nstdout:\n%s\nstderr:\n%s", code, what, out, errOut)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s\nstdout:\n%s\nstderr:\n%s", what, out, errOut)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("queue line", func() bool { return strings.Contains(out.String(), "queue Inbox is "+queue) })
	if !strings.Contains(out.String(), "with prefix "+svc) {
		t.Errorf("stdout does not name the prefix %s:\n%s", svc, out)
	}
	var sendOut bytes.Buffer
	if code := run(context.Background(), []string{"send", queue, "hello from " + svc}, &Env{Stdout: &sendOut, Stderr: &sendOut, Now: time.Now}); code != 0 {
		t.Fatalf("latch send: exit %d: %s", code, sendOut.String())
	}
	waitFor("function output", func() bool { return strings.Contains(errOut.String(), `"got":"hello from `+svc+`"`) })
	stop()
	if code := <-done; code != 0 {
		t.Errorf("latch local: exit %d\nstderr:\n%s", code, errOut)
	}
	if !regexp.MustCompile(`latch local: stopping\nlatch local: (nothing left in flight|.* left in flight; visible again by)`).MatchString(out.String()) {
		t.Errorf("no in-flight report after stopping:\n%s", out)
	}
}
