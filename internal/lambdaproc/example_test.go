package lambdaproc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/latchkit/latch/internal/lambdaproc"
	"github.com/latchkit/latch/internal/runtimeapi"
)

func Example() {
	ctx := context.Background()
	cache, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(cache)

	bin, err := lambdaproc.Build(ctx, lambdaproc.BuildConfig{Package: "./testdata/fn", CacheDir: cache})
	if err != nil {
		fmt.Println(err)
		return
	}
	fn, err := lambdaproc.New(lambdaproc.Config{
		Name:    "greeter",
		Binary:  bin,
		Env:     map[string]string{"GREETING": "hello"},
		Timeout: 10 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer fn.Stop()

	out, err := fn.Invoke(ctx, []byte(`{"keys":["AWS_LAMBDA_FUNCTION_NAME","GREETING"]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	var res struct{ Env map[string]string }
	_ = json.Unmarshal(out, &res)
	fmt.Println(res.Env["AWS_LAMBDA_FUNCTION_NAME"], res.Env["GREETING"])

	// A crash is the invocation's failure; the next one gets a new process.
	_, err = fn.Invoke(ctx, []byte(`{"action":"exit","code":2}`))
	var fe *runtimeapi.FunctionError
	if errors.As(err, &fe) {
		fmt.Println(fe.Type)
	}
	_, err = fn.Invoke(ctx, []byte(`{}`))
	fmt.Println(err)
	// Output:
	// greeter hello
	// Runtime.ExitError
	// <nil>
}
