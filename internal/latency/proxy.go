package latency

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Config is the delay a Proxy adds to each direction of each connection.
type Config struct {
	// Delay is the one-way delay: every chunk read on one side is written
	// to the other Delay later. A round trip gains twice Delay. Zero adds
	// nothing but the copy.
	Delay time.Duration

	// Jitter spreads each chunk's delay uniformly over Delay ± Jitter, so
	// that the mean stays Delay. It must not exceed Delay. Chunks keep
	// their order: a chunk is never written before the one read before it.
	Jitter time.Duration
}

// String names c as the benchmarks do: "D=2ms", or "D=0" for no delay.
func (c Config) String() string {
	if c.Delay == 0 {
		return "D=0"
	}
	return "D=" + c.Delay.String()
}

// Proxy accepts connections on a loopback port and relays each to its
// target, delaying both directions as its Config says.
type Proxy struct {
	ln     net.Listener
	target string
	cfg    Config

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Start listens on 127.0.0.1 (a port of its own) and relays to target
// (host:port). Close stops it.
func Start(target string, cfg Config) (*Proxy, error) {
	if cfg.Delay < 0 || cfg.Jitter < 0 || cfg.Jitter > cfg.Delay {
		return nil, fmt.Errorf("latency: want 0 <= Jitter <= Delay, got Delay %s, Jitter %s", cfg.Delay, cfg.Jitter)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("latency: listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target, cfg: cfg, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is the proxy's address as an http:// endpoint.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// Close stops accepting, closes every relayed connection and waits for
// the relays to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Add(1)
		go p.relay(client)
	}
}

// track remembers c for Close, or reports false when the proxy is closed.
func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
		c.Close()
	}
}

func (p *Proxy) relay(client net.Conn) {
	defer p.wg.Done()
	upstream, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client, upstream) {
		client.Close()
		upstream.Close()
		return
	}
	var both sync.WaitGroup
	both.Add(2)
	go func() { defer both.Done(); p.pipe(upstream, client) }()
	go func() { defer both.Done(); p.pipe(client, upstream) }()
	both.Wait()
	p.untrack(client, upstream)
}

// chunk is bytes read from one side and the time they are due on the other.
type chunk struct {
	b   []byte
	due time.Time
}

// pipe copies src to dst, each chunk written its delay after it was read.
// A reader goroutine stamps chunks as they arrive and a writer sleeps until
// each is due, so that chunks in flight overlap as packets on a link do: a
// second request sent while the first is in flight is not delayed twice.
func (p *Proxy) pipe(dst, src net.Conn) {
	line := make(chan chunk, 64)
	go func() {
		defer close(line)
		var last time.Time
		buf := make([]byte, 32*1024)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				due := time.Now().Add(p.delay())
				if due.Before(last) {
					due = last // keep order under jitter
				}
				last = due
				// A copy of its size: the benchmarks' B/op include the
				// proxy's allocations, so keep them small.
				line <- chunk{b: bytes.Clone(buf[:n]), due: due}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range line {
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(c.b); err != nil {
			src.Close() // the other side is gone: end the reader too
			break
		}
	}
	for range line { // let the reader end
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	} else {
		dst.Close()
	}
	if tc, ok := src.(*net.TCPConn); ok {
		_ = tc.CloseRead()
	}
}

// delay draws one chunk's delay.
func (p *Proxy) delay() time.Duration {
	if p.cfg.Jitter == 0 {
		return p.cfg.Delay
	}
	return p.cfg.Delay - p.cfg.Jitter + rand.N(2*p.cfg.Jitter+1)
}
