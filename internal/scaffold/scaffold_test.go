package scaffold_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/latchkit/latch/internal/scaffold"
)

// repoRoot is the latch checkout these tests run in: the generated modules
// point at it with a replace directive.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Generate writes a module with a function of every kind into a temporary
// directory and returns the module's directory.
func Generate(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "billing")
	if err := scaffold.New(scaffold.Module{Dir: dir, Replace: repoRoot(t)}, scaffold.Function{Name: "billing", Kind: scaffold.SQS}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []scaffold.Function{
		{Name: "refunds", Kind: scaffold.FIFO},
		{Name: "nightly", Kind: scaffold.Schedule, Schedule: "cron(0 3 * * ? *)"},
		{Name: "feed", Kind: scaffold.Poller},
		{Name: "order-events", Kind: scaffold.Events},
	} {
		if err := scaffold.Add(dir, f); err != nil {
			t.Fatalf("Add %s: %v", f.Name, err)
		}
	}
	return dir
}

func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in the generated module: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestGeneratedModulePassesItsOwnTests: what latch new writes for every
// kind compiles, vets and passes its unit tests, on the API of this
// checkout. A rename in latch's public packages that the templates missed
// fails here.
func TestGeneratedModulePassesItsOwnTests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a generated module")
	}
	dir := Generate(t)
	goCmd(t, dir, "mod", "tidy")
	goCmd(t, dir, "vet", "./...")
	goCmd(t, dir, "test", "-count=1", "./...")
}

func TestGeneratedFiles(t *testing.T) {
	t.Parallel()
	dir := Generate(t)
	tpl, err := os.ReadFile(filepath.Join(dir, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"BillingFunction:", "BillingDLQ:", "BillingDLQAlarm:", "LATCH_DLQ_URL: !Ref BillingDLQ",
		"QueueName: !Sub ${AWS::StackName}-refunds.fifo", "FifoQueue: true",
		"ScheduleExpression: cron(0 3 * * ? *)", "LATCH_FAILURE_QUEUE_URL: !Ref NightlyFailureQueue",
		"FeedFeedURL:", "ScheduleExpression: rate(1 minute)",
		"OrderEventsRule:", "detail-type: [OrderEventsRequested]",
	} {
		if !strings.Contains(string(tpl), want) {
			t.Errorf("template.yaml lacks %q", want)
		}
	}
	for _, name := range []string{"billing", "refunds", "nightly", "feed", "order-events"} {
		for _, f := range []string{"functions/" + name + "/main.go", "functions/" + name + "/handler.go", "functions/" + name + "/handler_test.go", "events/" + name + ".json"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
	readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	if n := strings.Count(string(readme), "\n| `"); n != 5 {
		t.Errorf("README.md has %d function rows, want 5:\n%s", n, readme)
	}
	gomod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	if !strings.Contains(string(gomod), "replace github.com/latchkit/latch => ") || !strings.Contains(string(gomod), "tool github.com/latchkit/latch/cmd/latch") {
		t.Errorf("go.mod:\n%s", gomod)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(dir string) error
		want string
	}{
		{"bad name", func(dir string) error {
			return scaffold.New(scaffold.Module{Dir: dir}, scaffold.Function{Name: "Billing_Job", Kind: scaffold.SQS})
		}, "lower-case letters"},
		{"unknown kind", func(dir string) error {
			return scaffold.New(scaffold.Module{Dir: dir}, scaffold.Function{Name: "billing", Kind: "kafka"})
		}, `unknown trigger kind "kafka"`},
		{"schedule on a queue", func(dir string) error {
			return scaffold.New(scaffold.Module{Dir: dir}, scaffold.Function{Name: "billing", Kind: scaffold.SQS, Schedule: "rate(1 hour)"})
		}, "schedule expression is for a schedule function"},
		{"non-empty directory", func(dir string) error {
			if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
				return err
			}
			return scaffold.New(scaffold.Module{Dir: dir}, scaffold.Function{Name: "billing", Kind: scaffold.SQS})
		}, "is not empty"},
		{"add outside a module", func(dir string) error {
			return scaffold.Add(dir, scaffold.Function{Name: "billing", Kind: scaffold.SQS})
		}, "has no go.mod"},
		{"add twice", func(dir string) error {
			if err := scaffold.New(scaffold.Module{Dir: dir}, scaffold.Function{Name: "billing", Kind: scaffold.SQS}); err != nil {
				return err
			}
			return scaffold.Add(dir, scaffold.Function{Name: "billing", Kind: scaffold.FIFO})
		}, "functions/billing exists already"},
		{"resources not last", func(dir string) error {
			if err := scaffold.New(scaffold.Module{Dir: dir}, scaffold.Function{Name: "billing", Kind: scaffold.SQS}); err != nil {
				return err
			}
			f, err := os.OpenFile(filepath.Join(dir, "template.yaml"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, _ = f.WriteString("Outputs:\n  Q:\n    Value: !Ref BillingQueue\n")
			_ = f.Close()
			return scaffold.Add(dir, scaffold.Function{Name: "refunds", Kind: scaffold.FIFO})
		}, `"Outputs:" after Resources`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.run(t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}
