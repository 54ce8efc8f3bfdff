package emulators

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// backend installs and starts one set of emulators.
type backend interface {
	// install makes sure everything start needs is in the cache.
	install(ctx context.Context, c Config) error
	// start starts the emulators, appending each to st.Procs as soon as it
	// runs (so that a failure stops it), waits until they answer, and sets
	// st.Env.
	start(ctx context.Context, c Config, st *State) error
}

func backendFor(b Backend) backend {
	switch b {
	case LocalStack:
		return localStackBackend{}
	case MiniStack:
		return miniStackBackend{}
	}
	return defaultBackend{}
}

// Install installs the configured backend's emulators into the cache, if
// they are not there yet.
func Install(ctx context.Context, cfg Config) error {
	c, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.CacheDir, 0o755); err != nil {
		return err
	}
	return backendFor(c.Backend).install(ctx, c)
}

// Up installs the backend if need be, starts its emulators on free
// loopback ports, waits until they answer and records the stack in the
// state directory. A stack of the same backend that already runs there is
// returned as it is; one of the other backend is an error. If anything
// fails, whatever Up started is stopped.
func Up(ctx context.Context, cfg Config) (*State, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.StateDir, 0o755); err != nil {
		return nil, err
	}
	unlock, err := lockFile(filepath.Join(c.StateDir, "state.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if old, err := readState(c.StateDir); err == nil {
		if old.Running() {
			if old.Backend != c.Backend {
				return nil, fmt.Errorf("emulators: a %s stack already runs for this project (%s); run 'latch emulators down' first", old.Backend, c.StateDir)
			}
			if c.Deploy && !old.Deploy && c.Backend == LocalStack {
				return nil, fmt.Errorf("emulators: the %s stack of this project runs without the deploy services; run 'latch emulators down' first", old.Backend)
			}
			c.logf("%s stack already running (%s)", old.Backend, c.StateDir)
			return old, nil
		}
		// Half dead (one emulator crashed, or a reboot): clear it away.
		stop(old)
	}
	if err := Install(ctx, c); err != nil {
		return nil, err
	}
	st := &State{Backend: c.Backend, Deploy: c.Deploy && c.Backend == LocalStack, Dir: c.StateDir, Started: time.Now().UTC()}
	if err := backendFor(c.Backend).start(ctx, c, st); err != nil {
		stop(st)
		return nil, err
	}
	st.Ready = time.Since(st.Started).Round(time.Millisecond)
	// Children an emulator started in sessions of their own (LocalStack's
	// DynamoDB Local) are not in its process group: record them too.
	for _, p := range st.Procs {
		for _, d := range descendants(p.PID) {
			d.Name = p.Name + " child"
			st.Procs = append(st.Procs, d)
		}
	}
	if err := writeState(st); err != nil {
		stop(st)
		return nil, err
	}
	c.logf("%s ready in %s (state: %s)", c.Backend, st.Ready, c.StateDir)
	return st, nil
}

// Status returns the stack recorded in the state directory, or an error
// wrapping ErrNotRunning if none is, or if one of its emulators has died.
func Status(cfg Config) (*State, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	st, err := readState(c.StateDir)
	if err != nil {
		return nil, err
	}
	if !st.Running() {
		return st, fmt.Errorf("%w: the %s stack recorded in %s has stopped; run 'latch emulators down' to clear it", ErrNotRunning, st.Backend, c.StateDir)
	}
	return st, nil
}

// Down stops the stack recorded in the state directory, exactly the
// processes Up started and their children, and removes the record. It also
// stops the stacks that Exec runs left behind in the state directory when
// they were killed before they could stop them. Nothing recorded is not an
// error.
func Down(cfg Config) error {
	c, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	unlock, err := lockFile(filepath.Join(c.StateDir, "state.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	var errs []error
	st, err := readState(c.StateDir)
	switch {
	case err == nil:
		if left := stop(st); len(left) > 0 {
			errs = append(errs, fmt.Errorf("emulators: still running after SIGKILL: %v", left))
		}
		if err := os.Remove(filepath.Join(c.StateDir, stateFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		// LocalStack's filesystem root (its state, DynamoDB's files) and
		// MiniStack's scratch root (function code, data) are of no use
		// once they stopped; the logs stay for a look.
		for _, root := range []string{localStackRoot, miniStackDir} {
			if err := os.RemoveAll(filepath.Join(c.StateDir, root)); err != nil {
				errs = append(errs, err)
			}
		}
	case !errors.Is(err, ErrNotRunning):
		errs = append(errs, err)
	}
	errs = append(errs, reapExecDirs(c)...)
	return errors.Join(errs...)
}

// stop stops the stack's processes, and the children they have now, and
// returns those still alive after.
func stop(st *State) []Proc {
	return stopProcs(append([]Proc(nil), st.Procs...), 10*time.Second)
}
