package lambdaproc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// BuildConfig says which function package to compile and where to put it.
type BuildConfig struct {
	// Package is the function's main package as the go command takes it,
	// e.g. "./functions/orders". Required.
	Package string
	// Dir is where the go command runs, normally the module root; Package
	// is resolved from there. Zero: the current directory.
	Dir string
	// CacheDir is where executables go, as
	// <CacheDir>/<GOOS>_<GOARCH>/<Name>-<source key>/bootstrap, the key a
	// hash of the package's absolute location; rebuilding is cheap because
	// the go build cache does the real caching. Zero: $LATCH_CACHE/functions,
	// or <user cache dir>/latch/functions.
	CacheDir string
	// Name names the output directory. Zero: the last element of Package.
	Name string
	// GoCommand is the go tool to run. Zero: "go" from PATH.
	GoCommand string
}

// Build compiles a function for the host it runs on (not for Lambda's
// linux/arm64: the process runs here) with the lambda.norpc tag, as the
// Makefile builds it for deployment, and returns the executable's path.
// A compile error comes back with the compiler's output.
func Build(ctx context.Context, cfg BuildConfig) (string, error) {
	if cfg.Package == "" {
		return "", errors.New("lambdaproc: BuildConfig.Package is required")
	}
	if cfg.Name == "" {
		cfg.Name = path.Base(filepath.ToSlash(strings.TrimRight(cfg.Package, "/")))
	}
	if cfg.CacheDir == "" {
		// The project's cache (the Makefile sets LATCH_CACHE to a git-ignored
		// folder) first, so a checkout keeps its builds to itself; else the
		// user's cache, as go build does.
		dir := os.Getenv("LATCH_CACHE")
		if dir == "" {
			user, err := os.UserCacheDir()
			if err != nil {
				return "", fmt.Errorf("lambdaproc: no cache directory for builds: %w", err)
			}
			dir = filepath.Join(user, "latch")
		}
		cfg.CacheDir = filepath.Join(dir, "functions")
	}
	if cfg.GoCommand == "" {
		cfg.GoCommand = "go"
	}
	key, err := sourceKey(cfg.Dir, cfg.Package)
	if err != nil {
		return "", fmt.Errorf("lambdaproc: %w", err)
	}
	out, err := filepath.Abs(filepath.Join(cfg.CacheDir, runtime.GOOS+"_"+runtime.GOARCH, cfg.Name+"-"+key, "bootstrap"))
	if err != nil {
		return "", fmt.Errorf("lambdaproc: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("lambdaproc: %w", err)
	}
	// Two builders of the same package (go test -p 2 runs two packages that
	// each start the example functions) must not write the executable at
	// once: go build removes and rewrites it, and the other may exec it
	// half-written (exec format error, text file busy). Under the lock the
	// second build finds it up to date and leaves the file alone.
	unlock, err := lockDir(filepath.Dir(out))
	if err != nil {
		return "", fmt.Errorf("lambdaproc: %w", err)
	}
	defer unlock()
	cmd := exec.CommandContext(ctx, cfg.GoCommand, "build", "-tags", "lambda.norpc", "-o", out, cfg.Package)
	cmd.Dir = cfg.Dir
	// Pin the target to this host whatever GOOS/GOARCH the caller's
	// environment carries (a shell set up for `make build` has linux/arm64),
	// and build without cgo as for Lambda.
	cmd.Env = append(os.Environ(), "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("lambdaproc: building %s: %w\n%s", cfg.Package, err, strings.TrimSpace(output.String()))
	}
	return out, nil
}

// sourceKey names where a package's source lives, so that checkouts sharing
// one cache (LATCH_CACHE is shared by every worktree on a machine) never run
// each other's builds of a same-named function.
func sourceKey(dir, pkg string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	// An import path resolves through the module of dir; a relative one
	// names a directory.
	where := abs + "\x00" + pkg
	if build.IsLocalImport(pkg) {
		where = filepath.Join(abs, pkg)
	}
	sum := sha256.Sum256([]byte(where))
	return hex.EncodeToString(sum[:6]), nil
}
