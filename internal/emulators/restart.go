package emulators

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// ErrNoRestart is returned by Restart for an emulator that would come back
// without its data: moto keeps everything in memory, and so does DynamoDB
// Local unless Config.DynamoDBDir is set.
var ErrNoRestart = errors.New("emulators: cannot restart this emulator with its data")

// Kill sends SIGKILL to the running stack's emulator called name ("dynamodb",
// "moto", "localstack": Proc.Name) and its process group, and waits until it
// is gone: a crash, for fault-injection runs. The record keeps it, so Status
// reports the stack stopped until Restart brings it back.
func Kill(cfg Config, name string) error {
	c, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	st, err := readState(c.StateDir)
	if err != nil {
		return err
	}
	p, err := st.proc(name)
	if err != nil {
		return err
	}
	p.signal(syscall.SIGKILL)
	waitGone(func() []Proc { return []Proc{p} }, 10*time.Second, func() {})
	if p.alive() {
		return fmt.Errorf("emulators: %s (pid %d) still runs after SIGKILL", name, p.PID)
	}
	return nil
}

// Restart starts the stack's emulator called name again, on the port it
// had, so that clients keep their endpoints; waits until it answers; and
// updates the record. An emulator still running is killed first. Only the
// default backend's DynamoDB Local started with Config.DynamoDBDir can come
// back with its data; anything else is ErrNoRestart. cfg must be the
// Config that Up was given.
func Restart(ctx context.Context, cfg Config, name string) error {
	c, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if c.Backend != Default || name != "dynamodb" || c.DynamoDBDir == "" {
		return fmt.Errorf("%w: %s of the %s backend (only DynamoDB Local with Config.DynamoDBDir)", ErrNoRestart, name, c.Backend)
	}
	unlock, err := lockFile(filepath.Join(c.StateDir, "state.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	st, err := readState(c.StateDir)
	if err != nil {
		return err
	}
	old, err := st.proc(name)
	if err != nil {
		return err
	}
	endpoint, _ := st.Lookup("AWS_ENDPOINT_URL_DYNAMODB")
	u, err := url.Parse(endpoint)
	if err != nil || u.Port() == "" {
		return fmt.Errorf("emulators: no DynamoDB endpoint with a port in the record (%q)", endpoint)
	}
	port, _ := strconv.Atoi(u.Port())
	if left := stopProcs([]Proc{old}, 0); len(left) > 0 {
		return fmt.Errorf("emulators: %s (pid %d) still runs after SIGKILL", name, old.PID)
	}
	java, err := needTool("java", "Java 17+ is required for DynamoDB Local")
	if err != nil {
		return err
	}
	logPath := filepath.Join(st.Dir, "dynamodb.log")
	p, err := startProc(name, exec.Command(java, dynamoDBLocalArgs(filepath.Join(c.CacheDir, ddbDir), port, c.DynamoDBDir)...), logPath)
	if err != nil {
		return err
	}
	for i := range st.Procs {
		if st.Procs[i].Name == name {
			st.Procs[i] = p
		}
	}
	if err := writeState(st); err != nil {
		return err
	}
	// The port may still be held a moment by the killed JVM's sockets; a
	// failed bind ends the process, and waitReady says so with the log.
	return waitReady(ctx, "DynamoDB Local", p, logPath, c.ReadyTimeout, answersHTTP(endpoint+"/"))
}

// proc returns the record of the emulator called name.
func (s *State) proc(name string) (Proc, error) {
	for _, p := range s.Procs {
		if p.Name == name {
			return p, nil
		}
	}
	return Proc{}, fmt.Errorf("emulators: no emulator %q in the %s stack", name, s.Backend)
}
