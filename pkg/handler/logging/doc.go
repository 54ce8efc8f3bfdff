// Package logging makes the JSON logger latch's functions log with: the
// standard library's log/slog, with the field names Lambda's own JSON log
// format uses ("timestamp", "message"), the function's name, version and
// service on every line, and, on a line logged with a context, the fields
// of the request (request id, cold start, X-Ray trace id) and of the
// record being processed (message id, correlation id) that package handler
// put in that context. The level comes from LATCH_LOG_LEVEL or Lambda's
// AWS_LAMBDA_LOG_LEVEL, so it changes without a deploy.
//
//	log := logging.NewLogger(logging.Config{})
//	log.InfoContext(ctx, "order shipped", "order_id", id)
//	// {"timestamp":"…","level":"INFO","message":"order shipped","service":"orders",
//	//  "function_name":"order-worker","request_id":"…","cold_start":false,
//	//  "message_id":"…","order_id":"o-1"}
//
// The Key constants are the field names; queries and dashboards may rely
// on them.
package logging
