// Package chaos is the fault-injection run behind `make chaos`: the example
// stack of infra/template.yaml under the local runner (internal/local) on
// the default emulators, fed a thousand-odd messages — valid orders with
// duplicates, and poison of many kinds — while function processes are
// killed with SIGKILL mid-batch and DynamoDB Local is killed and restarted
// on its data. It then reads the tables and queues themselves and checks
// what latch promises: each valid order recorded once, the ledger once per
// order and in per-customer order, every poison message in the DLQ once
// with its reason, the source queues empty.
//
// It lives beside internal/demo rather than inside it: the demo shows the
// happy path to a user in under a minute, the chaos run is the project's own
// test of the crash edges, and neither should slow or complicate the other.
package chaos
