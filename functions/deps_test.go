package functions_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// adapterDeps are import path prefixes that only latch's tracing adapters
// (xraysdk, oteltracer) bring in. The example functions trace with latch's
// own X-Ray emitter; linking any of these would mean an adapter's weight
// leaked into every function, which is what keeping the adapters in
// packages of their own is for.
var adapterDeps = []string{
	"github.com/aws/aws-xray-sdk-go",
	"go.opentelemetry.io/",
	"google.golang.org/grpc",
	"github.com/valyala/fasthttp",
}

// TestFunctionsLinkNoAdapterDeps runs go list -deps on every example
// function, as built for Lambda, and fails on any adapter dependency.
func TestFunctionsLinkNoAdapterDeps(t *testing.T) {
	mains, err := filepath.Glob("*/main.go")
	if err != nil || len(mains) == 0 {
		t.Fatalf("no functions found (%v)", err)
	}
	for _, m := range mains {
		fn := "./" + filepath.Dir(m)
		t.Run(filepath.Dir(m), func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", fn)
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", fn, err)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 50 {
				t.Fatalf("go list -deps %s listed %d packages; want a whole function's", fn, len(deps))
			}
			for _, d := range deps {
				for _, bad := range adapterDeps {
					if strings.HasPrefix(d, bad) {
						t.Errorf("%s links %s", fn, d)
					}
				}
			}
		})
	}
}
