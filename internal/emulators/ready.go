package emulators

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// freePort asks the kernel for an unused loopback port. Another process
// could take it before the emulator binds it; the emulator then fails to
// start and Up says so, which is rare enough not to retry.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls until ready returns true, p exits, or timeout passes;
// the error carries the tail of the log.
func waitReady(ctx context.Context, name string, p Proc, logPath string, timeout time.Duration, ready func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if ready() {
			return nil
		}
		if !p.alive() {
			return fmt.Errorf("emulators: %s exited during start-up (log %s):\n%s", name, logPath, logTail(logPath))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("emulators: %s not ready within %s (log %s):\n%s", name, timeout, logPath, logTail(logPath))
		case <-tick.C:
		}
	}
}

// answersHTTP reports whether url gives any HTTP answer: the server is
// listening and routing requests.
func answersHTTP(url string) func() bool { return answers(url, func(int) bool { return true }) }

// answersOK reports whether url answers 200 OK: MiniStack's ready
// endpoint says 503 until its start-up scripts and listeners are done.
func answersOK(url string) func() bool {
	return answers(url, func(code int) bool { return code == http.StatusOK })
}

func answers(url string, ok func(status int) bool) func() bool {
	client := &http.Client{Timeout: 2 * time.Second}
	return func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return ok(resp.StatusCode)
	}
}

// logHasLine reports whether the log holds a line equal to line.
func logHasLine(logPath, line string) func() bool {
	return func() bool {
		b, err := os.ReadFile(logPath)
		if err != nil {
			return false
		}
		for _, l := range bytes.Split(b, []byte("\n")) {
			if strings.TrimSpace(string(l)) == line {
				return true
			}
		}
		return false
	}
}

// logTail returns the last lines of a log for an error message.
func logTail(logPath string) string {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

func loopbackURL(port int) string { return fmt.Sprintf("http://127.0.0.1:%d", port) }

// commonEnv is what every backend sets besides its endpoints: a region
// and dummy credentials, so that the SDK never looks for real ones.
func commonEnv(b Backend) []Var {
	return []Var{
		{"AWS_REGION", "us-east-1"},
		{"AWS_DEFAULT_REGION", "us-east-1"},
		{"AWS_ACCESS_KEY_ID", "test"},
		{"AWS_SECRET_ACCESS_KEY", "test"},
		{"AWS_SESSION_TOKEN", ""},
		{"AWS_EC2_METADATA_DISABLED", "true"},
		{"LATCH_BACKEND", string(b)},
	}
}
