package emulators

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// stateFile is the run state's record in the state directory.
const stateFile = "state.json"

// Var is an environment variable for the SDK and the tests.
type Var struct {
	Name, Value string
}

// State is a running stack as Up recorded it.
type State struct {
	Backend Backend `json:"backend"`
	// Deploy says the stack was started with Config.Deploy.
	Deploy bool `json:"deploy,omitempty"`
	// Dir is the state directory: the record, the emulators' logs.
	Dir string `json:"dir"`
	// Started is when Up started the emulators; Ready how long they took
	// to answer.
	Started time.Time     `json:"started"`
	Ready   time.Duration `json:"ready"`
	// Procs are the processes to stop: the emulators, then the children
	// they had started when they became ready.
	Procs []Proc `json:"procs"`
	// Env points the AWS SDK at the stack: the AWS_ENDPOINT_URL_* of each
	// service, a region, dummy credentials, and LATCH_BACKEND.
	Env []Var `json:"env"`
}

// Running reports whether every emulator of the stack still runs.
func (s *State) Running() bool {
	n := 0
	for _, p := range s.Procs {
		if !p.child() {
			if !p.alive() {
				return false
			}
			n++
		}
	}
	return n > 0
}

func (p Proc) child() bool { return strings.HasSuffix(p.Name, " child") }

// Lookup returns the value of an Env variable.
func (s *State) Lookup(name string) (string, bool) {
	for _, v := range s.Env {
		if v.Name == name {
			return v.Value, true
		}
	}
	return "", false
}

// Shell returns Env as lines of "export NAME='value'" for a POSIX shell:
// eval "$(latch emulators env)".
func (s *State) Shell() string {
	var b strings.Builder
	for _, v := range s.Env {
		fmt.Fprintf(&b, "export %s=%s\n", v.Name, shellQuote(v.Value))
	}
	return b.String()
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// readState reads the state directory's record; ErrNotRunning if there is
// none.
func readState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w (no stack recorded in %s)", ErrNotRunning, dir)
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("emulators: %s: %w", filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}

// writeState writes the record atomically: a reader sees the old or the
// new one, never half of one.
func writeState(s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.Dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(s.Dir, stateFile))
}
