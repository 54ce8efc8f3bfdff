package latency_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"testing"
	"time"

	"github.com/latchkit/latch/internal/latency"
)

// echo is a TCP echo server for the proxy to relay to.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

// TestProxyRelaysInOrder sends 1 MB in small writes through a jittered
// proxy and gets every byte back in order, each round trip taking at least
// the two one-way delays' lower bound (a bound a slow machine cannot break).
func TestProxyRelaysInOrder(t *testing.T) {
	t.Parallel()
	cfg := latency.Config{Delay: 3 * time.Millisecond, Jitter: 2 * time.Millisecond}
	p, err := latency.Start(echo(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	want := make([]byte, 1<<20)
	rand.Read(want)
	start := time.Now()
	go func() {
		for b := want; len(b) > 0; {
			n := min(len(b), 1000)
			if _, err := c.Write(b[:n]); err != nil {
				return
			}
			b = b[n:]
		}
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("bytes came back changed or out of order")
	}
	if min := 2 * (cfg.Delay - cfg.Jitter); time.Since(start) < min {
		t.Errorf("round trip took %s, less than the %s the delays add", time.Since(start), min)
	}
}

// TestProxyRoundTrip checks one small request and its answer pay both
// delays, and that Close ends a connection still open.
func TestProxyRoundTrip(t *testing.T) {
	t.Parallel()
	cfg := latency.Config{Delay: 20 * time.Millisecond}
	p, err := latency.Start(echo(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if took := time.Since(start); took < 2*cfg.Delay {
		t.Errorf("round trip took %s, want at least %s", took, 2*cfg.Delay)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(buf); err == nil {
		t.Error("read after Close succeeded; want the connection closed")
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		cfg  latency.Config
		ok   bool
		str  string
	}{
		{name: "none", cfg: latency.Config{}, ok: true, str: "D=0"},
		{name: "fixed", cfg: latency.Config{Delay: 2 * time.Millisecond}, ok: true, str: "D=2ms"},
		{name: "jittered", cfg: latency.Config{Delay: 5 * time.Millisecond, Jitter: time.Millisecond}, ok: true, str: "D=5ms"},
		{name: "jitter above delay", cfg: latency.Config{Delay: time.Millisecond, Jitter: 2 * time.Millisecond}},
		{name: "negative", cfg: latency.Config{Delay: -time.Millisecond}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := latency.Start("127.0.0.1:1", tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("Start: err = %v, want ok %v", err, tt.ok)
			}
			if p != nil {
				p.Close()
			}
			if tt.ok && tt.cfg.String() != tt.str {
				t.Errorf("String() = %q, want %q", tt.cfg.String(), tt.str)
			}
		})
	}
}
