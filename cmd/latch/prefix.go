package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// templateCandidates are where a SAM template is looked for when --template
// is not given: SAM's own defaults in the current directory, then this
// repository's layout.
var templateCandidates = []string{"template.yaml", "template.yml", "infra/template.yaml"}

// defaultTemplate is the first candidate that exists, or the first one
// (whose absence the loader then reports).
func defaultTemplate() string {
	for _, c := range templateCandidates {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return templateCandidates[0]
}

// genericDirs are directory names that say nothing about the service, so
// the prefix comes from the directory above them.
var genericDirs = map[string]bool{
	"infra": true, "infrastructure": true, "deploy": true, "deployment": true, "template": true, "templates": true,
	"sam": true, "cfn": true, "cloudformation": true, "iac": true, "aws": true, "stack": true, "stacks": true,
}

// maxPrefix keeps physical names well inside SQS's 80 and EventBridge's 64
// characters with the logical id after the prefix.
const maxPrefix = 24

var notNameChar = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// stackPrefix derives the name prefix of a template's resources from the
// directory the template is in (or the one above a generic name such as
// infra), so two services on one emulator get different names without
// anyone choosing them. The result is a valid AWS::StackName.
func stackPrefix(template string) (string, error) {
	abs, err := filepath.Abs(template)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(abs)
	name := filepath.Base(dir)
	if genericDirs[strings.ToLower(name)] {
		name = filepath.Base(filepath.Dir(dir))
	}
	if p := sanitizePrefix(name); p != "" {
		return p, nil
	}
	// A template at the root of the file system: name it after the file.
	if p := sanitizePrefix(strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("cannot derive a name prefix from %s: give one with --prefix", template)
}

// sanitizePrefix makes s a stack name: letters, digits and dashes, starting
// with a letter, at most maxPrefix long; "" when nothing is left.
func sanitizePrefix(s string) string {
	s = strings.Trim(notNameChar.ReplaceAllString(s, "-"), "-")
	s = strings.TrimLeft(s, "0123456789-")
	if len(s) > maxPrefix {
		s = strings.TrimRight(s[:maxPrefix], "-")
	}
	return s
}

// checkPrefix refuses a --prefix that is not a valid stack name.
func checkPrefix(p string) error {
	if sanitizePrefix(p) != p || p == "" {
		return usagef("--prefix %q: letters, digits and dashes, starting with a letter, at most %d characters", p, maxPrefix)
	}
	return nil
}
