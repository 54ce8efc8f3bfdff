package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/latchkit/latch/internal/schedule"
)

func init() {
	register(&Command{
		Name:  "schedule",
		Short: "preview EventBridge schedule expressions",
		Subcommands: []*Command{{
			Name:  "next",
			Args:  "EXPR",
			Short: "print the next fire times of a cron(...) or rate(...) expression",
			Long: `Prints the next fire times of an EventBridge schedule expression, in UTC,
one per line, RFC 3339. Cron expressions follow AWS's rules: six fields
(minutes hours day-of-month month day-of-week year), exactly one of
day-of-month and day-of-week is ?, day-of-week 1-7 is SUN-SAT, and L, W
and # are supported. Rate expressions are counted from the Unix epoch.

Example:
  latch schedule next 'cron(0 3 * * ? *)' -n 5`,
			Setup: func(fs *flag.FlagSet) Runner {
				n := fs.Int("n", 5, "how many fire times to print")
				after := fs.String("after", "", "start after this time (RFC 3339); default now")
				return func(ctx context.Context, env *Env, args []string) error {
					if err := needArgs(args, 1, 1); err != nil {
						return err
					}
					if *n < 1 {
						return usagef("-n must be at least 1")
					}
					from := env.now()
					if *after != "" {
						t, err := time.Parse(time.RFC3339, *after)
						if err != nil {
							return usagef("-after: %v", err)
						}
						from = t
					}
					s, err := schedule.Parse(args[0])
					if err != nil {
						return err
					}
					times := schedule.NextN(s, from, *n)
					for _, t := range times {
						fmt.Fprintln(env.Stdout, t.Format(time.RFC3339))
					}
					if len(times) < *n {
						fmt.Fprintf(env.Stderr, "latch: %s fires no more after %s\n", s, from.UTC().Format(time.RFC3339))
					}
					return nil
				}
			},
		}},
	})
}
