package lambdaproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/latchkit/latch/internal/runtimeapi"
)

// ErrStopped is returned by Invoke once Stop was called, including for an
// invocation that Stop interrupted.
var ErrStopped = errors.New("lambdaproc: function stopped")

// Defaults for Config.
const (
	DefaultMemorySize    = 128
	DefaultShutdownGrace = 300 * time.Millisecond
)

// Config describes a function to run. Every field but Name and Binary has a
// usable zero value.
type Config struct {
	// Name is the function's name: AWS_LAMBDA_FUNCTION_NAME, its ARN, and
	// the prefix of its output lines. Required.
	Name string
	// Binary is the function's executable, from Build. Required.
	Binary string
	// TaskRoot is the function's working directory and LAMBDA_TASK_ROOT:
	// in Lambda, /var/task, where the deployment package is unpacked, so
	// a relative path in the function's configuration is read from its
	// code. Zero: Binary's directory. latch local gives the function's
	// code directory (CodeUri), what SAM packages.
	TaskRoot string
	// Env is the function's environment as its template declares it, with
	// references resolved to local resources. Lambda's reserved variables
	// (AWS_REGION, _HANDLER, ...) are refused, as Lambda refuses them;
	// AWS credentials are allowed and stand in for the execution role's.
	Env map[string]string
	// CleanEnv starts the process from Env and Lambda's variables only, as
	// in Lambda. Zero (false): the runner's own environment is passed
	// through underneath (PATH, HOME, the emulator endpoints and dummy
	// credentials of the local stack), the way `sam local` passes
	// credentials through.
	CleanEnv bool
	// Timeout is the function's Timeout: each invocation's deadline. Zero:
	// 3s, Lambda's default.
	Timeout time.Duration
	// InitTimeout bounds the init phase. Zero: 10s, Lambda's.
	InitTimeout time.Duration
	// MemorySize is AWS_LAMBDA_FUNCTION_MEMORY_SIZE in MB; it is not
	// enforced. Zero: 128, Lambda's default.
	MemorySize int
	// Region is AWS_REGION. Zero: the runner's AWS_REGION, else
	// AWS_DEFAULT_REGION, else us-east-1.
	Region string
	// Version is AWS_LAMBDA_FUNCTION_VERSION. Zero: $LATEST.
	Version string
	// Handler is _HANDLER. Zero: bootstrap.
	Handler string
	// LogGroup is AWS_LAMBDA_LOG_GROUP_NAME, as a template's
	// LoggingConfig.LogGroup sets it. Zero: /aws/lambda/<Name>.
	LogGroup string
	// MaxConcurrency is how many execution environments (processes) may
	// run invocations at once, like a reserved concurrency or an SQS
	// mapping's MaximumConcurrency. Zero: 1.
	MaxConcurrency int
	// PerEnvironment is how many invocations one environment serves at
	// once: a function on a capacity provider (Lambda Managed Instances)
	// has its PerExecutionEnvironmentMaxConcurrency, and its process gets
	// AWS_LAMBDA_MAX_CONCURRENCY, from which aws-lambda-go runs that many
	// invoke loops. Zero: 1, a classic function.
	PerEnvironment int
	// KeepOverrun keeps a process whose invocation passed its timeout, as
	// Lambda Managed Instances do: the invocation fails with the timeout,
	// its code runs on, and the process serves other invocations
	// meanwhile (see runtimeapi.Config.KeepOverrun). Zero (false): the
	// classic Lambda behaviour, the process is killed at the timeout.
	KeepOverrun bool
	// Output receives the function's stdout and stderr, line by line,
	// each line prefixed with "[<Name> <environment number>] ". Zero:
	// os.Stderr.
	Output io.Writer
	// Logger receives the function's lifecycle events that no invocation
	// reports: a process that died between invocations (killed by a
	// signal, say), which the next invocation replaces. Zero:
	// slog.Default().
	Logger *slog.Logger
	// ShutdownGrace is how long Stop waits after SIGTERM before SIGKILL,
	// for a runtime that registered an extension (as
	// lambda.WithEnableSIGTERM does). Zero: 300ms, Lambda's grace for
	// internal extensions.
	ShutdownGrace time.Duration
}

// Function runs a function as real processes behind local Runtime APIs: a
// pool of up to MaxConcurrency execution environments, each a process that
// serves PerEnvironment invocations at a time (one, classically). Environments start on demand, like
// Lambda's cold starts, and are reused while they live; one whose process
// exited, timed out or failed its init is discarded and the next
// invocation gets a fresh process.
type Function struct {
	cfg Config

	slots    chan struct{} // one token per invocation under way
	stopped  chan struct{}
	stopOnce sync.Once
	outMu    sync.Mutex // shared by every environment's output

	mu       sync.Mutex
	roomy    *sync.Cond // on mu: an environment has room, or fewer live
	idle     []*environment
	all      map[*environment]struct{}
	nextID   int
	starting int // environments being started
}

