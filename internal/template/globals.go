package template

// mergeGlobals returns a resource's properties with a SAM Globals section
// merged in, under SAM's rules: a property only in Globals is copied; a
// primitive (or intrinsic) in the resource replaces the global one; maps
// merge key by key, recursively, the resource winning; lists concatenate,
// global entries first. The inputs are not modified.
func mergeGlobals(global, local map[string]any) map[string]any {
	out := make(map[string]any, len(global)+len(local))
	for k, g := range global {
		out[k] = deepCopy(g)
	}
	for k, l := range local {
		if g, ok := out[k]; ok {
			out[k] = mergeValue(g, l)
		} else {
			out[k] = l
		}
	}
	return out
}

func mergeValue(global, local any) any {
	switch l := local.(type) {
	case map[string]any:
		if g, ok := global.(map[string]any); ok {
			return mergeGlobals(g, l)
		}
	case []any:
		if g, ok := global.([]any); ok {
			return append(append(make([]any, 0, len(g)+len(l)), g...), l...)
		}
	}
	return local
}

// deepCopy copies maps, lists and intrinsics so that resources sharing a
// Globals value never share its storage.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	case *Intrinsic:
		c := *x
		c.Arg = deepCopy(x.Arg)
		return &c
	default:
		return v
	}
}
