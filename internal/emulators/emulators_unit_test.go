package emulators

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseBackend(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     Backend
		err      bool
	}{
		{name: "empty is default", in: "", want: Default},
		{name: "default", in: "default", want: Default},
		{name: "localstack", in: "localstack", want: LocalStack},
		{name: "unknown", in: "docker", err: true},
		{name: "case matters", in: "LocalStack", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseBackend(tc.in)
			if tc.err {
				if !errors.Is(err, ErrUnknownBackend) {
					t.Fatalf("err = %v, want ErrUnknownBackend", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseBackend(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestStateDirPerProject(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	a, b := filepath.Join(root, "a", "app"), filepath.Join(root, "b", "app")
	for _, d := range []string{filepath.Join(a, "sub"), b} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{a, b} {
		if err := os.WriteFile(filepath.Join(d, "go.mod"), []byte("module x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := ProjectDir(filepath.Join(a, "sub")); got != a {
		t.Errorf("ProjectDir(a/sub) = %s, want %s", got, a)
	}
	sa, _ := StateDir("/cache", a)
	sb, _ := StateDir("/cache", b)
	if sa == sb {
		t.Errorf("two projects named app share the state directory %s", sa)
	}
	if !strings.HasPrefix(filepath.Base(sa), "app-") || filepath.Dir(sa) != "/cache/run" {
		t.Errorf("StateDir = %s, want /cache/run/app-<hash>", sa)
	}
}

func TestVersionLess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"3.9.18", "3.12.1", true},
		{"3.12.1", "3.9.18", false},
		{"3.12.1", "3.12.10", true},
		{"3.13.0", "3.13.0", false},
		{"3.12", "3.12.1", true},
	} {
		if got := versionLess(tc.a, tc.b); got != tc.want {
			t.Errorf("versionLess(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestShell(t *testing.T) {
	t.Parallel()
	st := &State{Env: []Var{{"A", "http://127.0.0.1:1"}, {"B", ""}, {"C", "it's"}}}
	want := "export A='http://127.0.0.1:1'\nexport B=''\nexport C='it'\\''s'\n"
	if diff := cmp.Diff(want, st.Shell()); diff != "" {
		t.Errorf("Shell (-want +got):\n%s", diff)
	}
	out, err := exec.Command("sh", "-c", st.Shell()+`printf '%s|%s|%s' "$A" "$B" "$C"`).Output()
	if err != nil || string(out) != "http://127.0.0.1:1||it's" {
		t.Errorf("the exports evaluate to %q, %v", out, err)
	}
}

// The java shim turns LocalStack's command line for DynamoDB Local into one
// through the loopback launcher, keeping every other argument.
func TestJavaShim(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake java")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nfor a do printf '%s\\n' \"$a\"; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	shim := filepath.Join(dir, "java")
	if err := os.WriteFile(shim, []byte(strings.ReplaceAll(javaShim, "@JAVA@", fake)), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(shim, "-Xmx256m", "-javaagent:/x/agent.jar", "-Djava.library.path=/d/lib", "-jar", "/d/DynamoDBLocal.jar", "-port", "1234", "-inMemory").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-Xmx256m", "-Djava.library.path=/d/lib", "-cp", "/d/DynamoDBLocal.jar:/d/DynamoDBLocal_lib/*:/d/launcher", "BindLoopback", "-port", "1234", "-inMemory"}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(string(out)), "\n")); diff != "" {
		t.Errorf("java arguments (-want +got):\n%s", diff)
	}
}

func TestProcAlive(t *testing.T) {
	t.Parallel()
	self := Proc{PID: os.Getpid()}
	var err error
	if self.Start, err = procStart(self.PID); err != nil {
		t.Fatal("no /proc:", err)
	}
	if !self.alive() {
		t.Error("this process is not alive by its own record")
	}
	reused := self
	reused.Start++
	if reused.alive() {
		t.Error("a record with another start time matches this process; a reused pid would be signalled")
	}
}

// A child that an emulator starts in a session of its own while it is being
// stopped (LocalStack's DynamoDB Local, mid start-up) is found and stopped
// too; an unrelated process is left alone.
func TestStopProcsFindsLateChildren(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	// The parent ignores SIGTERM, as a busy emulator may for a while, and
	// starts its child only after stopProcs has first looked.
	script := `trap "" TERM; sleep 0.3; setsid sh -c 'echo $$ > ` + pidFile + `; exec sleep 300' & sleep 300`
	p, err := startProc("parent", exec.Command("sh", "-c", script), filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	stranger := exec.Command("sleep", "300")
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stranger.Process.Kill(); _ = stranger.Wait() }()

	if left := stopProcs([]Proc{p}, 2*time.Second); len(left) > 0 {
		t.Fatalf("still running: %+v", left)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the child never started: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	child := Proc{PID: pid}
	if child.alive() {
		t.Errorf("the parent's child (pid %d, own session) survived", pid)
	}
	if !(Proc{PID: stranger.Process.Pid}).alive() {
		t.Error("an unrelated process was stopped")
	}
}
