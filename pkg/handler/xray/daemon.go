package xray

import (
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// EnvDaemonAddress names the variable Lambda sets, with active tracing,
// to the X-Ray daemon's address: "host:port" for both protocols, or
// "tcp:host:port udp:host:port". latch sends to the UDP one.
const EnvDaemonAddress = "AWS_XRAY_DAEMON_ADDRESS"

// xrayDaemon is the UDP socket segment documents go out on.
type xrayDaemon struct {
	spec string       // the variable's value it was made from
	conn *net.UDPConn // nil when spec names no usable address
}

// The daemon of the process, made on first use and again only if the
// variable changes (only tests change it). A socket made for a previous
// value is left open: spans begun under it may still be sending.
var (
	currentXRayDaemon atomic.Pointer[xrayDaemon]
	xrayDaemonMu      sync.Mutex
)

// xrayDaemonFromEnv returns the daemon to send to, or nil when there is
// none: no address set, or one latch cannot use. It reads the environment
// (no allocation) each time so that a test can point it at a stand-in.
func xrayDaemonFromEnv() *xrayDaemon {
	spec := os.Getenv(EnvDaemonAddress)
	if spec == "" {
		return nil
	}
	d := currentXRayDaemon.Load()
	if d == nil || d.spec != spec {
		xrayDaemonMu.Lock()
		if d = currentXRayDaemon.Load(); d == nil || d.spec != spec {
			d = dialXRayDaemon(spec)
			currentXRayDaemon.Store(d)
		}
		xrayDaemonMu.Unlock()
	}
	if d.conn == nil {
		return nil
	}
	return d
}

// dialXRayDaemon makes the socket for spec. A bad address yields a daemon
// without a socket, so that it is not tried again for every span.
func dialXRayDaemon(spec string) *xrayDaemon {
	d := &xrayDaemon{spec: spec}
	addr, ok := xrayDaemonUDPAddress(spec)
	if !ok {
		return d
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return d
	}
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return d
	}
	d.conn = conn
	return d
}

// xrayDaemonUDPAddress picks the UDP address out of the variable's value.
func xrayDaemonUDPAddress(spec string) (string, bool) {
	spec = strings.TrimSpace(spec)
	if !strings.Contains(spec, " ") && !strings.HasPrefix(spec, "udp:") && !strings.HasPrefix(spec, "tcp:") {
		_, _, err := net.SplitHostPort(spec)
		return spec, err == nil
	}
	for _, part := range strings.Fields(spec) {
		if addr, ok := strings.CutPrefix(part, "udp:"); ok {
			_, _, err := net.SplitHostPort(addr)
			return addr, err == nil
		}
	}
	return "", false
}

// xrayDaemonHeader starts every datagram the daemon accepts.
const xrayDaemonHeader = "{\"format\": \"json\", \"version\": 1}\n"

// maxXRayDatagram bounds a datagram: X-Ray takes segment documents up to
// 64 kB, and a UDP datagram cannot be much larger.
const maxXRayDatagram = 64000

// send writes one datagram: the header line, then doc. An error (no
// daemon listening, a full buffer) is dropped: a lost subsegment must not
// fail or slow the record it describes.
func (d *xrayDaemon) send(doc []byte) {
	buf := make([]byte, 0, len(xrayDaemonHeader)+len(doc))
	buf = append(buf, xrayDaemonHeader...)
	buf = append(buf, doc...)
	_, _ = d.conn.Write(buf)
}
