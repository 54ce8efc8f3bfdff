// Package provision creates on the local emulators what a SAM template
// declares — DynamoDB tables, SQS queues and their dead-letter queues,
// EventBridge buses, rules and their SQS targets — so that the functions
// of the template can run against them.
//
//	t, _ := template.Load("infra/template.yaml")
//	r, _ := template.NewResolver(t, template.Pseudo{Region: cfg.Region, StackName: "latch"}, nil)
//	res, err := provision.New(cfg).Provision(ctx, t, r)
//	// res.Resolver now resolves !Ref OrderQueue to the local queue URL.
//
// Provisioning is idempotent: run twice, it finds what it made and brings
// it in line with the template, never deleting a table or a queue.
// Physical names come from the template when it sets them and are
// <stack>-<LogicalId> otherwise.
//
// What latch does not create is reported, never dropped silently: resource
// types it leaves alone are in Result.Skipped (functions, which latch local
// runs; IAM; alarms), properties without local meaning (encryption keys,
// backups) in Result.Notes, and rule targets the emulator cannot deliver
// to — the template's functions — in Result.Rules for the local runner.
// A property latch does not know is an error.
package provision
