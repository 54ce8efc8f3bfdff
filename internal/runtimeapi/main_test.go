package runtimeapi_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/latchkit/latch/internal/runtimeapi"
)

// fnBinary is testdata/fn built once for the whole test binary: a real
// aws-lambda-go function, so the tests run Lambda's own client loop.
var fnBinary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "runtimeapi-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	fnBinary = filepath.Join(dir, "fn")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", fnBinary, "./testdata/fn")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building testdata/fn: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// runtime is a running testdata/fn process wired to a server the way a
// supervisor wires it: its exit is reported to the server, and it is killed
// when the server ends (timeout, init error).
type runtime struct {
	srv    *runtimeapi.Server
	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	out    bytes.Buffer
}

func (r *runtime) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.Write(p)
}

func (r *runtime) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

func startRuntime(t *testing.T, cfg runtimeapi.Config, env ...string) *runtime {
	t.Helper()
	srv, err := runtimeapi.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &runtime{srv: srv, exited: make(chan struct{})}
	r.cmd = exec.Command(fnBinary)
	r.cmd.Env = append(os.Environ(), append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + srv.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=" + cfg.FunctionName,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
	}, env...)...)
	r.cmd.Stdout, r.cmd.Stderr = r, r
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		srv.RuntimeExited(r.cmd.Wait())
		close(r.exited)
	}()
	go func() {
		select {
		case <-srv.Done():
			_ = r.cmd.Process.Kill()
		case <-r.exited:
		}
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-r.exited
		if t.Failed() {
			t.Logf("function output:\n%s", r.output())
		}
	})
	return r
}