// New checks cfg and returns a Function; no process starts until Warm or
// the first Invoke.
func New(cfg Config) (*Function, error) {
	if cfg.Name == "" {
		return nil, errors.New("lambdaproc: Config.Name is required")
	}
	if cfg.Binary == "" {
		return nil, fmt.Errorf("lambdaproc: %s: Config.Binary is required", cfg.Name)
	}
	var reserved []string
	for k := range cfg.Env {
		if isReserved(k) {
			reserved = append(reserved, k)
		}
	}
	if len(reserved) > 0 {
		sort.Strings(reserved)
		return nil, fmt.Errorf("lambdaproc: %s: environment contains keys reserved by Lambda: %s",
			cfg.Name, strings.Join(reserved, ", "))
	}
	bin, err := filepath.Abs(cfg.Binary)
	if err != nil {
		return nil, fmt.Errorf("lambdaproc: %s: %w", cfg.Name, err)
	}
	cfg.Binary = bin
	if cfg.TaskRoot == "" {
		cfg.TaskRoot = filepath.Dir(bin)
	} else if cfg.TaskRoot, err = filepath.Abs(cfg.TaskRoot); err != nil {
		return nil, fmt.Errorf("lambdaproc: %s: task root: %w", cfg.Name, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = runtimeapi.DefaultTimeout
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = runtimeapi.DefaultInitTimeout
	}
	if cfg.MemorySize <= 0 {
		cfg.MemorySize = DefaultMemorySize
	}
	if cfg.Region == "" {
		cfg.Region = os.Getenv("AWS_REGION")
	}
	if cfg.Region == "" {
		cfg.Region = os.Getenv("AWS_DEFAULT_REGION")
	}
	if cfg.Region == "" {
		cfg.Region = runtimeapi.DefaultRegion
	}
	if cfg.Version == "" {
		cfg.Version = "$LATEST"
	}
	if cfg.Handler == "" {
		cfg.Handler = "bootstrap"
	}
	if cfg.LogGroup == "" {
		cfg.LogGroup = "/aws/lambda/" + cfg.Name
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = 1
	}
	if cfg.PerEnvironment <= 0 {
		cfg.PerEnvironment = 1
	}
	if cfg.Output == nil {
		cfg.Output = os.Stderr
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	f := &Function{
		cfg:     cfg,
		slots:   make(chan struct{}, cfg.MaxConcurrency*cfg.PerEnvironment),
		stopped: make(chan struct{}),
		all:     make(map[*environment]struct{}),
	}
	f.roomy = sync.NewCond(&f.mu)
	return f, nil
}

// Name is the function's name.
func (f *Function) Name() string { return f.cfg.Name }

// Config returns the configuration in effect, defaults filled in.
func (f *Function) Config() Config { return f.cfg }

// Running counts the function's processes that have not been reaped yet.
func (f *Function) Running() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for e := range f.all {
		select {
		case <-e.exited:
		default:
			n++
		}
	}
	return n
}

// Warm starts one execution environment and waits for its init to finish,
// so that a function that cannot start says so before any event arrives.
// The environment then serves the next invocation. An init failure is the
// *runtimeapi.FunctionError an invocation would have got.
func (f *Function) Warm(ctx context.Context) error {
	if err := f.takeSlot(ctx); err != nil {
		return err
	}
	defer f.freeSlot()
	e, err := f.acquire()
	if err != nil {
		return err
	}
	timer := time.NewTimer(f.cfg.InitTimeout)
	defer timer.Stop()
	select {
	case <-e.srv.Ready():
		f.release(e)
		return nil
	case <-e.srv.Done():
		// Dead: not released, it leaves the pool once reaped. Waiting
		// for that also flushes the function's last words to Output.
		<-e.exited
		return e.srv.Err()
	case <-timer.C:
		e.stop(0)
		return fmt.Errorf("lambdaproc: %s: init did not finish within %v", f.cfg.Name, f.cfg.InitTimeout)
	case <-ctx.Done():
		f.release(e)
		return ctx.Err()
	case <-f.stopped:
		return ErrStopped
	}
}

// Invoke runs one invocation on a free execution environment, starting one
// if none is free and MaxConcurrency allows, and waiting otherwise. Errors
// are those of runtimeapi.Server.InvokeRequest: a *runtimeapi.FunctionError
// when the function failed (its error, a crash, a timeout, an init
// failure), after which a dead environment is replaced; ctx's error; or
// ErrStopped.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f.InvokeRequest(ctx, runtimeapi.Request{Payload: payload})
}

