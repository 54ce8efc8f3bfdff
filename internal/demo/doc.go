// Package demo drives the end-to-end scenario behind `make demo`: orders
// (with duplicates, invalid ones and ones that hit a simulated transient
// failure) go into the order-worker's queue, flow through the ledger, and
// the daily report's schedule tick is delivered twice, and feed-poller reads
// a paged feed the demo serves (with a 503, a crash mid-page and an
// overlapping poller of the demo's own). It watches progress
// through the functions' own outcome log lines, then checks the invariants a
// user of latch cares about and prints a summary.
//
// The package knows the example stack only by the logical ids of
// infra/template.yaml; the local runner supplies the physical names and the
// means to fire a schedule rule.
package demo
