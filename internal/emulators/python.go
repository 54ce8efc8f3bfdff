package emulators

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// findPython returns a Python 3.<minor> or newer with venv and ensurepip:
// the python3 on PATH first, then python3.N on PATH for newer N, then the
// versions pyenv installed (`pyenv root`/versions/*), newest first. why
// names what needs it, for the error that says what to install.
func findPython(ctx context.Context, minor int, why string) (string, error) {
	var cands []string
	if p, err := exec.LookPath("python3"); err == nil {
		cands = append(cands, p)
	}
	for n := 14; n >= minor; n-- {
		if p, err := exec.LookPath(fmt.Sprintf("python3.%d", n)); err == nil {
			cands = append(cands, p)
		}
	}
	cands = append(cands, pyenvPythons(ctx)...)
	var seen []string
	for _, p := range cands {
		v, ok := pythonMinor(ctx, p)
		if !ok {
			continue
		}
		seen = append(seen, fmt.Sprintf("%s (3.%d)", p, v))
		if v >= minor {
			return p, nil
		}
	}
	found := "none found"
	if len(seen) > 0 {
		found = "found " + strings.Join(seen, ", ")
	}
	return "", fmt.Errorf("emulators: %s needs Python 3.%d or newer with venv (%s); install one, e.g. 'pyenv install 3.12' or 'apt-get install python3.12-venv', and put it on PATH or in pyenv",
		why, minor, found)
}

// pyenvPythons lists <pyenv root>/versions/*/bin/python3, newest first.
func pyenvPythons(ctx context.Context) []string {
	root := os.Getenv("PYENV_ROOT")
	if p, err := exec.LookPath("pyenv"); err == nil {
		if out, err := exec.CommandContext(ctx, p, "root").Output(); err == nil {
			root = strings.TrimSpace(string(out))
		}
	}
	if root == "" {
		return nil
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "versions", "3.*"))
	sort.Slice(dirs, func(i, j int) bool { return versionLess(filepath.Base(dirs[j]), filepath.Base(dirs[i])) })
	var out []string
	for _, d := range dirs {
		p := filepath.Join(d, "bin", "python3")
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// versionLess compares dotted versions numerically ("3.9.1" < "3.12.0");
// a part that is not a number compares as text.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, errA := strconv.Atoi(pa[i])
		nb, errB := strconv.Atoi(pb[i])
		switch {
		case errA == nil && errB == nil && na != nb:
			return na < nb
		case (errA != nil || errB != nil) && pa[i] != pb[i]:
			return pa[i] < pb[i]
		}
	}
	return len(pa) < len(pb)
}

// pythonMinor returns the minor version of a Python 3 that has venv and
// ensurepip (Debian splits them into python3-venv).
func pythonMinor(ctx context.Context, python string) (int, bool) {
	out, err := exec.CommandContext(ctx, python, "-c", "import sys, venv, ensurepip; print(sys.version_info[0], sys.version_info[1])").Output()
	if err != nil {
		return 0, false
	}
	var major, minor int
	if _, err := fmt.Sscan(string(out), &major, &minor); err != nil || major != 3 {
		return 0, false
	}
	return minor, true
}
