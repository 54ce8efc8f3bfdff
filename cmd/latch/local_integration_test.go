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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

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

// localRun is `latch local` running in the test, as in a terminal of its own.
type localRun struct {
	t           *testing.T
	out, errOut *lockedBuffer
	done        chan int
	stop        context.CancelFunc
}

func startLocal(t *testing.T, args ...string) *localRun {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	r := &localRun{t: t, out: &lockedBuffer{}, errOut: &lockedBuffer{}, done: make(chan int, 1), stop: stop}
	go func() {
		r.done <- run(ctx, append([]string{"local"}, args...), &Env{Stdout: r.out, Stderr: r.errOut, Now: time.Now})
	}()
	return r
}

// waitFor polls cond for two minutes; latch local exiting first fails.
func (r *localRun) waitFor(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		select {
		case code := <-r.done:
			r.t.Fatalf("latch local exited (%d) before %s\nstdout:\n%s\nstderr:\n%s", code, what, r.out, r.errOut)
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("no %s\nstdout:\n%s\nstderr:\n%s", what, r.out, r.errOut)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// interrupt is Ctrl-C: it waits for latch local to exit and checks its code.
func (r *localRun) interrupt() {
	r.t.Helper()
	r.stop()
	if code := <-r.done; code != 0 {
		r.t.Errorf("latch local: exit %d\nstderr:\n%s", code, r.errOut)
	}
}

// userService writes tmpl, with {{fn}} standing for the test function's
// code, as <svc>/infra/template.yaml in a directory of its own, as a
// user's service would have it, and returns svc, a short unique name, and
// the template's path.
func userService(t *testing.T, tmpl string) (svc, path string) {
	t.Helper()
	fn, err := filepath.Abs("../../internal/local/testdata/fn")
	if err != nil {
		t.Fatal(err)
	}
	svc = emulator.UniqueName(t, "svc")
	svc = "svc" + strings.ToLower(svc[len(svc)-8:])
	dir := filepath.Join(t.TempDir(), svc, "infra")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(tmpl, "{{fn}}", fn)), 0o644); err != nil {
		t.Fatal(err)
	}
	return svc, path
}

// TestLocalOnAUserTemplate runs `latch local --template` on a template in a
// directory of its own, as a user's service would be: its resources get
// the directory's name as their prefix, `latch send` reaches its function,
// and Ctrl-C says what is left in flight.
func TestLocalOnAUserTemplate(t *testing.T) {
	emulator.New(t) // skips or fails without the emulators
	svc, path := userService(t, `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Inbox:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {{fn}}
      Handler: bootstrap
      Runtime: provided.al2023
      Events:
        In:
          Type: SQS
          Properties:
            Queue: !GetAtt Inbox.Arn
`)
	l := startLocal(t, "--template", path)
	queue := svc + "-Inbox"
	l.waitFor("queue line", func() bool { return strings.Contains(l.out.String(), "queue Inbox is "+queue) })
	if !strings.Contains(l.out.String(), "with prefix "+svc) {
		t.Errorf("stdout does not name the prefix %s:\n%s", svc, l.out)
	}
	var sendOut bytes.Buffer
	if code := run(context.Background(), []string{"send", queue, "hello from " + svc}, &Env{Stdout: &sendOut, Stderr: &sendOut, Now: time.Now}); code != 0 {
		t.Fatalf("latch send: exit %d: %s", code, sendOut.String())
	}
	l.waitFor("function output", func() bool { return strings.Contains(l.errOut.String(), `"got":"hello from `+svc+`"`) })
	l.interrupt()
	if !regexp.MustCompile(`latch local: stopping\nlatch local: (nothing left in flight|.* left in flight.*; visible again by)`).MatchString(l.out.String()) {
		t.Errorf("no in-flight report after stopping:\n%s", l.out)
	}
}

// TestCommandsFindTheRunningLocal: with `latch local` running under a
// prefix and a parameter of its own, `latch local fire` with neither fires
// the rule in that run (no second stack beside it) and prints the
// function's output on stdout, and `latch send` takes a queue's logical id.
func TestCommandsFindTheRunningLocal(t *testing.T) {
	env := emulator.New(t)
	// Mode has no default: a second stack set up without --param fails.
	svc, path := userService(t, `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Mode:
    Type: String
Resources:
  Inbox:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {{fn}}
      Handler: bootstrap
      Runtime: provided.al2023
      Environment:
        Variables:
          QUEUE_URL: !Sub "${Mode}-mode"
      Events:
        In:
          Type: SQS
          Properties:
            Queue: !GetAtt Inbox.Arn
        Tick:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
`)
	prefix := "own" + svc[3:]
	l := startLocal(t, "--template", path, "--prefix", prefix, "--param", "Mode=chosen")
	l.waitFor("running line", func() bool { return strings.Contains(l.out.String(), "latch local: running") })

	var fireOut, fireErr bytes.Buffer
	if code := run(context.Background(), []string{"local", "fire", "WorkerTick", "--template", path, "--time", "2026-03-01T00:00:00Z"},
		&Env{Stdout: &fireOut, Stderr: &fireErr, Now: time.Now}); code != 0 {
		t.Fatalf("latch local fire: exit %d\nstdout:\n%s\nstderr:\n%s", code, fireOut.String(), fireErr.String())
	}
	// The function's own line, on stdout, from the running functions: they
	// have the running parameter.
	for _, want := range []string{`"tick":{`, `"time":"2026-03-01T00:00:00Z"`, "fired WorkerTick for 2026-03-01T00:00:00Z in the running latch local (prefix " + prefix + ")"} {
		if !strings.Contains(fireOut.String(), want) {
			t.Errorf("latch local fire stdout lacks %q:\n%s", want, fireOut.String())
		}
	}
	// No second stack under the directory's prefix.
	queues, err := env.SQS.ListQueues(context.Background(), &sqs.ListQueuesInput{QueueNamePrefix: aws.String(svc)})
	if err != nil {
		t.Fatal(err)
	}
	if len(queues.QueueUrls) != 0 {
		t.Errorf("latch local fire set up a stack of its own: %v", queues.QueueUrls)
	}
	// --param says the caller expects a run of their own: refused, not
	// silently ignored.
	if code := run(context.Background(), []string{"local", "fire", "WorkerTick", "--param", "Mode=other"}, &Env{Stdout: &fireOut, Stderr: &fireErr, Now: time.Now}); code != 2 {
		t.Errorf("latch local fire --param beside a running latch local: exit %d, want 2\nstderr:\n%s", code, fireErr.String())
	}

	var sendOut bytes.Buffer
	if code := run(context.Background(), []string{"send", "Inbox", "hello " + svc}, &Env{Stdout: &sendOut, Stderr: &sendOut, Now: time.Now}); code != 0 {
		t.Fatalf("latch send Inbox: exit %d: %s", code, sendOut.String())
	}
	l.waitFor("function output", func() bool {
		return strings.Contains(l.errOut.String(), `"got":"hello `+svc+`"`) && strings.Contains(l.errOut.String(), `"env":"chosen-mode"`)
	})
	l.interrupt()
}
