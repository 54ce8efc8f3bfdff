package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/latchkit/latch/internal/lambdaproc"
	"github.com/latchkit/latch/internal/template"
)

// DefaultMappingConcurrency is the number of concurrent pollers and
// invocations of an SQS event source without ScalingConfig. Lambda starts
// with five pollers and scales up to a thousand; two (Lambda's smallest
// MaximumConcurrency) is what a shared laptop can run.
const DefaultMappingConcurrency = 2

// DefaultMaxRetryAttempts is Lambda's number of async retries when a
// function has no EventInvokeConfig.
const DefaultMaxRetryAttempts = 2

// DefaultPerEnvironment is the invocations per process of a function on a
// capacity provider whose CapacityProviderConfig does not state
// PerExecutionEnvironmentMaxConcurrency. Lambda picks a number from the
// instance's vCPUs then; locally a fixed number keeps runs repeatable.
const DefaultPerEnvironment = 8

// function is one running function of the template.
type function struct {
	id   string // logical id
	name string // physical name: AWS_LAMBDA_FUNCTION_NAME
	arn  string
	proc *lambdaproc.Function
	// mappings are its SQS event sources.
	mappings []mapping
	// maxRetries and onFailure are its async invocation settings
	// (EventInvokeConfig): retries after a function error, and the queue
	// URL of the OnFailure destination ("" for none).
	maxRetries int
	onFailure  string
}

// mapping is one SQS event source of a function.
type mapping struct {
	event             string
	queueARN          string
	batchSize         int
	window            time.Duration
	reportItemFailure bool
	concurrency       int
}

// startFunctions names every function in the resolver (so that Ref and
// GetAtt on them resolve), then builds each and creates its process pool.
func (s *Stack) startFunctions(ctx context.Context, dir string) error {
	r := s.res.Resolver
	p := r.Pseudo()
	if err := s.nameLogGroups(); err != nil {
		return err
	}
	fns := s.tmpl.ResourcesOfType(template.TypeServerlessFunction)
	if other := s.tmpl.ResourcesOfType(template.TypeLambdaFunction); len(other) > 0 {
		return fmt.Errorf("local: %s is an %s; latch local runs %s only", other[0].LogicalID, template.TypeLambdaFunction, template.TypeServerlessFunction)
	}
	var enabled []*template.Resource
	for _, fn := range fns {
		on, err := r.Enabled(fn)
		if err != nil {
			return err
		}
		if !on {
			continue
		}
		enabled = append(enabled, fn)
		name := s.cfg.StackName
		if name == "" {
			name = p.StackName
		}
		name += "-" + fn.LogicalID
		if v, ok := fn.Properties["FunctionName"]; ok {
			if name, err = r.ResolveString("Resources."+fn.LogicalID+".Properties.FunctionName", v); err != nil {
				return err
			}
		}
		arn := fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", p.Partition, p.Region, p.AccountID, name)
		r.Set(fn.LogicalID, template.Physical{Ref: name, Attrs: map[string]string{"Arn": arn}})
		s.funcs[fn.LogicalID] = &function{id: fn.LogicalID, name: name, arn: arn}
	}
	for _, fn := range enabled {
		if err := s.startFunction(ctx, dir, fn, s.funcs[fn.LogicalID]); err != nil {
			return fmt.Errorf("local: function %s: %w", fn.LogicalID, err)
		}
	}
	return nil
}

// nameLogGroups records the physical names of the template's log groups,
// which provisioning skips, so that a function's LoggingConfig resolves.
func (s *Stack) nameLogGroups() error {
	r := s.res.Resolver
	p := r.Pseudo()
	for _, lg := range s.tmpl.ResourcesOfType("AWS::Logs::LogGroup") {
		v, ok := lg.Properties["LogGroupName"]
		if !ok {
			continue // only a function's own default group then
		}
		name, err := r.ResolveString("Resources."+lg.LogicalID+".Properties.LogGroupName", v)
		if err != nil {
			return err
		}
		r.Set(lg.LogicalID, template.Physical{Ref: name, Attrs: map[string]string{
			"Arn": fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:*", p.Partition, p.Region, p.AccountID, name),
		}})
	}
	return nil
}

