package runtimeapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/latchkit/latch/internal/runtimeapi"
)

// A runtime is normally a function's own process (aws-lambda-go's
// lambda.Start); here a few lines of HTTP stand in for it.
func Example() {
	srv, err := runtimeapi.NewServer(runtimeapi.Config{FunctionName: "greeter", Timeout: 5 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	go func() {
		base := "http://" + srv.Addr() + "/" + runtimeapi.APIVersion + "/runtime/invocation/"
		post := func(url, body string) {
			if resp, err := http.Post(url, "application/json", strings.NewReader(body)); err == nil {
				resp.Body.Close()
			}
		}
		for {
			resp, err := http.Get(base + "next")
			if err != nil || resp.StatusCode != http.StatusOK {
				return
			}
			id := resp.Header.Get(runtimeapi.HeaderRequestID)
			var ev struct {
				Name string `json:"name"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&ev)
			resp.Body.Close()
			if ev.Name == "" {
				post(base+id+"/error", `{"errorType":"MissingName","errorMessage":"name is required"}`)
				continue
			}
			post(base+id+"/response", `"hello, `+ev.Name+`"`)
		}
	}()

	ctx := context.Background()
	out, err := srv.Invoke(ctx, []byte(`{"name":"latch"}`))
	fmt.Println(string(out), err)

	_, err = srv.Invoke(ctx, []byte(`{}`))
	var fe *runtimeapi.FunctionError
	if errors.As(err, &fe) {
		fmt.Println(fe.Type, "-", fe.Message)
	}
	// Output:
	// "hello, latch" <nil>
	// MissingName - name is required
}
