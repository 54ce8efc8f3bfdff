package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// guide is the user guide whose commands these tests hold to what works.
const guide = "../../docs/guide.md"

// guideBlocks returns the shell lines of the guide's code blocks, each
// block after the marker line (an HTML comment starting "<!-- guide-test:
// NAME") under NAME, and every block under "".
func guideBlocks(t *testing.T) map[string][][]string {
	t.Helper()
	f, err := os.Open(guide)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blocks := map[string][][]string{}
	var (
		name  string
		lines []string
		in    bool
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "<!-- guide-test: "):
			name, _, _ = strings.Cut(strings.TrimPrefix(line, "<!-- guide-test: "), " ")
		case !in && strings.HasPrefix(line, "```sh"):
			in, lines = true, nil
		case in && line == "```":
			in = false
			blocks[""] = append(blocks[""], lines)
			if name != "" {
				blocks[name] = append(blocks[name], lines)
				name = ""
			}
		case in:
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// TestGuideUnpublishedInstall runs the guide's commands for a module that
// builds on latch before it is published (`go get -tool` cannot), in a
// new module next to nothing, with this checkout as "../latch" and no
// network: the CLI must answer as `go tool latch`.
func TestGuideUnpublishedInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI in a module of its own")
	}
	t.Parallel()
	blocks := guideBlocks(t)["unpublished"]
	if len(blocks) != 1 {
		t.Fatalf("%s has %d blocks marked guide-test: unpublished, want 1", guide, len(blocks))
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
	runIn := func(line string) string {
		t.Helper()
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		return string(out)
	}
	runIn("go mod init example.com/svc")
	var last string
	for _, line := range blocks[0] {
		last = runIn(strings.ReplaceAll(line, "../latch", repo))
	}
	if !strings.Contains(last, "usage: latch COMMAND") {
		t.Errorf("the block's last command printed %q, want latch's usage", last)
	}
}

// TestGuideIntegrationRunsRequireEmulators: every `go test -tags
// integration` the guide shows fails rather than skips without emulators:
// under `latch emulators exec` (which sets LATCH_REQUIRE_EMULATORS) or with
// LATCH_REQUIRE_EMULATORS=1.
func TestGuideIntegrationRunsRequireEmulators(t *testing.T) {
	t.Parallel()
	n := 0
	for _, block := range guideBlocks(t)[""] {
		for _, line := range block {
			if !strings.Contains(line, "go test") || !strings.Contains(line, "-tags integration") {
				continue
			}
			n++
			if !strings.Contains(line, "emulators exec") && !strings.Contains(line, "LATCH_REQUIRE_EMULATORS=1 ") {
				t.Errorf("%s: %q skips its tests silently without emulators", guide, line)
			}
		}
	}
	if n == 0 {
		t.Errorf("%s shows no integration test command", guide)
	}
}
