// Package dailyreport is the logic of the daily-report Lambda, the target
// of a schedule rule (cron): for each tick it sums the previous UTC day's
// accepted orders (the orders table's byDay index) and writes one report
// item, keyed by the tick: "daily#<scheduled time, RFC 3339>".
//
// A tick can arrive more than once (EventBridge delivers at least once,
// Lambda retries asynchronous invocations). handler.NewSchedule runs it once
// under latch's idempotency guard, keyed on the schedule and its scheduled
// time, and reports the later deliveries as duplicates; the report's
// conditional write keeps one item per tick even if a run died after
// writing it but before its idempotency record was completed.
package dailyreport
