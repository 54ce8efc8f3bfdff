// Package scaffold writes a new latch service module, or a new function
// into one: what `latch new` generates. The files come from embedded
// templates (files/), one set per trigger kind, so that a reader finds what
// a generated function looks like by opening the template of its kind.
//
// A generated module builds, passes `go vet` and `go test` (unit tests on
// pkg/latchtest's fakes) and runs under `latch local` as written; the
// command's tests check all three for every kind.
package scaffold
