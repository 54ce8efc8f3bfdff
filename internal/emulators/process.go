package emulators

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is a process the stack started, or a child one of them started,
// recorded so that Down can stop exactly it.
type Proc struct {
	// Name says what it is: "dynamodb", "moto", "localstack", or
	// "localstack child".
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// Start is the process's start time in clock ticks since boot (field 22
	// of /proc/PID/stat): a pid reused after the process ended has another,
	// so a stale record never signals a stranger. Zero where there is no
	// /proc; then only the pid's existence is checked.
	Start uint64 `json:"start,omitempty"`
	// Group says PID leads a process group of its own (it was started with
	// Setpgid), so the whole group is signalled.
	Group bool `json:"group,omitempty"`
}

// startProc starts cmd in a process group of its own, its output written
// to logPath, and returns its record. The group lets Down stop whatever the
// emulator forks, still only what this stack started.
func startProc(name string, cmd *exec.Cmd, logPath string) (Proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return Proc{}, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr, cmd.Stdin = logf, logf, nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return Proc{}, fmt.Errorf("emulators: start %s: %w", name, err)
	}
	p := Proc{Name: name, PID: cmd.Process.Pid, Group: true}
	p.Start, _ = procStart(p.PID)
	// The emulator outlives this process (latch emulators up returns while
	// it runs): release it rather than wait, and let init reap it.
	_ = cmd.Process.Release()
	return p, nil
}

// procStart reads a process's start time from /proc.
func procStart(pid int) (uint64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	f, err := statFields(b)
	if err != nil {
		return 0, err
	}
	// Fields after the command name start at field 3 (state).
	return strconv.ParseUint(f[22-3], 10, 64)
}

// statFields returns the fields of /proc/PID/stat after "(comm)", which
// may itself hold spaces and parentheses.
func statFields(b []byte) ([]string, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return nil, errors.New("short /proc stat")
	}
	return f, nil
}

// alive reports whether the recorded process still runs: the pid exists,
// is not a zombie, and (where /proc tells) started when the record says.
func (p Proc) alive() bool {
	if p.PID <= 0 {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.PID), "stat"))
	if err != nil {
		if _, statErr := os.Stat("/proc/self/stat"); statErr == nil {
			return false // /proc works and has no such pid
		}
		return syscall.Kill(p.PID, 0) == nil
	}
	f, err := statFields(b)
	if err != nil || f[0] == "Z" {
		return false
	}
	if p.Start == 0 {
		return true
	}
	start, err := strconv.ParseUint(f[22-3], 10, 64)
	return err == nil && start == p.Start
}

// descendants returns every process below pid (children, theirs, ...)
// with their start times, from /proc. LocalStack starts DynamoDB Local in
// a session of its own, out of its process group: these records are how
// Down finds it.
func descendants(pid int) []Proc {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]Proc{}
	for _, e := range ents {
		cpid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		f, err := statFields(b)
		if err != nil {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		start, _ := strconv.ParseUint(f[22-3], 10, 64)
		children[ppid] = append(children[ppid], Proc{PID: cpid, Start: start})
	}
	var out []Proc
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c.PID)
		}
	}
	return out
}

// signal sends sig to the process, or to its group if it leads one; it
// checks identity first, so a record whose pid now names another process
// is left alone.
func (p Proc) signal(sig syscall.Signal) {
	if !p.alive() {
		return
	}
	if p.Group {
		if err := syscall.Kill(-p.PID, sig); err == nil {
			return
		}
	}
	_ = syscall.Kill(p.PID, sig)
}

// stopProcs asks every live recorded process to end (SIGTERM), gives them
// grace to shut down, then kills (SIGKILL) whatever is left. It returns the
// records of processes that still run after that, for the error. While it
// waits it looks again for children of the processes still running: one
// stopped in the middle of its start-up may spawn one after the first look,
// and once the parent is gone that child could no longer be found.
func stopProcs(procs []Proc, grace time.Duration) []Proc {
	known := map[int]bool{}
	for _, p := range procs {
		known[p.PID] = true
	}
	adopt := func() {
		for _, p := range procs {
			if !p.alive() {
				continue
			}
			for _, d := range descendants(p.PID) {
				if !known[d.PID] {
					known[d.PID] = true
					d.Name = p.Name + " child"
					procs = append(procs, d)
					d.signal(syscall.SIGTERM)
				}
			}
		}
	}
	adopt()
	for _, p := range procs {
		p.signal(syscall.SIGTERM)
	}
	current := func() []Proc { return procs }
	waitGone(current, grace, adopt)
	adopt()
	for _, p := range procs {
		p.signal(syscall.SIGKILL)
	}
	waitGone(current, 5*time.Second, func() {})
	var left []Proc
	for _, p := range procs {
		if p.alive() {
			left = append(left, p)
		}
	}
	return left
}

// waitGone polls until none of procs() is alive or d has passed, calling
// each on every round (which may add to procs).
func waitGone(procs func() []Proc, d time.Duration, each func()) {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		each()
		if !anyAlive(procs()) {
			return
		}
		<-tick.C
	}
}

func anyAlive(procs []Proc) bool {
	for _, p := range procs {
		if p.alive() {
			return true
		}
	}
	return false
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes,
// 0 where /proc does not tell.
func peakRSS(pid int) uint64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}
