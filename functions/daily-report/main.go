// Command daily-report is the target of the DailyReportSchedule rule: it
// writes one report per tick. The logic and its wiring live in package
// dailyreport.
package main

import (
	"github.com/latchkit/latch/functions/daily-report/dailyreport"
	"github.com/latchkit/latch/pkg/function"
)

func main() { function.Main(dailyreport.Build) }
