package handler

// Chain wraps f in middleware. The first middleware is the outermost: in
// Chain(f, a, b) a request passes through a, then b, then reaches f, and the
// result comes back through b, then a, the order the list reads in (as in
// net/http middleware stacks). A nil middleware is skipped, so optional
// layers can be passed without branching at the call site.
func Chain[In, Out any](f Func[In, Out], mw ...Middleware[In, Out]) Func[In, Out] {
	for i := len(mw) - 1; i >= 0; i-- {
		if mw[i] != nil {
			f = mw[i](f)
		}
	}
	return f
}
