package scaffold

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkit/latch/pkg/latchtest"
)

// sampleTime is the sample ticks' scheduled time: fixed, so that a
// regenerated module is the same file for file.
var sampleTime = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

// sampleEvent is the Lambda event of d's trigger, made by the test kit's
// builders so that it passes the same checks a real one does.
func sampleEvent(d data) ([]byte, error) {
	var ev any
	switch d.Kind {
	case SQS, FIFO:
		m := latchtest.Message{Body: latchtest.JSON(map[string]any{"id": "job-1", "amount": 5})}
		if d.FIFO {
			m.GroupID = "customer-1"
		}
		ev = latchtest.SQSEvent(d.QueueName, m)
	case Events:
		ev = latchtest.SQSEvent(d.QueueName, latchtest.EventBridgeMessage(latchtest.Event{
			ID: "ev-1", Source: d.Service, DetailType: d.Logical + "Requested",
			Detail: map[string]any{"id": "r-1", "amount": 5},
		}))
	case Schedule, Poller:
		ev = latchtest.RuleTick(d.Service+"-"+d.Logical+"Schedule", sampleTime)
	default:
		return nil, fmt.Errorf("scaffold: no sample event for %s", d.Kind)
	}
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// readmeRow is the function's line in README.md's table: its trigger and
// the command that triggers it while latch local runs.
func readmeRow(d data) string {
	var trigger, try string
	switch d.Kind {
	case SQS:
		trigger = "SQS queue `" + d.QueueName + "`"
		try = "`go tool latch send " + d.QueueName + ` '{"id":"job-1","amount":5}'` + "`"
	case FIFO:
		trigger = "SQS FIFO queue `" + d.QueueName + "`"
		try = "`go tool latch send " + d.QueueName + ` --group customer-1 '{"id":"job-1","amount":5}'` + "`"
	case Events:
		trigger = "EventBridge rule `" + d.Logical + "Rule` on bus `" + d.Service + "-" + d.Name + "`, through `" + d.QueueName + "`"
		try = "`go tool latch send " + d.QueueName + ` '{"id":"ev-1","source":"` + d.Service + `","detail-type":"` + d.Logical + `Requested","detail":{"id":"r-1","amount":5}}'` + "`" + " (the event as the rule delivers it)"
	case Schedule:
		trigger = "schedule `" + d.Schedule + "`"
		try = "`go tool latch local fire " + d.Logical + "Schedule`"
	case Poller:
		trigger = "poller, `rate(1 minute)`, reading `FEED_URL`"
		try = "`go tool latch local --param " + d.Logical + "FeedURL=http://…` then `go tool latch local fire " + d.Logical + "Schedule`"
	}
	return fmt.Sprintf("| `%s` | %s | %s |\n", d.Name, trigger, try)
}
