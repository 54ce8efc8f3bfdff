package xray_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/xray"
)

// A span of a sampled invocation is a subsegment of the invocation's
// segment, sent to the X-Ray daemon when it ends. Here a UDP socket on the
// loopback stands in for the daemon Lambda runs.
func ExampleTracer() {
	daemon, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer daemon.Close()
	os.Setenv(xray.EnvDaemonAddress, daemon.LocalAddr().String()) // Lambda sets it with active tracing
	defer os.Unsetenv(xray.EnvDaemonAddress)

	// What Lambda hands a sampled invocation; the runtime puts it in ctx.
	ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{
		TraceHeader: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
	})
	_, span := xray.Tracer{}.Start(ctx, "charge")
	span.End(errors.New("card declined"))

	buf := make([]byte, 64<<10)
	_ = daemon.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := daemon.ReadFrom(buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	// A datagram is a header line, then the subsegment document.
	_, doc, _ := bytes.Cut(buf[:n], []byte("\n"))
	var sub struct {
		Name     string `json:"name"`
		TraceID  string `json:"trace_id"`
		ParentID string `json:"parent_id"`
		Error    bool   `json:"error"`
	}
	if err := json.Unmarshal(doc, &sub); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sub.Name, sub.TraceID, sub.ParentID, sub.Error)
	// Output: charge 1-5759e988-bd862e3fe1be46a994272793 53995c3f42cd8ad8 true
}

// Outside a sampled invocation (a unit test, the local runner) a span does
// nothing: Start returns the context it was given.
func ExampleTracer_untraced() {
	ctx := context.Background()
	got, span := xray.Tracer{}.Start(ctx, "charge")
	span.End(nil)
	fmt.Println(got == ctx)
	// Output: true
}
