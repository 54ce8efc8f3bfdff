// Command fn is a Lambda function for the lambdaproc tests, built with
// aws-lambda-go. The event's action picks what it does; FN_INIT picks how it
// starts.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	// Action is one of: env (default), exit, panic, sleep, call, print.
	Action string `json:"action"`
	// Keys are the environment variables env reports.
	Keys []string `json:"keys"`
	// Code is exit's status.
	Code int `json:"code"`
	// SleepMs is how long sleep sleeps, ignoring the deadline.
	SleepMs int `json:"sleepMs"`
	// URL is what call fetches.
	URL string `json:"url"`
	// Say is printed (stdout) before any action.
	Say string `json:"say"`
}

type result struct {
	PID  int                `json:"pid"`
	Cwd  string             `json:"cwd"`
	Env  map[string]*string `json:"env,omitempty"`
	Body string             `json:"body,omitempty"`
}

func handle(ctx context.Context, ev event) (result, error) {
	res := result{PID: os.Getpid()}
	res.Cwd, _ = os.Getwd()
	if ev.Say != "" {
		fmt.Println(ev.Say)
	}
	switch ev.Action {
	case "exit":
		os.Exit(ev.Code)
	case "panic":
		panic("handler blew up")
	case "sleep":
		time.Sleep(time.Duration(ev.SleepMs) * time.Millisecond)
	case "call":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ev.URL, nil)
		if err != nil {
			return res, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return res, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res.Body = string(b)
		return res, err
	case "print":
		fmt.Println("to stdout")
		fmt.Fprintln(os.Stderr, "to stderr")
		fmt.Print("no newline then exit")
		os.Exit(0)
	default:
		res.Env = map[string]*string{}
		for _, k := range ev.Keys {
			if v, ok := os.LookupEnv(k); ok {
				res.Env[k] = &v
			} else {
				res.Env[k] = nil
			}
		}
	}
	return res, nil
}

func main() {
	switch os.Getenv("FN_INIT") {
	case "exit":
		log.Fatal("fn: cannot load configuration")
	case "sigterm":
		lambda.StartHandlerFunc(handle, lambda.WithEnableSIGTERM(func() {
			fmt.Println("fn: SIGTERM received, flushing")
		}))
	}
	lambda.StartHandlerFunc(handle)
}
