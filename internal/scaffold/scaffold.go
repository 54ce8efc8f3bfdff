package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

//go:embed files
var files embed.FS

// Module is a new service module.
type Module struct {
	// Dir is where it is written; it must not exist, or be empty.
	Dir string
	// Path is the module path. Default "example.com/<base name of Dir>".
	Path string
	// LatchVersion is the version of latch it requires: a published one,
	// or with Replace, any (v0.0.0).
	LatchVersion string
	// Replace, when set, is the directory of a latch checkout the module
	// points at with a replace directive: latch is not published yet.
	Replace string
}

// data is what the templates see.
type data struct {
	Module, Service, LatchVersion, Replace string
	Name, Logical, Schedule                string
	Kind                                   Kind
	FIFO                                   bool
	// QueueName is the physical name latch local gives the function's
	// queue (its prefix is the template's directory, the service).
	QueueName string
}

// New writes a module with one function in m.Dir.
func New(m Module, f Function) error {
	if err := f.validate(); err != nil {
		return err
	}
	if entries, err := os.ReadDir(m.Dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("scaffold: %s is not empty: use --add-function in an existing module", m.Dir)
	}
	abs, err := filepath.Abs(m.Dir)
	if err != nil {
		return err
	}
	d := data{Module: m.Path, Service: filepath.Base(abs), LatchVersion: m.LatchVersion, Replace: m.Replace}
	if d.Module == "" {
		d.Module = "example.com/" + d.Service
	}
	if d.LatchVersion == "" {
		d.LatchVersion = "v0.0.0"
	}
	for name, tmpl := range map[string]string{
		"go.mod":        "module/go.mod.tmpl",
		"README.md":     "module/README.md.tmpl",
		"Makefile":      "module/Makefile.tmpl",
		"template.yaml": "module/template.yaml.tmpl",
	} {
		if err := write(filepath.Join(abs, name), tmpl, d); err != nil {
			return err
		}
	}
	return Add(abs, f)
}

// Add writes function f into the module in dir: its code under
// functions/<name>/, its sample event under events/, its resources at the
// end of template.yaml (whose Resources must be the last section) and its
// row in README.md.
func Add(dir string, f Function) error {
	if err := f.validate(); err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	gomod, err := os.ReadFile(filepath.Join(abs, "go.mod"))
	if err != nil {
		return fmt.Errorf("scaffold: %s has no go.mod: run latch new in an empty directory first", abs)
	}
	mod := modulePath(gomod)
	if mod == "" {
		return fmt.Errorf("scaffold: %s/go.mod has no module line", abs)
	}
	fnDir := filepath.Join(abs, "functions", f.Name)
	if _, err := os.Stat(fnDir); err == nil {
		return fmt.Errorf("scaffold: functions/%s exists already", f.Name)
	}
	d := data{
		Module: mod, Service: filepath.Base(abs), Name: f.Name, Logical: logical(f.Name),
		Kind: f.Kind, Schedule: f.Schedule, FIFO: f.Kind == FIFO,
	}
	if d.Kind == Schedule && d.Schedule == "" {
		d.Schedule = DefaultSchedule
	}
	d.QueueName = d.Service + "-" + d.Logical + "Queue"
	if d.FIFO {
		d.QueueName = d.Service + "-" + f.Name + ".fifo"
	}
	kindDir := string(f.Kind)
	if f.Kind == FIFO {
		kindDir = string(SQS) // one set of templates, FIFO by a flag
	}
	if err := appendTemplate(abs, kindDir, d); err != nil {
		return err
	}
	for name, tmpl := range map[string]string{
		"main.go":         "module/main.go.tmpl",
		"handler.go":      kindDir + "/handler.go.tmpl",
		"handler_test.go": kindDir + "/handler_test.go.tmpl",
	} {
		if err := write(filepath.Join(fnDir, name), tmpl, d); err != nil {
			return err
		}
	}
	ev, err := sampleEvent(d)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(abs, "events", f.Name+".json"), ev); err != nil {
		return err
	}
	return appendFile(filepath.Join(abs, "README.md"), readmeRow(d))
}

// appendTemplate adds the function's resources (and parameters) to
// template.yaml, refusing a template whose Resources is not its last
// section, where appended text would land in another section.
func appendTemplate(dir, kindDir string, d data) error {
	path := filepath.Join(dir, "template.yaml")
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("scaffold: %w", err)
	}
	text := string(src)
	if err := resourcesLast(text); err != nil {
		return err
	}
	res, err := render(kindDir+"/resources.yaml.tmpl", d)
	if err != nil {
		return err
	}
	if params, err := render(kindDir+"/parameters.yaml.tmpl", d); err == nil {
		i := strings.Index(text, "\nParameters:\n")
		if i < 0 {
			return errors.New("scaffold: template.yaml has no Parameters section to add the feed's URL to")
		}
		i += len("\nParameters:\n")
		text = text[:i] + string(params) + text[i:]
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return writeFile(path, []byte(text+string(res)))
}

// resourcesLast checks that no top-level section follows Resources.
func resourcesLast(text string) error {
	after := false
	for line := range strings.SplitSeq(text, "\n") {
		if line == "" || line[0] == ' ' || line[0] == '#' || line[0] == '\t' {
			continue
		}
		if after {
			return fmt.Errorf("scaffold: template.yaml has %q after Resources: move Resources to the end so that new functions can be appended", strings.TrimSpace(line))
		}
		after = strings.HasPrefix(line, "Resources:")
	}
	if !after {
		return errors.New("scaffold: template.yaml has no Resources section at its end")
	}
	return nil
}

func render(name string, d data) ([]byte, error) {
	src, err := files.ReadFile("files/" + name)
	if err != nil {
		return nil, err
	}
	t, err := template.New(name).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("scaffold: %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("scaffold: %s: %w", name, err)
	}
	return b.Bytes(), nil
}

func write(path, tmpl string, d data) error {
	b, err := render(tmpl, d)
	if err != nil {
		return err
	}
	return writeFile(path, b)
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	return errors.Join(err, f.Close())
}

// modulePath is go.mod's module path: the first "module" line's argument,
// unquoted. (golang.org/x/mod would parse the whole file; latch does not
// depend on it for one line.)
func modulePath(gomod []byte) string {
	for line := range strings.SplitSeq(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
