// Package latency is a loopback TCP proxy that delays every chunk of bytes
// by a one-way delay, in each direction, so that benchmarks against a local
// emulator pay round trips of the size a function in AWS pays to a regional
// service. A call that makes three round trips then costs three times the
// added delay more than one that makes one, as it does in AWS, where on a
// local emulator both are dominated by the emulator's CPU time.
//
//	p, err := latency.Start("127.0.0.1:8000", latency.Config{Delay: 2 * time.Millisecond, Jitter: 400 * time.Microsecond})
//	defer p.Close()
//	// point the client at p.URL()
//
// The benchmarks of pkg/idempotency and pkg/handler run behind it at the
// delays in Delays (make bench-transact); it is for benchmarks only, never
// for timed tests.
package latency
