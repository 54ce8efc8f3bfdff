// Package latchtest helps test handlers built with latch, from any module,
// with nothing running: builders for the events Lambda delivers, fakes for
// the AWS calls latch makes, and assertions on what those fakes saw.
//
// The builders make events that pass the handlers' own checks (valid ARNs,
// a receive count, a message group on FIFO queues), so a test fails on what
// it is about and not on ErrMalformedEvent:
//
//	client := latchtest.NewSQS()
//	client.AddQueue("invoices", 3) // and its DLQ "invoices-dlq", maxReceiveCount 3
//	h := handler.MustNewSQS(charge, handler.SQSConfig{Client: client})
//	resp, err := h(ctx, latchtest.SQSEvent("invoices",
//		latchtest.Message{ID: "m1", Body: `{"id":"inv-1","cents":0}`}))
//	// resp is empty: the invalid invoice went to the DLQ with its reason
//	client.AssertDeadLettered(t, `{"id":"inv-1","cents":0}`, "amount must be positive")
//
// The SQS fake records every call (visibility changes, dead-letter sends
// with their attributes) and fails on request, so the paths a real queue
// takes only under load or outage can be tested in a unit test. Observer
// records every Report, for asserting on outcomes.
//
// Integration tests that run the same handlers against real queues and
// tables on local emulators use the sub-package emulator. It is a package
// of its own because it brings the DynamoDB and EventBridge clients and
// needs the network, which unit tests importing this package should not.
package latchtest
