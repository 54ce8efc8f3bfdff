package lambdaproc

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/latchkit/latch/internal/runtimeapi"
)

// environment is one execution environment: a function process and the
// Runtime API server it talks to. It lives until the process exits; a
// timeout or an init error kills the process, as Lambda does.
type environment struct {
	id     int
	srv    *runtimeapi.Server
	cmd    *exec.Cmd
	out    *lineWriter
	exited chan struct{} // closed once the process is reaped
	// waitErr is the process's exit, set before exited closes.
	waitErr error
	// ended is set when the runner itself ends the process (Stop, a
	// timeout, an init failure); any other exit is unexpected.
	ended atomic.Bool
	// reaped is set as soon as Wait returns, before the server hears of
	// the exit: the server then ends because the process did, not the
	// other way round.
	reaped atomic.Bool
	// invoking counts invocations under way on the environment.
	invoking atomic.Int32
	// assigned counts the invocations the pool gave the environment and
	// that have not come back; guarded by the Function's mu.
	assigned int
}

// start launches a new environment. A process that cannot even be started
// is Lambda's Runtime.InvalidEntrypoint.
func (f *Function) start(id int) (*environment, error) {
	srv, err := runtimeapi.NewServer(runtimeapi.Config{
		FunctionName: f.cfg.Name,
		Region:       f.cfg.Region,
		Version:      f.cfg.Version,
		Handler:      f.cfg.Handler,
		Timeout:      f.cfg.Timeout,
		InitTimeout:  f.cfg.InitTimeout,
		// The server and the runtime's loops agree on the concurrency.
		MaxConcurrency: f.cfg.PerEnvironment,
		KeepOverrun:    f.cfg.KeepOverrun,
	})
	if err != nil {
		return nil, fmt.Errorf("lambdaproc: %s: %w", f.cfg.Name, err)
	}
	e := &environment{
		id:     id,
		srv:    srv,
		exited: make(chan struct{}),
		out: &lineWriter{
			mu:     &f.outMu,
			w:      f.cfg.Output,
			prefix: []byte(fmt.Sprintf("[%s %d] ", f.cfg.Name, id)),
		},
	}
	e.cmd = exec.Command(f.cfg.Binary)
	e.cmd.Dir = f.cfg.TaskRoot // as /var/task in Lambda
	e.cmd.Env = f.environ(srv.Addr())
	// One writer for both streams: exec then uses a single pipe, and lines
	// keep the order the function wrote them in.
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	// A grandchild holding the output pipe must not keep Wait from
	// returning after the function itself died.
	e.cmd.WaitDelay = time.Second
	if err := e.cmd.Start(); err != nil {
		_ = srv.Close()
		return nil, &runtimeapi.FunctionError{
			Type:    runtimeapi.ErrorTypeInvalidEntrypoint,
			Message: fmt.Sprintf("Error: starting %s: %v", f.cfg.Binary, err),
		}
	}
	go func() {
		err := e.cmd.Wait()
		e.reaped.Store(true)
		e.waitErr = err
		e.out.flush()
		srv.RuntimeExited(err)
		close(e.exited)
	}()
	go func() {
		// The server ends first on a timeout or an init error: Lambda
		// then kills the environment without a SIGTERM.
		select {
		case <-srv.Done():
			if !e.reaped.Load() {
				e.ended.Store(true)
			}
			_ = e.cmd.Process.Kill()
		case <-e.exited:
		}
	}()
	return e, nil
}

// alive reports whether the environment can still take invocations.
func (e *environment) alive() bool {
	select {
	case <-e.srv.Done():
		return false
	default:
		return true
	}
}

// stop ends the environment and waits until its process is reaped. As in
// Lambda, a runtime with a registered extension gets SIGTERM and the grace
// period first; otherwise it is killed at once. The server is closed only
// once the process is gone, so the runtime never sees its API vanish and
// logs no spurious connection errors on the way out.
func (e *environment) stop(grace time.Duration) {
	e.ended.Store(true)
	if e.alive() && len(e.srv.Extensions()) > 0 {
		_ = e.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-e.exited:
		case <-time.After(grace):
		}
	}
	_ = e.cmd.Process.Kill() // harmless once the process is reaped
	<-e.exited
	_ = e.srv.Close()
}

// reservedEnv are the variables Lambda sets itself and refuses in a
// function's configuration. AWS credentials are reserved in Lambda too, but
// locally they stand in for the execution role's and are allowed in Env.
var reservedEnv = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION",
	"AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
	"AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
	"AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_MAX_CONCURRENCY",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}

func isReserved(key string) bool {
	for _, r := range reservedEnv {
		if key == r {
			return true
		}
	}
	return false
}

// environ is the process environment: the runner's own unless CleanEnv,
// then the function's Env, then what Lambda sets. Later entries win
// (exec.Cmd keeps the last value of a duplicated key).
func (f *Function) environ(runtimeAPI string) []string {
	var env []string
	if !f.cfg.CleanEnv {
		for _, kv := range os.Environ() {
			key, _, _ := strings.Cut(kv, "=")
			if !isReserved(key) && !strings.HasPrefix(key, "AWS_LAMBDA_") {
				env = append(env, kv)
			}
		}
	}
	keys := make([]string, 0, len(f.cfg.Env))
	for k := range f.cfg.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+f.cfg.Env[k])
	}
	if f.cfg.PerEnvironment > 1 {
		env = append(env, "AWS_LAMBDA_MAX_CONCURRENCY="+strconv.Itoa(f.cfg.PerEnvironment))
	}
	var stream [16]byte
	_, _ = rand.Read(stream[:])
	return append(env,
		"AWS_LAMBDA_RUNTIME_API="+runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME="+f.cfg.Name,
		"AWS_LAMBDA_FUNCTION_VERSION="+f.cfg.Version,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(f.cfg.MemorySize),
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME="+f.cfg.LogGroup,
		"AWS_LAMBDA_LOG_STREAM_NAME="+time.Now().UTC().Format("2006/01/02")+"/["+f.cfg.Version+"]"+hex.EncodeToString(stream[:]),
		"AWS_REGION="+f.cfg.Region,
		"AWS_DEFAULT_REGION="+f.cfg.Region,
		"_HANDLER="+f.cfg.Handler,
		"LAMBDA_TASK_ROOT="+f.cfg.TaskRoot,
		"LAMBDA_RUNTIME_DIR="+filepath.Dir(f.cfg.Binary),
		"TZ=:UTC",
	)
}
