package lambdaproc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/lambdaproc"
	"github.com/latchkit/latch/internal/runtimeapi"
)

// fnBinary is testdata/fn, built once by TestMain through Build itself.
var fnBinary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lambdaproc-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	fnBinary, err = lambdaproc.Build(ctx, lambdaproc.BuildConfig{Package: "./testdata/fn", CacheDir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// syncBuffer collects a function's output; environments write concurrently.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newFunction(t *testing.T, cfg lambdaproc.Config) (*lambdaproc.Function, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	if cfg.Binary == "" {
		cfg.Binary = fnBinary
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	cfg.Output = out
	fn, err := lambdaproc.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = fn.Stop()
		if t.Failed() {
			t.Logf("function output:\n%s", out)
		}
	})
	return fn, out
}

type result struct {
	PID  int                `json:"pid"`
	Cwd  string             `json:"cwd"`
	Env  map[string]*string `json:"env,omitempty"`
	Body string             `json:"body,omitempty"`
}

func invoke(t *testing.T, fn *lambdaproc.Function, event string) (result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := fn.Invoke(ctx, []byte(event))
	if err != nil {
		return result{}, err
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("response %q: %v", out, err)
	}
	return r, nil
}

func mustInvoke(t *testing.T, fn *lambdaproc.Function, event string) result {
	t.Helper()
	r, err := invoke(t, fn, event)
	if err != nil {
		t.Fatalf("invoke %s: %v", event, err)
	}
	return r
}

func functionError(t *testing.T, err error) *runtimeapi.FunctionError {
	t.Helper()
	var fe *runtimeapi.FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a *runtimeapi.FunctionError", err)
	}
	return fe
}

