package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/provision"
	"github.com/latchkit/latch/internal/sdkfix"
	"github.com/latchkit/latch/internal/template"
)

// Config says which template to run and how. Only Template is required.
type Config struct {
	// Template is the path of the SAM template. Function CodeUris are
	// relative to its directory, as in SAM. Required.
	Template string
	// Params overrides the template's parameter defaults by name.
	Params map[string]string
	// StackName is AWS::StackName and the prefix of physical names. Zero:
	// "latch", the provisioner's default.
	StackName string
	// EnvOverrides adds or replaces environment variables of functions, by
	// the function's logical id, on top of what the template declares: a
	// local knob (say a short retry base for the demo) that the template
	// does not expose. Zero: none.
	EnvOverrides map[string]map[string]string
	// Output receives every function's stdout and stderr, line by line,
	// prefixed with "[<function name> <environment>] ". Writes from all
	// functions are serialised. The SDK's false checksum warning on
	// DynamoDB Local's error answers is left out (see checksumNoise).
	// Zero: os.Stderr.
	Output io.Writer
	// Logger receives the runner's own messages (provisioning, builds,
	// schedule fires, poll errors). Zero: slog.Default().
	Logger *slog.Logger
	// AWS is the SDK configuration for the emulators. Zero: loaded with
	// config.LoadDefaultConfig, so the AWS_ENDPOINT_URL_* variables of the
	// local stack apply.
	AWS *aws.Config
	// NoMappings leaves the SQS event sources unpolled, and NoSchedules
	// leaves schedule rules unfired at their times; Fire still works.
	// `latch local fire` sets both for its one-shot run. Zero: both run.
	NoMappings, NoSchedules bool
	// BuildCacheDir is where function executables go (lambdaproc.Build's
	// CacheDir). Zero: lambdaproc's default, $LATCH_CACHE/functions or the
	// user cache directory.
	BuildCacheDir string
	// PerEnvironment runs every function as on Lambda Managed Instances,
	// with this many invocations at once per process, whatever its
	// template says. Zero: each function's CapacityProviderConfig
	// (PerExecutionEnvironmentMaxConcurrency), else one per process.
	PerEnvironment int
	// KillOverrun kills the process of an invocation past its timeout
	// also for a function on a capacity provider, where Lambda lets it run
	// on. Zero (false): as Lambda does, classic functions' processes are
	// killed, capacity-provider functions' run on.
	KillOverrun bool
}

// Stack is a running local stack: the provisioned resources and the
// functions, pollers and schedules Start started.
type Stack struct {
	cfg      Config
	log      *slog.Logger
	aws      aws.Config
	sqs      *sqs.Client
	tmpl     *template.Template
	res      *provision.Result
	funcs    map[string]*function // by logical id
	rules    map[string]provision.Rule
	queueURL map[string]string // queue ARN -> URL
	inflight []queueInFlight   // one per polled queue

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	stopOnce  sync.Once
	stopErr   error
	stoppedAt time.Time // when Stop cancelled the pollers
}

// Start provisions the template on the emulators, builds and starts its
// functions, and starts their SQS pollers and schedule timers. They run
// until Stop (or until ctx is done, after which Stop still has to be called
// to reap the processes). On an error, whatever was started is stopped.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Template == "" {
		return nil, errors.New("local: Config.Template is required")
	}
	if cfg.Output == nil {
		cfg.Output = os.Stderr
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	cfg.Output = &checksumNoise{w: &lockedWriter{w: cfg.Output}, log: log}
	var awsCfg aws.Config
	if cfg.AWS != nil {
		awsCfg = *cfg.AWS
	} else {
		var err error
		if awsCfg, err = config.LoadDefaultConfig(ctx); err != nil {
			return nil, fmt.Errorf("local: load AWS config: %w", err)
		}
		sdkfix.Apply(&awsCfg)
	}
	QuietCancelled(&awsCfg)
	t, err := template.Load(cfg.Template)
	if err != nil {
		return nil, err
	}
	r, err := template.NewResolver(t, template.Pseudo{Region: awsCfg.Region, StackName: cfg.StackName}, cfg.Params)
	if err != nil {
		return nil, err
	}
	res, err := provision.New(awsCfg).Provision(ctx, t, r)
	if err != nil {
		return nil, err
	}
	for _, rs := range res.Resources {
		log.Debug("provisioned", "resource", rs.LogicalID, "type", rs.Type, "name", rs.Name, "action", rs.Action)
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Stack{
		cfg: cfg, log: log, aws: awsCfg, sqs: sqs.NewFromConfig(awsCfg), tmpl: t, res: res,
		funcs: map[string]*function{}, rules: map[string]provision.Rule{}, queueURL: map[string]string{},
		cancel: cancel,
	}
	for _, rs := range res.Resources {
		if rs.Type == template.TypeSQSQueue {
			s.queueURL[rs.Physical.Attrs["Arn"]] = rs.Physical.Ref
		}
	}
	for _, rule := range res.Rules {
		s.rules[rule.LogicalID] = rule
	}
	if err := s.startFunctions(ctx, filepath.Dir(cfg.Template)); err != nil {
		_ = s.Stop()
		return nil, err
	}
	if !cfg.NoMappings {
		if err := s.startMappings(runCtx); err != nil {
			_ = s.Stop()
			return nil, err
		}
	}
	if !cfg.NoSchedules {
		if err := s.startSchedules(runCtx); err != nil {
			_ = s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// Resolve returns a resource's physical id, what !Ref gives: a queue's URL,
// a table's or a function's name.
func (s *Stack) Resolve(logicalID string) (string, error) {
	p, ok := s.res.Resolver.Physical(logicalID)
	if !ok {
		return "", fmt.Errorf("local: %s is not a resource latch created or runs", logicalID)
	}
	return p.Ref, nil
}

// Provisioned is what provisioning did, for a report to the user.
func (s *Stack) Provisioned() *provision.Result { return s.res }

// Functions returns the logical ids of the running functions, sorted.
func (s *Stack) Functions() []string {
	ids := make([]string, 0, len(s.funcs))
	for id := range s.funcs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Stop ends the pollers and schedule timers, waits for them, then stops
// every function process. It is idempotent and returns the errors of the
// functions' Stop, joined.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		s.stoppedAt = time.Now()
		s.cancel()
		s.wg.Wait()
		var errs []error
		for _, f := range s.funcs {
			if f.proc == nil {
				// Start failed before this function was built: every
				// function is named first, then each built in turn.
				continue
			}
			if err := f.proc.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("stop %s: %w", f.id, err))
			}
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// lockedWriter serialises writes of several functions' output.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
