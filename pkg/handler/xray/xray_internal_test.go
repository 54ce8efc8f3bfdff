package xray

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTraceHeader(t *testing.T) {
	t.Parallel()
	const root, parent = "1-5759e988-bd862e3fe1be46a994272793", "53995c3f42cd8ad8"
	tests := []struct {
		name   string
		header string
		want   traceHeader
		ok     bool
	}{
		{name: "lambda", header: "Root=" + root + ";Parent=" + parent + ";Sampled=1", want: traceHeader{root: root, parent: parent, sampled: true}, ok: true},
		{name: "spaces, order, lineage", header: " Sampled=1; Lineage=a87bd80c:1|68fd508a:5 ;Parent=" + parent + "; Root=" + root, want: traceHeader{root: root, parent: parent, sampled: true}, ok: true},
		{name: "unsampled", header: "Root=" + root + ";Parent=" + parent + ";Sampled=0", want: traceHeader{root: root, parent: parent}, ok: true},
		{name: "sampling to decide", header: "Root=" + root + ";Parent=" + parent + ";Sampled=?", want: traceHeader{root: root, parent: parent}, ok: true},
		{name: "no parent", header: "Root=" + root + ";Sampled=1", want: traceHeader{root: root, sampled: true}},
		{name: "short parent", header: "Root=" + root + ";Parent=53995c;Sampled=1", want: traceHeader{root: root, parent: "53995c", sampled: true}},
		{name: "root not hex", header: "Root=1-5759e988-bd862e3fe1be46a99427279x;Parent=" + parent, want: traceHeader{root: "1-5759e988-bd862e3fe1be46a99427279x", parent: parent}},
		{name: "root version 2", header: "Root=2-5759e988-bd862e3fe1be46a994272793;Parent=" + parent, want: traceHeader{root: "2-5759e988-bd862e3fe1be46a994272793", parent: parent}},
		{name: "empty", header: ""},
		{name: "garbage", header: ";;=;Root;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseTraceHeader(tt.header)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(traceHeader{})); diff != "" || ok != tt.ok {
				t.Errorf("parseTraceHeader(%q) ok %v, want %v; (-want +got):\n%s", tt.header, ok, tt.ok, diff)
			}
		})
	}
}

// TestParseTraceHeaderAllocs is not parallel: AllocsPerRun must run alone.
func TestParseTraceHeaderAllocs(t *testing.T) {
	h := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	if allocs := testing.AllocsPerRun(100, func() { parseTraceHeader(h) }); allocs != 0 {
		t.Errorf("parseTraceHeader allocates %v times", allocs)
	}
}

func TestXRayAnnotationKey(t *testing.T) {
	t.Parallel()
	long := string(make([]byte, 600))
	tests := []struct{ name, key, want string }{
		{name: "valid", key: "cold_start", want: "cold_start"},
		{name: "digits and case", key: "Error_Class2", want: "Error_Class2"},
		{name: "dash and dot", key: "order-id.v2", want: "order_id_v2"},
		{name: "space and unicode", key: "clé x", want: "cl__x"},
		{name: "too long", key: long, want: underscores(500)},
		{name: "empty", key: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := xrayAnnotationKey(tt.key); got != tt.want {
				t.Errorf("xrayAnnotationKey(%.20q) = %.20q (len %d), want %.20q (len %d)", tt.key, got, len(got), tt.want, len(tt.want))
			}
		})
	}
}

func underscores(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '_'
	}
	return string(b)
}

func TestXRayDaemonUDPAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, spec, want string
		ok               bool
	}{
		{name: "lambda", spec: "169.254.79.129:2000", want: "169.254.79.129:2000", ok: true},
		{name: "host name", spec: "xray-daemon:2000", want: "xray-daemon:2000", ok: true},
		{name: "both protocols", spec: "tcp:127.0.0.1:2000 udp:127.0.0.2:2001", want: "127.0.0.2:2001", ok: true},
		{name: "udp first", spec: "udp:127.0.0.2:2001 tcp:127.0.0.1:2000", want: "127.0.0.2:2001", ok: true},
		{name: "udp only", spec: "udp:[::1]:2001", want: "[::1]:2001", ok: true},
		{name: "tcp only", spec: "tcp:127.0.0.1:2000"},
		{name: "no port", spec: "127.0.0.1"},
		{name: "udp without port", spec: "tcp:127.0.0.1:2000 udp:127.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := xrayDaemonUDPAddress(tt.spec)
			if ok != tt.ok || ok && got != tt.want {
				t.Errorf("xrayDaemonUDPAddress(%q) = %q, %v; want %q, %v", tt.spec, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestTruncateUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{s: "abc", n: 5, want: "abc"},
		{s: "abcdef", n: 3, want: "abc"},
		{s: "aé", n: 2, want: "a"}, // é is two bytes: not split
		{s: "éé", n: 3, want: "é"},
	}
	for _, tt := range tests {
		if got := truncateUTF8(tt.s, tt.n); got != tt.want {
			t.Errorf("truncateUTF8(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}
