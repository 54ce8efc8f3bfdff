// Package schedule evaluates EventBridge schedule expressions: the
// cron(...) and rate(...) of schedule rules, under AWS's rules rather than
// Unix cron's.
//
// A cron expression has six fields — minutes, hours, day-of-month, month,
// day-of-week, year — and runs in UTC. Exactly one of day-of-month and
// day-of-week is ?. Day-of-week counts 1-7 from Sunday (SUN-SAT also work).
// L is the last day of the month (day-of-month) or, after a weekday, the
// last such weekday (6L, the last Friday); LW is the last weekday of the
// month; 15W is the weekday nearest the 15th; 3#2 is the second Tuesday.
// Ranges may wrap around (hours 20-2).
//
// A rate expression, rate(5 minutes), fires on the multiples of its
// interval from an anchor: the Unix epoch unless Rate.Start says otherwise.
//
// An invalid expression is an *Error whose Field names the wrong field.
package schedule