func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func ptr(s string) *string { return &s }

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf(format, args...)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	keys := []string{
		"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "_HANDLER", "TZ", "AWS_LAMBDA_LOG_GROUP_NAME",
		"AWS_LAMBDA_INITIALIZATION_TYPE", "LAMBDA_TASK_ROOT", "TABLE_NAME", "QUEUE_URL", "PATH",
	}
	event, _ := json.Marshal(map[string]any{"keys": keys})
	tests := []struct {
		name     string
		cleanEnv bool
		wantPath bool
	}{
		{name: "runner environment passed through", wantPath: true},
		{name: "clean environment as in Lambda", cleanEnv: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn, _ := newFunction(t, lambdaproc.Config{
				Name:       "orders",
				Env:        map[string]string{"TABLE_NAME": "latch-idempotency", "QUEUE_URL": "http://127.0.0.1:5000/123456789012/orders"},
				CleanEnv:   tt.cleanEnv,
				MemorySize: 512,
				Region:     "eu-central-1",
			})
			got := mustInvoke(t, fn, string(event)).Env
			want := map[string]*string{
				"AWS_LAMBDA_FUNCTION_NAME":        ptr("orders"),
				"AWS_LAMBDA_FUNCTION_VERSION":     ptr("$LATEST"),
				"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": ptr("512"),
				"AWS_REGION":                      ptr("eu-central-1"),
				"AWS_DEFAULT_REGION":              ptr("eu-central-1"),
				"_HANDLER":                        ptr("bootstrap"),
				"TZ":                              ptr(":UTC"),
				"AWS_LAMBDA_LOG_GROUP_NAME":       ptr("/aws/lambda/orders"),
				"AWS_LAMBDA_INITIALIZATION_TYPE":  ptr("on-demand"),
				"LAMBDA_TASK_ROOT":                ptr(filepath.Dir(fnBinary)),
				"TABLE_NAME":                      ptr("latch-idempotency"),
				"QUEUE_URL":                       ptr("http://127.0.0.1:5000/123456789012/orders"),
				"PATH":                            nil,
			}
			if tt.wantPath {
				want["PATH"] = ptr(os.Getenv("PATH"))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("environment (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTaskRoot: the function runs in its task root, which is
// LAMBDA_TASK_ROOT, as in Lambda (/var/task), so a relative path in its
// configuration is read from its code; by default the task root is the
// executable's directory.
func TestTaskRoot(t *testing.T) {
	t.Parallel()
	code := t.TempDir()
	tests := []struct {
		name     string
		taskRoot string
		want     string
	}{
		{name: "default: the executable's directory", want: filepath.Dir(fnBinary)},
		{name: "the code directory", taskRoot: code, want: code},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn, _ := newFunction(t, lambdaproc.Config{Name: "orders", TaskRoot: tt.taskRoot})
			got := mustInvoke(t, fn, `{"keys":["LAMBDA_TASK_ROOT"]}`)
			if got.Cwd != tt.want {
				t.Errorf("working directory %s, want %s", got.Cwd, tt.want)
			}
			if root := got.Env["LAMBDA_TASK_ROOT"]; root == nil || *root != tt.want {
				t.Errorf("LAMBDA_TASK_ROOT = %v, want %s", root, tt.want)
			}
		})
	}
}

func TestReservedEnvironmentIsRefused(t *testing.T) {
	t.Parallel()
	_, err := lambdaproc.New(lambdaproc.Config{
		Name: "orders", Binary: fnBinary,
		Env: map[string]string{"AWS_REGION": "x", "_HANDLER": "y", "AWS_ACCESS_KEY_ID": "allowed"},
	})
	if err == nil || !strings.Contains(err.Error(), "reserved by Lambda: AWS_REGION, _HANDLER") {
		t.Errorf("err = %v", err)
	}
}

func TestFailuresRestartTheProcess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		event       string
		timeout     time.Duration
		wantType    string
		wantMessage string
	}{
		{
			name:        "exit mid-invocation",
			event:       `{"action":"exit","code":3}`,
			wantType:    runtimeapi.ErrorTypeExit,
			wantMessage: "Error: Runtime exited with error: exit status 3",
		},
		{
			name:        "panic",
			event:       `{"action":"panic"}`,
			wantType:    "string",
			wantMessage: "handler blew up",
		},
		{
			name:        "timeout",
			event:       `{"action":"sleep","sleepMs":60000}`,
			timeout:     time.Second,
			wantType:    runtimeapi.ErrorTypeTimeout,
			wantMessage: "Error: Task timed out after 1.00 seconds",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn, _ := newFunction(t, lambdaproc.Config{Name: "flaky", Timeout: tt.timeout})
			first := mustInvoke(t, fn, `{}`).PID
			_, err := invoke(t, fn, tt.event)
			fe := functionError(t, err)
			if fe.Type != tt.wantType || !strings.HasSuffix(fe.Message, tt.wantMessage) {
				t.Errorf("got %q %q, want %q ...%q", fe.Type, fe.Message, tt.wantType, tt.wantMessage)
			}
			second := mustInvoke(t, fn, `{}`).PID
			if second == first {
				t.Errorf("pid %d answered after the failure: want a fresh process", second)
			}
			// The failed process is killed and reaped; no sleeping, a
			// deadline to poll against.
			eventually(t, func() bool { return processGone(first) && fn.Running() == 1 },
				"failed process %d still exists, or Running() stays != 1", first)
		})
	}
}