func (s *Stack) startFunction(ctx context.Context, dir string, res *template.Resource, f *function) error {
	r := s.res.Resolver
	path := "Resources." + res.LogicalID + ".Properties"
	props := res.Properties

	codeURI, ok := template.AsString(props["CodeUri"])
	if !ok {
		return fmt.Errorf("%s.CodeUri must be a local directory (got %v)", path, props["CodeUri"])
	}
	codeDir := codeDirOf(dir, codeURI)

	env := map[string]string{}
	if v, ok := res.Property("Environment", "Variables"); ok {
		resolved, err := r.Resolve(path+".Environment.Variables", v)
		if err != nil {
			return err
		}
		m, _ := template.AsMap(resolved)
		for k, v := range m {
			sv, ok := template.AsString(v)
			if !ok {
				return fmt.Errorf("%s.Environment.Variables.%s is not a string", path, k)
			}
			env[k] = sv
		}
	}
	for k, v := range s.cfg.EnvOverrides[res.LogicalID] {
		env[k] = v
	}
	passThrough(env)

	timeout := 3 * time.Second
	if v, ok := props["Timeout"]; ok {
		rv, err := r.Resolve(path+".Timeout", v)
		if err != nil {
			return err
		}
		n, ok := template.AsInt(rv)
		if !ok || n <= 0 {
			return fmt.Errorf("%s.Timeout must be a positive number of seconds", path)
		}
		timeout = time.Duration(n) * time.Second
	}
	memory := 0
	if v, ok := props["MemorySize"]; ok {
		rv, err := r.Resolve(path+".MemorySize", v)
		if err != nil {
			return err
		}
		memory, _ = template.AsInt(rv)
	}
	logGroup := ""
	if v, ok := res.Property("LoggingConfig", "LogGroup"); ok {
		var err error
		if logGroup, err = r.ResolveString(path+".LoggingConfig.LogGroup", v); err != nil {
			return err
		}
	}

	per, onCapacity, err := s.readCapacityProvider(res)
	if err != nil {
		return err
	}
	if err := s.readEvents(res, f); err != nil {
		return err
	}
	if err := s.readInvokeConfig(res, f); err != nil {
		return err
	}

	// One environment per concurrent mapping invocation, and one more for
	// the async (schedule) invocations when the function has any.
	conc := 0
	for _, m := range f.mappings {
		conc += m.concurrency
	}
	for _, rule := range s.rules {
		for _, t := range rule.Functions {
			if t.Function == res.LogicalID {
				conc++
				break
			}
		}
	}
	conc = max(conc, 1)
	// On a capacity provider one process takes several of them.
	envs := (conc + per - 1) / per

	s.log.Info("building function", "function", res.LogicalID, "code", codeDir)
	bin, err := lambdaproc.Build(ctx, lambdaproc.BuildConfig{Package: ".", Dir: codeDir, Name: res.LogicalID, CacheDir: s.cfg.BuildCacheDir})
	if err != nil {
		return err
	}
	f.proc, err = lambdaproc.New(lambdaproc.Config{
		// The code directory is the task root, as /var/task holds the
		// deployment package in Lambda: a relative path in a template
		// variable is read from there, not from wherever latch runs.
		Name: f.name, Binary: bin, TaskRoot: codeDir, Env: env, CleanEnv: true, Timeout: timeout, MemorySize: memory,
		Region: r.Pseudo().Region, LogGroup: logGroup, MaxConcurrency: envs, Output: s.cfg.Output,
		Logger: s.log, PerEnvironment: per, KeepOverrun: onCapacity && !s.cfg.KillOverrun,
	})
	return err
}

// readCapacityProvider reads how many invocations one process of the
// function serves at once: Config.PerEnvironment when set, else SAM's
// CapacityProviderConfig.PerExecutionEnvironmentMaxConcurrency (or
// DefaultPerEnvironment without it), else one. onCapacity says whether the
// function runs as on Lambda Managed Instances. The provider's Arn is not
// resolved: the capacity provider is not made locally.
func (s *Stack) readCapacityProvider(res *template.Resource) (per int, onCapacity bool, err error) {
	if s.cfg.PerEnvironment > 0 {
		return s.cfg.PerEnvironment, true, nil
	}
	if _, ok := res.Properties["CapacityProviderConfig"]; !ok {
		return 1, false, nil
	}
	path := "Resources." + res.LogicalID + ".Properties.CapacityProviderConfig.PerExecutionEnvironmentMaxConcurrency"
	v, ok := res.Property("CapacityProviderConfig", "PerExecutionEnvironmentMaxConcurrency")
	if !ok {
		return DefaultPerEnvironment, true, nil
	}
	rv, err := s.res.Resolver.Resolve(path, v)
	if err != nil {
		return 0, false, err
	}
	// Lambda's range for the setting.
	if per, ok = template.AsInt(rv); !ok || per < 1 || per > 1600 {
		return 0, false, fmt.Errorf("%s must be a number from 1 to 1600 (got %v)", path, rv)
	}
	return per, true, nil
}

// passThrough gives a function the runner's AWS_* variables that are not
// Lambda's own — the emulator endpoints (AWS_ENDPOINT_URL_*) and the local
// stack's dummy credentials, standing in for the execution role — unless
// the template sets them.
func passThrough(env map[string]string) {
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "AWS_LAMBDA_") {
			continue
		}
		switch k {
		case "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV":
			continue // Lambda sets these itself
		}
		if _, set := env[k]; !set {
			env[k] = v
		}
	}
}

