// Package localcloud deploys a SAM template to a local cloud — MiniStack,
// started by package emulators — with the pinned SAM CLI, exactly as a user
// runs `sam build` and `sam deploy`, and then drives the deployed stack the
// way a user would: messages sent to its queues, the emulator's own event
// source mappings invoking the functions and reading their partial batch
// responses, its own rules firing the schedules. No latch code plays AWS
// here; latch only sends, reads and checks.
//
// What it reads back is what an operator reads: the stack's resources from
// CloudFormation, the functions' outcome lines from CloudWatch Logs (a
// Follower tails the log groups), the tables and queues themselves. The
// order scenario and its invariants are internal/demo's, run against a
// demo.Target made of those.
//
//	run, err := localcloud.Deploy(ctx, localcloud.Options{Dir: "infra", Template: "template.yaml", ...})
//	defer run.Delete(ctx)
//	err = run.Demo(ctx, feed, out)
//
// Where the emulator differs from AWS, the difference is worked around in
// plain sight (printed, and listed in docs/DESIGN.md's fidelity table),
// never by changing the template.
package localcloud