// InvokeRequest is Invoke with the invocation's metadata; see
// runtimeapi.Request.
func (f *Function) InvokeRequest(ctx context.Context, req runtimeapi.Request) ([]byte, error) {
	if err := f.takeSlot(ctx); err != nil {
		return nil, err
	}
	defer f.freeSlot()
	var (
		out []byte
		err error
	)
	// An environment that died between invocations (aws-lambda-go exits
	// just after reporting a panic) may still look alive when picked; the
	// server then says the invocation was not delivered, and it goes to a
	// fresh environment, as Lambda would route it. A fresh one can fail
	// that way only if its runtime dies right after init, so a few tries
	// bound the loop.
	for range maxDeliveryAttempts {
		var e *environment
		e, err = f.acquire()
		if err != nil {
			return nil, err
		}
		// An environment whose caller gave up (ctx) while its invocation
		// runs goes back to the pool busy; the next caller to pick it
		// waits for it inside the server.
		e.invoking.Add(1)
		tee := outputFrom(ctx)
		if tee != nil {
			e.out.capture(tee)
		}
		out, err = e.srv.InvokeRequest(ctx, req)
		if tee != nil {
			// Before the release: the next invocation's lines are not
			// this one's.
			e.out.drain()
		}
		e.invoking.Add(-1)
		f.release(e)
		if !errors.Is(err, runtimeapi.ErrNotDelivered) {
			break
		}
	}
	if err != nil && f.isStopped() && (errors.Is(err, runtimeapi.ErrClosed) ||
		errors.Is(err, runtimeapi.ErrNotDelivered) || isExit(err)) {
		return nil, fmt.Errorf("%w: %v", ErrStopped, err)
	}
	return out, err
}

// maxDeliveryAttempts bounds how many environments one invocation is
// offered to.
const maxDeliveryAttempts = 3

func isExit(err error) bool {
	var fe *runtimeapi.FunctionError
	return errors.As(err, &fe) && fe.Type == runtimeapi.ErrorTypeExit
}

// Stop ends every process the function started and waits until they are
// reaped; invocations under way fail with ErrStopped. Stop is idempotent.
func (f *Function) Stop() error {
	f.stopOnce.Do(func() { close(f.stopped) })
	f.mu.Lock()
	f.roomy.Broadcast()
	envs := make([]*environment, 0, len(f.all))
	for e := range f.all {
		envs = append(envs, e)
	}
	f.idle = nil
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, e := range envs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.stop(f.cfg.ShutdownGrace)
		}()
	}
	wg.Wait()
	return nil
}

func (f *Function) isStopped() bool {
	select {
	case <-f.stopped:
		return true
	default:
		return false
	}
}

func (f *Function) takeSlot(ctx context.Context) error {
	if f.isStopped() {
		return ErrStopped
	}
	select {
	case f.slots <- struct{}{}:
		return nil
	case <-f.stopped:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *Function) freeSlot() { <-f.slots }

// acquire returns the most recently used live environment with room for
// one more invocation, or a new one. The caller holds a slot, and idle
// holds every live environment with room, so live environments never
// outnumber MaxConcurrency.
func (f *Function) acquire() (*environment, error) {
	f.mu.Lock()
	for {
		for len(f.idle) > 0 {
			e := f.idle[len(f.idle)-1]
			f.idle = f.idle[:len(f.idle)-1]
			if e.alive() {
				e.assigned++
				if e.assigned < f.cfg.PerEnvironment {
					f.idle = append(f.idle, e) // room for more
				}
				f.mu.Unlock()
				return e, nil
			}
		}
		// With several invocations per environment, callers that arrive
		// together would each start one: the first starts it, the others
		// wait for its room.
		if f.isStopped() || f.liveLocked()+f.starting < f.cfg.MaxConcurrency {
			break
		}
		f.roomy.Wait()
	}
	f.nextID++
	id := f.nextID
	f.starting++
	f.mu.Unlock()

	e, err := f.start(id)
	f.mu.Lock()
	f.starting--
	f.roomy.Broadcast()
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if f.isStopped() {
		f.mu.Unlock()
		e.stop(0)
		return nil, ErrStopped
	}
	f.all[e] = struct{}{}
	e.assigned = 1
	if f.cfg.PerEnvironment > 1 {
		f.idle = append(f.idle, e)
		f.roomy.Broadcast()
	}
	f.mu.Unlock()
	go func() {
		<-e.exited
		f.mu.Lock()
		delete(f.all, e)
		f.roomy.Broadcast()
		f.mu.Unlock()
		f.logUnexpectedExit(e)
	}()
	return e, nil
}

// release gives back an environment's place: one that was full goes back
// in the pool; a dead one is dropped (its process is being killed and
// reaped) when acquire next meets it.
func (f *Function) release(e *environment) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e.assigned--
	if e.assigned == f.cfg.PerEnvironment-1 && e.alive() && !f.isStopped() {
		f.idle = append(f.idle, e)
	}
	f.roomy.Broadcast()
}

// liveLocked counts the environments that can still take invocations;
// the caller holds mu.
func (f *Function) liveLocked() int {
	n := 0
	for e := range f.all {
		if e.alive() {
			n++
		}
	}
	return n
}