// readEvents reads the function's SQS event sources. Schedule and
// EventBridgeRule events are rules that provisioning created and lists in
// its Result; other event types are an error, never ignored.
func (s *Stack) readEvents(res *template.Resource, f *function) error {
	events, err := res.Events()
	if err != nil {
		return err
	}
	for _, ev := range events {
		path := "Resources." + res.LogicalID + ".Properties.Events." + ev.Name + ".Properties"
		switch ev.Type {
		case "Schedule", "EventBridgeRule", "CloudWatchEvent":
			// ScheduleV2 (EventBridge Scheduler) is not here: provisioning
			// makes no rule of it, so it would never fire.
			continue
		case "SQS":
		default:
			return fmt.Errorf("%s: event type %s is not run locally", path, ev.Type)
		}
		resolved, err := s.res.Resolver.Resolve(path, ev.Properties)
		if err != nil {
			return err
		}
		props, _ := template.AsMap(resolved)
		if err := knownSQSProperties(path, props); err != nil {
			return err
		}
		m := mapping{event: ev.Name, batchSize: 10, concurrency: DefaultMappingConcurrency}
		var ok bool
		if m.queueARN, ok = template.AsString(props["Queue"]); !ok {
			return fmt.Errorf("%s.Queue must resolve to a queue ARN", path)
		}
		if v, set := props["BatchSize"]; set {
			if m.batchSize, ok = template.AsInt(v); !ok || m.batchSize < 1 {
				return fmt.Errorf("%s.BatchSize must be a positive number", path)
			}
		}
		if v, set := props["MaximumBatchingWindowInSeconds"]; set {
			n, ok := template.AsInt(v)
			if !ok || n < 0 {
				return fmt.Errorf("%s.MaximumBatchingWindowInSeconds must be a number of seconds", path)
			}
			m.window = time.Duration(n) * time.Second
		}
		if v, set := props["FunctionResponseTypes"]; set {
			list, _ := template.AsList(v)
			for _, t := range list {
				// A misspelt type would otherwise turn partial batch
				// responses off without a word.
				if ts, _ := template.AsString(t); ts != "ReportBatchItemFailures" {
					return fmt.Errorf("%s.FunctionResponseTypes: %v is not ReportBatchItemFailures", path, t)
				}
				m.reportItemFailure = true
			}
		}
		if v, set := props["ScalingConfig"]; set {
			sc, _ := template.AsMap(v)
			if mc, set := sc["MaximumConcurrency"]; set {
				if m.concurrency, ok = template.AsInt(mc); !ok || m.concurrency < 1 {
					return fmt.Errorf("%s.ScalingConfig.MaximumConcurrency must be a positive number", path)
				}
			}
		}
		if on, set := props["Enabled"]; set {
			if b, ok := template.AsBool(on); ok && !b {
				continue
			}
		}
		f.mappings = append(f.mappings, m)
	}
	return nil
}

// knownSQSProperties fails on an SQS event property the local mapping does
// not apply, such as FilterCriteria: running the function on every message
// while Lambda would filter some out must not pass unnoticed.
func knownSQSProperties(path string, props map[string]any) error {
	var unknown []string
	for k := range props {
		switch k {
		case "Queue", "BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes",
			"ScalingConfig", "Enabled", "MetricsConfig":
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("%s.%s is not supported by latch local", path, unknown[0])
}

// readInvokeConfig reads EventInvokeConfig: the async retries and the
// OnFailure destination, which must be a queue of the template.
func (s *Stack) readInvokeConfig(res *template.Resource, f *function) error {
	f.maxRetries = DefaultMaxRetryAttempts
	v, ok := res.Properties["EventInvokeConfig"]
	if !ok {
		return nil
	}
	path := "Resources." + res.LogicalID + ".Properties.EventInvokeConfig"
	resolved, err := s.res.Resolver.Resolve(path, v)
	if err != nil {
		return err
	}
	cfg, _ := template.AsMap(resolved)
	if n, set := cfg["MaximumRetryAttempts"]; set {
		if f.maxRetries, ok = template.AsInt(n); !ok || f.maxRetries < 0 || f.maxRetries > 2 {
			return fmt.Errorf("%s.MaximumRetryAttempts must be 0, 1 or 2", path)
		}
	}
	dc, _ := template.AsMap(cfg["DestinationConfig"])
	if of, set := dc["OnFailure"]; set {
		m, _ := template.AsMap(of)
		typ, _ := template.AsString(m["Type"])
		dest, _ := template.AsString(m["Destination"])
		if typ != "SQS" {
			return fmt.Errorf("%s.DestinationConfig.OnFailure.Type %q is not supported locally (only SQS)", path, typ)
		}
		url, ok := s.queueURL[dest]
		if !ok {
			return fmt.Errorf("%s.DestinationConfig.OnFailure.Destination %s is not a queue of the template", path, dest)
		}
		f.onFailure = url
	}
	return nil
}

// codeDirOf is the directory of a function's code: CodeUri relative to
// the template's directory, as SAM reads it, or as written when absolute.
func codeDirOf(templateDir, codeURI string) string {
	if filepath.IsAbs(codeURI) {
		return filepath.Clean(codeURI)
	}
	return filepath.Join(templateDir, codeURI)
}
