package emulators

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// okMarker is the file an install writes last: a directory without it is a
// broken or interrupted install and is built again.
const okMarker = ".ok"

// installOnce makes sure <cache>/<name> is installed: under the cache's lock
// for name, it returns at once if the directory is complete, else removes
// what is there, runs build on the empty directory and marks it complete.
// Installs build in place (a Python venv cannot be moved), so the marker,
// not the directory, says an install is whole.
func installOnce(ctx context.Context, c Config, name, what string, build func(ctx context.Context, dir string) error) (string, error) {
	dir := filepath.Join(c.CacheDir, name)
	if _, err := os.Stat(filepath.Join(dir, okMarker)); err == nil {
		return dir, nil
	}
	unlock, err := lockFile(filepath.Join(c.CacheDir, "."+name+".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	// Another process may have finished it while this one waited.
	if _, err := os.Stat(filepath.Join(dir, okMarker)); err == nil {
		return dir, nil
	}
	c.logf("installing %s into %s", what, dir)
	start := time.Now()
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := build(ctx, dir); err != nil {
		return "", fmt.Errorf("emulators: install %s: %w", what, err)
	}
	if err := os.WriteFile(filepath.Join(dir, okMarker), nil, 0o644); err != nil {
		return "", err
	}
	c.logf("installed %s in %s", what, time.Since(start).Round(100*time.Millisecond))
	return dir, nil
}

// run runs a tool of an install; its output is kept for the error only.
func run(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		tail := strings.TrimSpace(string(out))
		if len(tail) > 4000 {
			tail = "..." + tail[len(tail)-4000:]
		}
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail)
	}
	return nil
}

// needTool returns the path of a program on PATH, or an error saying what
// to install and why.
func needTool(name, why string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("emulators: %s (no %q on PATH)", why, name)
		}
		return "", err
	}
	return p, nil
}
