package emulators

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// CacheDir returns where emulators are installed: $LATCH_CACHE if set, else
// <user cache dir>/latch (~/.cache/latch on Linux). It is shared by every
// project of the user.
func CacheDir() (string, error) {
	if d := os.Getenv("LATCH_CACHE"); d != "" {
		return filepath.Abs(d)
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("emulators: no cache directory (set LATCH_CACHE): %w", err)
	}
	return filepath.Join(d, "latch"), nil
}

// ProjectDir returns the project dir belongs to: the nearest directory at
// or above dir holding a go.mod or a .git, else dir itself. Every
// subdirectory of a project thus shares its stack.
func ProjectDir(dir string) string {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	for d := dir; ; {
		for _, marker := range []string{"go.mod", ".git"} {
			if _, err := os.Stat(filepath.Join(d, marker)); err == nil {
				return d
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// StateDir returns the run-state directory of the project at project:
// <cache>/run/<base name>-<hash of the absolute path>. The hash keeps two
// projects of one name apart; the name is for people looking.
func StateDir(cache, project string) (string, error) {
	abs, err := filepath.Abs(project)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs))
	name := unsafeName.ReplaceAllString(filepath.Base(abs), "_") + "-" + hex.EncodeToString(sum[:6])
	return filepath.Join(cache, "run", name), nil
}
