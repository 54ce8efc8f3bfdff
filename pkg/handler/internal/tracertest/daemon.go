package tracertest

import (
	"bytes"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Daemon listens like the X-Ray daemon on 127.0.0.1 and hands over every
// datagram it receives. Point a tracer at Addr.
type Daemon struct {
	conn *net.UDPConn
	got  chan Datagram
}

// Datagram is one received packet: its header line, the document after it
// (nil if it is not JSON), its size and its text.
type Datagram struct {
	Header map[string]any
	Doc    map[string]any
	Size   int
	Raw    string
}

// NewDaemon starts a Daemon that stops when the test ends. It keeps up to
// 1024 datagrams not yet read and drops the rest, so that a benchmark's
// flood neither blocks the sender nor grows without bound.
func NewDaemon(t testing.TB) *Daemon {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadBuffer(4 << 20) // bursts of parallel records
	t.Cleanup(func() { conn.Close() })
	d := &Daemon{conn: conn, got: make(chan Datagram, 1024)}
	go func() {
		buf := make([]byte, 128*1024)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			dg := Datagram{Size: n, Raw: string(buf[:n])}
			head, body, _ := bytes.Cut(buf[:n], []byte("\n"))
			_ = json.Unmarshal(head, &dg.Header)
			_ = json.Unmarshal(body, &dg.Doc)
			select {
			case d.got <- dg:
			default: // a benchmark's flood: drop
			}
		}
	}()
	return d
}

// Addr is the daemon's address, host:port, as AWS_XRAY_DAEMON_ADDRESS
// takes it.
func (d *Daemon) Addr() string { return d.conn.LocalAddr().String() }

// Next returns the next datagram, failing the test if none comes within 5s
// or if it is not the daemon protocol's header line and a JSON document.
func (d *Daemon) Next(t *testing.T) Datagram {
	t.Helper()
	select {
	case dg := <-d.got:
		if dg.Doc == nil {
			t.Fatalf("datagram is not a header line and a JSON document: %q", dg.Raw)
		}
		if diff := cmp.Diff(map[string]any{"format": "json", "version": 1.0}, dg.Header); diff != "" {
			t.Fatalf("datagram header (-want +got):\n%s", diff)
		}
		return dg
	case <-time.After(5 * time.Second):
		t.Fatal("no segment document reached the daemon within 5s")
		return Datagram{}
	}
}