func TestInitFailure(t *testing.T) {
	t.Parallel()
	fn, out := newFunction(t, lambdaproc.Config{Name: "broken", Env: map[string]string{"FN_INIT": "exit"}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := fn.Warm(ctx)
	fe := functionError(t, err)
	if fe.Type != runtimeapi.ErrorTypeExit || fe.Message != "Error: Runtime exited with error: exit status 1" {
		t.Errorf("Warm: %q %q", fe.Type, fe.Message)
	}
	if !strings.Contains(out.String(), "[broken 1] ") || !strings.Contains(out.String(), "fn: cannot load configuration") {
		t.Errorf("output %q lacks the prefixed log.Fatal line", out)
	}
	// Every invocation tries a fresh init and fails as it would in Lambda.
	for i := range 2 {
		_, err := invoke(t, fn, `{}`)
		fe := functionError(t, err)
		if fe.Type != runtimeapi.ErrorTypeExit || !strings.HasSuffix(fe.Message, "Runtime exited with error: exit status 1") {
			t.Errorf("invocation %d: %q %q", i, fe.Type, fe.Message)
		}
	}
	if want := "[broken 3] "; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q: one process per attempt", want)
	}
}

func TestWarmThenInvoke(t *testing.T) {
	t.Parallel()
	fn, _ := newFunction(t, lambdaproc.Config{Name: "warm"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := fn.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	if n := fn.Running(); n != 1 {
		t.Fatalf("Running() = %d after Warm", n)
	}
	a, b := mustInvoke(t, fn, `{}`).PID, mustInvoke(t, fn, `{}`).PID
	if a != b || fn.Running() != 1 {
		t.Errorf("pids %d, %d and %d processes: want the warm one reused", a, b, fn.Running())
	}
}

func TestMissingBinaryIsInvalidEntrypoint(t *testing.T) {
	t.Parallel()
	fn, _ := newFunction(t, lambdaproc.Config{Name: "ghost", Binary: filepath.Join(t.TempDir(), "bootstrap")})
	_, err := invoke(t, fn, `{}`)
	if fe := functionError(t, err); fe.Type != runtimeapi.ErrorTypeInvalidEntrypoint {
		t.Errorf("type %q", fe.Type)
	}
}

// barrier is an HTTP endpoint that the function calls; it tracks how many
// calls are inside at once and lets them go when release is closed, or
// when n are inside together.
type barrier struct {
	n       int
	mu      sync.Mutex
	inside  int
	max     int
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

func newBarrier(t *testing.T, n int) (*barrier, string) {
	b := &barrier{n: n, arrived: make(chan struct{}, 100), release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.inside++
		b.max = max(b.max, b.inside)
		if b.inside >= b.n {
			b.once.Do(func() { close(b.release) })
		}
		b.mu.Unlock()
		b.arrived <- struct{}{}
		select {
		case <-b.release:
		case <-r.Context().Done():
		}
		b.mu.Lock()
		b.inside--
		b.mu.Unlock()
		fmt.Fprint(w, "through")
	}))
	t.Cleanup(srv.Close)
	return b, srv.URL
}

func TestConcurrentEnvironments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		concurrency int
		// perEnv is Config.PerEnvironment: invocations per process.
		perEnv      int
		invocations int
		// barrierAt: the barrier opens when this many are inside at once;
		// 0 opens it from the test once all were seen.
		barrierAt int
		wantMax   int
		wantProcs int
	}{
		{name: "three run in parallel", concurrency: 3, invocations: 3, barrierAt: 3, wantMax: 3, wantProcs: 3},
		{name: "never more than the maximum", concurrency: 2, invocations: 5, wantMax: 2, wantProcs: 2},
		{name: "managed instances: four in one process", concurrency: 1, perEnv: 4, invocations: 4, barrierAt: 4, wantMax: 4, wantProcs: 1},
		{name: "managed instances: two processes of three", concurrency: 2, perEnv: 3, invocations: 6, barrierAt: 6, wantMax: 6, wantProcs: 2},
		{name: "managed instances: never more than environments × per environment", concurrency: 1, perEnv: 2, invocations: 5, wantMax: 2, wantProcs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn, _ := newFunction(t, lambdaproc.Config{Name: "parallel", MaxConcurrency: tt.concurrency, PerEnvironment: tt.perEnv})
			n := tt.barrierAt
			if n == 0 {
				n = 1000 // opened by the test
			}
			b, url := newBarrier(t, n)
			event := fmt.Sprintf(`{"action":"call","url":%q}`, url)
			var wg sync.WaitGroup
			results := make(chan result, tt.invocations)
			errs := make(chan error, tt.invocations)
			for range tt.invocations {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := invoke(t, fn, event)
					if err != nil {
						errs <- err
						return
					}
					results <- r
				}()
			}
			if tt.barrierAt == 0 {
				// Let the first wave in, check none beyond the maximum
				// got through the pool, then open the gate.
				for range tt.wantMax {
					<-b.arrived
				}
				select {
				case <-b.arrived:
					t.Error("an invocation beyond MaxConcurrency reached the function")
				case <-time.After(300 * time.Millisecond):
				}
				b.once.Do(func() { close(b.release) })
			}
			wg.Wait()
			close(results)
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			pids := map[int]bool{}
			for r := range results {
				if r.Body != "through" {
					t.Errorf("body %q", r.Body)
				}
				pids[r.PID] = true
			}
			if b.max != tt.wantMax || len(pids) != tt.wantProcs {
				t.Errorf("max inside %d over %d processes, want %d over %d", b.max, len(pids), tt.wantMax, tt.wantProcs)
			}
		})
	}
}

