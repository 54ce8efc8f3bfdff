package chaos

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// functionPIDs returns the running processes of the function with the
// given logical id: children of this process (the local runner starts them
// directly) whose executable is that function's build (lambdaproc names
// its directory "<logical id>-<key>").
func functionPIDs(logicalID string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil || st.ppid != self || st.state == "Z" {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || !strings.Contains(exe, string(filepath.Separator)+logicalID+"-") {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

type procStat struct {
	state string
	ppid  int
	ticks uint64 // user + system CPU time
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return procStat{}, errors.New("short /proc stat")
	}
	ppid, _ := strconv.Atoi(f[1])
	utime, _ := strconv.ParseUint(f[11], 10, 64)
	stime, _ := strconv.ParseUint(f[12], 10, 64)
	return procStat{state: f[0], ppid: ppid, ticks: utime + stime}, nil
}

// busiest returns the pid among pids that used the most CPU over probe, a
// process most likely in the middle of a batch; -1 if none is left.
func busiest(pids []int, probe time.Duration) int {
	before := map[int]uint64{}
	for _, p := range pids {
		if st, err := readStat(p); err == nil {
			before[p] = st.ticks
		}
	}
	timer := time.NewTimer(probe)
	<-timer.C
	best, most := -1, uint64(0)
	for p, t0 := range before {
		st, err := readStat(p)
		if err != nil {
			continue
		}
		if d := st.ticks - t0; best < 0 || d > most {
			best, most = p, d
		}
	}
	return best
}

// killFunction sends SIGKILL to the busiest process of the function.
func killFunction(logicalID string) (int, error) {
	pid := busiest(functionPIDs(logicalID), 150*time.Millisecond)
	if pid < 0 {
		return 0, fmt.Errorf("chaos: no running process of %s", logicalID)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return 0, fmt.Errorf("chaos: kill %s (pid %d): %w", logicalID, pid, err)
	}
	return pid, nil
}

// lineCounter counts the writes that contain a string: the runner's log
// records, one per write, that say a batch failed because its function
// died under it.
type lineCounter struct {
	needle []byte
	n      atomic.Int64
}

func (c *lineCounter) Write(p []byte) (int, error) {
	if bytes.Contains(p, c.needle) {
		c.n.Add(1)
	}
	return len(p), nil
}
