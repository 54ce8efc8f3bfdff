package emulators

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
)

// venvSpec is a Python virtual environment installed from a pinned
// requirements file.
type venvSpec struct {
	// name prefixes the cache directory; the requirements' hash follows it,
	// so an update of the pins gets a new venv and never half-updates one.
	name, what string
	// requirements is the pinned requirements file's content.
	requirements []byte
	// minPython is the lowest Python 3 minor version that runs it.
	minPython int
	// requireHashes installs with --require-hashes: every package, and
	// only that file of it, as the file's hashes say.
	requireHashes bool
}

func (v venvSpec) dir() string {
	sum := sha256.Sum256(v.requirements)
	return v.name + "-" + hex.EncodeToString(sum[:6])
}

// installVenv installs the venv into the cache and returns its directory.
func installVenv(ctx context.Context, c Config, v venvSpec) (string, error) {
	return installOnce(ctx, c, v.dir(), v.what, func(ctx context.Context, dir string) error {
		python, err := findPython(ctx, v.minPython, v.what)
		if err != nil {
			return err
		}
		if err := run(ctx, c.CacheDir, nil, python, "-m", "venv", dir); err != nil {
			return err
		}
		req := filepath.Join(dir, "requirements.txt")
		if err := os.WriteFile(req, v.requirements, 0o644); err != nil {
			return err
		}
		args := []string{"-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "-r", req}
		if v.requireHashes {
			args = append(args, "--require-hashes", "--no-deps")
		}
		return run(ctx, dir, []string{"PIP_NO_INPUT=1"}, filepath.Join(dir, "bin", "python"), args...)
	})
}