func TestOutputIsPrefixedLineByLine(t *testing.T) {
	t.Parallel()
	fn, out := newFunction(t, lambdaproc.Config{Name: "printer"})
	_, err := invoke(t, fn, `{"action":"print"}`)
	if fe := functionError(t, err); fe.Message != "RequestId: "+fe.RequestID+" Error: Runtime exited without providing a reason" {
		t.Errorf("exit 0 mid-invocation: %q", fe.Message)
	}
	for _, want := range []string{"[printer 1] to stdout\n", "[printer 1] to stderr\n", "[printer 1] no newline then exit\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
}

// TestWithOutput: an invocation under WithOutput gets the lines its own
// environment wrote while it ran, and not those of an invocation running
// beside it; the function's Output still gets every line.
func TestWithOutput(t *testing.T) {
	t.Parallel()
	fn, all := newFunction(t, lambdaproc.Config{Name: "talker", MaxConcurrency: 2})
	var wg sync.WaitGroup
	outs := make([]*syncBuffer, 2)
	for i := range outs {
		outs[i] = &syncBuffer{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(lambdaproc.WithOutput(context.Background(), outs[i]), time.Minute)
			defer cancel()
			// The sleep keeps both invocations running at once.
			if _, err := fn.Invoke(ctx, []byte(fmt.Sprintf(`{"action":"sleep","sleepMs":300,"say":"invocation %d"}`, i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i, out := range outs {
		got := out.String()
		if !strings.Contains(got, fmt.Sprintf("] invocation %d\n", i)) || strings.Count(got, "\n") != 1 {
			t.Errorf("invocation %d captured %q, want its one line", i, got)
		}
	}
	if n := strings.Count(all.String(), "] invocation "); n != 2 {
		t.Errorf("Output has %d of the 2 lines:\n%s", n, all)
	}
}

func TestStop(t *testing.T) {
	t.Parallel()
	fn, _ := newFunction(t, lambdaproc.Config{Name: "stopper", MaxConcurrency: 2})
	b, url := newBarrier(t, 1000)
	event := fmt.Sprintf(`{"action":"call","url":%q}`, url)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := invoke(t, fn, event)
			errs <- err
		}()
	}
	<-b.arrived
	<-b.arrived
	if n := fn.Running(); n != 2 {
		t.Fatalf("Running() = %d", n)
	}
	pids := pidsOf(t, fn)
	if len(pids) != 2 {
		t.Fatalf("found processes %v in /proc, want 2", pids)
	}
	if err := fn.Stop(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; !errors.Is(err, lambdaproc.ErrStopped) {
			t.Errorf("interrupted invocation: %v, want ErrStopped", err)
		}
	}
	for _, pid := range pids {
		if !processGone(pid) {
			t.Errorf("process %d survived Stop", pid)
		}
	}
	if n := fn.Running(); n != 0 {
		t.Errorf("Running() = %d after Stop", n)
	}
	if _, err := invoke(t, fn, `{}`); !errors.Is(err, lambdaproc.ErrStopped) {
		t.Errorf("invoke after Stop: %v", err)
	}
	if err := fn.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// pidsOf finds the function's processes: the children of this test process
// running its binary. Stop must kill exactly these.
func pidsOf(t *testing.T, fn *lambdaproc.Function) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc to find the processes in")
	}
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || exe != fn.Config().Binary {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(env, []byte("AWS_LAMBDA_FUNCTION_NAME="+fn.Name()+"\x00")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestStopSendsSIGTERMWhenAnExtensionRegistered(t *testing.T) {
	t.Parallel()
	fn, out := newFunction(t, lambdaproc.Config{Name: "graceful", Env: map[string]string{"FN_INIT": "sigterm"}})
	mustInvoke(t, fn, `{}`)
	if err := fn.Stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "[graceful 1] fn: SIGTERM received, flushing") {
		t.Errorf("output %q: the SIGTERM hook did not run", out)
	}
	if strings.Contains(out.String(), "WARNING") {
		t.Errorf("aws-lambda-go warned on the way out:\n%s", out)
	}
}

func TestBuildReportsCompileErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := lambdaproc.Build(ctx, lambdaproc.BuildConfig{Package: "./testdata/broken", CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "building ./testdata/broken") || !strings.Contains(err.Error(), "cannot use") {
		t.Errorf("err = %v", err)
	}
}

func TestKilledIdleProcessIsLogged(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	fn, _ := newFunction(t, lambdaproc.Config{Name: "idle-kill", Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err := fn.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	pids := pidsOf(t, fn)
	if len(pids) != 1 {
		t.Fatalf("%d processes, want 1", len(pids))
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { return strings.Contains(logs.String(), "exited unexpectedly") }, "no log line for the killed process:\n%s", logs)
	for _, want := range []string{"function=idle-kill", fmt.Sprintf("pid=%d", pids[0]), "signal=SIGKILL", "while=idle", "restart="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	// The next invocation gets a new process.
	if r := mustInvoke(t, fn, `{}`); r.PID == pids[0] {
		t.Errorf("invoked the killed process %d", r.PID)
	}
	// Stop ends processes on purpose: no such line for them.
	before := strings.Count(logs.String(), "exited unexpectedly")
	_ = fn.Stop()
	if n := strings.Count(logs.String(), "exited unexpectedly"); n != before {
		t.Errorf("Stop logged %d unexpected exits", n-before)
	}
}

// TestOverrun: an invocation past its timeout fails either way; with
// KeepOverrun (Lambda Managed Instances) its process lives on and serves
// the next, classically it is killed and the next gets a fresh one.
func TestOverrun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		keep     bool
		wantSame bool
	}{
		{name: "managed instances keep the process", keep: true, wantSame: true},
		{name: "classic kills the process", keep: false, wantSame: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn, _ := newFunction(t, lambdaproc.Config{Name: "overrun", Timeout: time.Second, PerEnvironment: 2, KeepOverrun: tt.keep})
			before := mustInvoke(t, fn, `{}`)
			_, err := invoke(t, fn, `{"action":"sleep","sleepMs":1500}`)
			if fe := functionError(t, err); fe.Type != runtimeapi.ErrorTypeTimeout {
				t.Fatalf("overrun: type %q, want %q", fe.Type, runtimeapi.ErrorTypeTimeout)
			}
			after := mustInvoke(t, fn, `{}`)
			if same := after.PID == before.PID; same != tt.wantSame {
				t.Errorf("process %d before the overrun, %d after; want the same: %v", before.PID, after.PID, tt.wantSame)
			}
			if tt.keep {
				// The overrun answers late; the process must take that
				// in its stride and go on serving.
				time.Sleep(time.Second) //nolint:forbidigo // lets the overrun's 1.5 s run out; nothing to poll
				if again := mustInvoke(t, fn, `{}`); again.PID != before.PID {
					t.Errorf("after the overrun's late answer the process changed: %d → %d", before.PID, again.PID)
				}
			} else if !processGone(before.PID) {
				t.Errorf("process %d still runs after its invocation timed out", before.PID)
			}
		})
	}
}
