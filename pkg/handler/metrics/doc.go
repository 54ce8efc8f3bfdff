// Package metrics writes CloudWatch metrics in the embedded metric format
// (EMF): JSON lines on standard output that Lambda's log agent turns into
// metrics, with no API call and no added latency.
//
// A Set collects the metrics of one blob (one namespace, one dimension
// set) and checks every name, unit and value against what CloudWatch
// accepts, splitting into several blobs at EMF's limits. An Emitter holds
// the namespace and dimensions of a function and writes sets, one blob per
// line. Package telemetry keeps one Set per invocation in the context,
// where a handler adds its own metrics:
//
//	if m, ok := metrics.FromContext(ctx); ok {
//		_ = m.Add("OrdersShipped", metrics.UnitCount, 1)
//	}
//
// Outside telemetry, make an Emitter and flush a set yourself:
//
//	em, err := metrics.New(metrics.Config{Namespace: "shop"})
//	set := em.NewSet()
//	_ = set.Put("ShipLatency", metrics.UnitMilliseconds, 180)
//	err = em.Flush(set)
package metrics
