package lambdaproc

import (
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"syscall"
)

// logUnexpectedExit says so when an environment's process ended without
// the runner ending it. An exit during an invocation is that invocation's
// error too; one between invocations (a process killed while idle) would
// otherwise go unnoticed, the next invocation quietly starting a new one.
func (f *Function) logUnexpectedExit(e *environment) {
	if e.ended.Load() || f.isStopped() {
		return
	}
	when := "idle"
	if e.invoking.Load() > 0 {
		when = "invoking"
	}
	attrs := []any{
		slog.String("function", f.cfg.Name), slog.Int("environment", e.id), slog.Int("pid", e.cmd.Process.Pid),
		slog.String("while", when),
	}
	var ee *exec.ExitError
	if errors.As(e.waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			attrs = append(attrs, slog.String("signal", signalName(ws.Signal())))
		} else {
			attrs = append(attrs, slog.Int("exit_code", ee.ExitCode()))
		}
	} else if e.waitErr == nil {
		attrs = append(attrs, slog.Int("exit_code", 0))
	} else {
		attrs = append(attrs, slog.Any("error", e.waitErr))
	}
	attrs = append(attrs, slog.String("restart", "a new process starts on the next invocation"))
	f.cfg.Logger.Warn("lambdaproc: function process exited unexpectedly", attrs...)
}

// signalNames are the signals a process is usually ended by, by the names
// users know them by; syscall.Signal's String is the description
// ("killed").
var signalNames = map[syscall.Signal]string{
	syscall.SIGKILL: "SIGKILL", syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT",
	syscall.SIGQUIT: "SIGQUIT", syscall.SIGABRT: "SIGABRT", syscall.SIGSEGV: "SIGSEGV",
	syscall.SIGHUP: "SIGHUP",
}

func signalName(s syscall.Signal) string {
	if n, ok := signalNames[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d (%s)", int(s), s)
}
