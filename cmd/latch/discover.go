package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/latchkit/latch/internal/emulators"
)

// Every command that reaches the local stack finds it by one rule:
//
//  1. the running `latch local` of this project (the directory holding
//     go.mod or .git above the working directory): its endpoints, its
//     resource names, and for `latch local fire` its running functions;
//  2. else the project's emulator stack ('latch emulators up');
//  3. else a refusal that says what to start.
//
// Endpoint variables in the environment (eval "$(latch emulators env)",
// latch emulators exec) pick the stack first: a running `latch local` on
// another stack is then not this command's. --aws skips the rule.

// session is the record a running `latch local` keeps in the project's
// run-state directory while it runs.
type session struct {
	PID int `json:"pid"`
	// Template is the template's absolute path, Prefix its AWS::StackName.
	Template string `json:"template"`
	Prefix   string `json:"prefix"`
	// Control is the loopback host:port where it takes fire requests.
	Control string `json:"control"`
	// Env is the SDK environment it runs against: endpoints, region,
	// credentials, LATCH_BACKEND.
	Env []emulators.Var `json:"env"`
	// Queues maps the template's queue logical ids to their names.
	Queues  map[string]string `json:"queues"`
	Started time.Time         `json:"started"`
}

// sessionsDir is where the project of the working directory keeps its
// sessions: beside its emulators' run state.
func sessionsDir() (string, error) {
	cache, err := emulators.CacheDir()
	if err != nil {
		return "", err
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	dir, err := emulators.StateDir(cache, emulators.ProjectDir(wd))
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "local"), nil
}

// recordSession writes s (atomically) and returns the function that
// removes it again.
func recordSession(s session) (remove func(), err error) {
	dir, err := sessionsDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, s.Prefix+".json")
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return func() {
		// Only its own: a later run of the same prefix may have taken
		// the name over.
		if cur, err := readSession(path); err == nil && cur.PID == s.PID {
			_ = os.Remove(path)
		}
	}, nil
}

func readSession(path string) (session, error) {
	var s session
	b, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(b, &s)
}

// sessions returns the project's running sessions, by prefix. A record
// whose process is gone (killed with SIGKILL, say) is removed.
func sessions() ([]session, error) {
	dir, err := sessionsDir()
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []session
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		s, err := readSession(path)
		if err != nil {
			continue // being written, or not ours
		}
		if !processAlive(s.PID) {
			_ = os.Remove(path)
			continue
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Prefix < out[j].Prefix })
	return out, nil
}

func processAlive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// endpoints are the endpoint variables of an environment, sorted: what
// says which stack it points at.
func endpoints(environ []string) []string {
	var out []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if (k == "AWS_ENDPOINT_URL" || strings.HasPrefix(k, "AWS_ENDPOINT_URL_")) && strings.TrimSpace(v) != "" {
			out = append(out, kv)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func (s session) environ() []string {
	out := make([]string, len(s.Env))
	for i, v := range s.Env {
		out[i] = v.Name + "=" + v.Value
	}
	return out
}

// sessionFilter narrows the sessions a command means: by --prefix or
// --template when given.
type sessionFilter struct {
	prefix   string
	template string // absolute
}

// findSession applies the first step of the rule: the running `latch
// local` of this project that the command means, or nil. With endpoint
// variables set, only a session on those endpoints counts. Several that
// fit are a usage error naming them.
func findSession(env *Env, f sessionFilter) (*session, error) {
	all, err := sessions()
	if err != nil {
		return nil, err
	}
	want := endpoints(env.environ())
	var fit []session
	for _, s := range all {
		switch {
		case f.prefix != "" && s.Prefix != f.prefix:
		case f.template != "" && s.Template != f.template:
		case len(want) > 0 && !slices.Equal(want, endpoints(s.environ())):
		default:
			fit = append(fit, s)
		}
	}
	switch len(fit) {
	case 0:
		return nil, nil
	case 1:
		return &fit[0], nil
	}
	var names []string
	for _, s := range fit {
		names = append(names, fmt.Sprintf("%s (%s, pid %d)", s.Prefix, s.Template, s.PID))
	}
	return nil, usagef("%d latch local runs in this project: %s; say which with --prefix", len(fit), strings.Join(names, ", "))
}

// discover applies the rule for a command that calls AWS: it returns the
// running `latch local` it found (nil if none) after pointing the SDK at
// the stack it chose, or ErrNoEndpoint.
func discover(env *Env, allowAWS bool, f sessionFilter) (*session, error) {
	if allowAWS {
		return nil, nil
	}
	s, err := findSession(env, f)
	if err != nil {
		return nil, err
	}
	switch {
	case s != nil:
		if !hasEndpoint(env.environ()) {
			if err := setEnv(env, s.Env); err != nil {
				return nil, err
			}
		}
		return s, nil
	case hasEndpoint(env.environ()):
		return nil, nil
	}
	st, err := emulators.Status(emulators.Config{})
	if err != nil {
		return nil, fmt.Errorf("%w\n(this project's emulator stack: %v)", ErrNoEndpoint, err)
	}
	return nil, setEnv(env, st.Env)
}

// setEnv puts vars into the process environment, which the SDK reads, and
// into env's own environment when a test gave it one.
func setEnv(env *Env, vars []emulators.Var) error {
	kv := make([]string, 0, len(vars))
	for _, v := range vars {
		if err := os.Setenv(v.Name, v.Value); err != nil {
			return err
		}
		kv = append(kv, v.Name+"="+v.Value)
	}
	if prev := env.Environ; prev != nil {
		env.Environ = func() []string { return append(prev(), kv...) }
	}
	return nil
}

// sdkVars are the variables a session records besides the endpoints.
var sdkVars = []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "LATCH_BACKEND"}

// sdkEnv is what of environ a session records.
func sdkEnv(environ []string) []emulators.Var {
	var out []emulators.Var
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if k == "AWS_ENDPOINT_URL" || strings.HasPrefix(k, "AWS_ENDPOINT_URL_") || slices.Contains(sdkVars, k) {
			out = append(out, emulators.Var{Name: k, Value: v})
		}
	}
	return out
}

// queue resolves a queue a command names by the logical id of the
// running template ("OrdersQueue") to its name; ok is false for anything
// else, which is then a name, URL or ARN.
func (s *session) queue(name string) (string, bool) {
	if s == nil {
		return "", false
	}
	q, ok := s.Queues[name]
	return q, ok
}
