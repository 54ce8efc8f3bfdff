package xraysdk_test

import (
	"context"
	"fmt"
	"net"

	"github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/aws/aws-xray-sdk-go/v2/xraylog"

	"github.com/latchkit/latch/pkg/handler/xraysdk"
)

// latch's spans become subsegments of whatever segment the SDK has in the
// context: in Lambda the facade segment it makes from the trace header,
// here one opened with xray.BeginSegment. A UDP socket on the loopback
// stands in for the X-Ray daemon.
func ExampleTracer() {
	daemon, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer daemon.Close()
	xray.SetLogger(xraylog.NullLogger)
	if err := xray.Configure(xray.Config{DaemonAddr: daemon.LocalAddr().String()}); err != nil {
		fmt.Println(err)
		return
	}

	ctx, seg := xray.BeginSegment(context.Background(), "orders")
	spanCtx, span := xraysdk.Tracer{}.Start(ctx, "charge")
	sub := xray.GetSegment(spanCtx)
	fmt.Println(sub.Name, "under", sub.ParentSegment.Name)
	span.End(nil)
	seg.Close(nil)
	// Output: charge under orders
}
