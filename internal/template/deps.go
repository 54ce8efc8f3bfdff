package template

import (
	"fmt"
	"sort"
	"strings"
)

// References returns the logical ids of the resources that v refers to
// through Ref, Fn::GetAtt and Fn::Sub, sorted and without duplicates.
// Parameters and pseudo parameters are not resources and are left out.
func (t *Template) References(v any) []string {
	set := map[string]bool{}
	t.collectRefs(v, set)
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (t *Template) collectRefs(v any, set map[string]bool) {
	add := func(id string) {
		if _, ok := t.Resources[id]; ok {
			set[id] = true
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			t.collectRefs(e, set)
		}
	case []any:
		for _, e := range x {
			t.collectRefs(e, set)
		}
	case *Intrinsic:
		switch x.Name {
		case "Ref":
			if s, ok := x.Arg.(string); ok {
				add(s)
			}
			return
		case "Fn::GetAtt":
			switch a := x.Arg.(type) {
			case string:
				id, _, _ := strings.Cut(a, ".")
				add(id)
			case []any:
				if len(a) > 0 {
					if id, ok := a[0].(string); ok {
						add(id)
					}
				}
				if len(a) > 1 {
					t.collectRefs(a[1], set)
				}
			}
			return
		case "Fn::Sub":
			s, vars, err := subArgs(x.Arg)
			if err != nil {
				return
			}
			parts, err := parseSub(s)
			if err != nil {
				return
			}
			for _, p := range parts {
				if !p.isVar {
					continue
				}
				if _, ok := vars[p.text]; ok {
					continue
				}
				id, _, _ := strings.Cut(p.text, ".")
				add(id)
			}
			for _, e := range vars {
				t.collectRefs(e, set)
			}
			return
		}
		t.collectRefs(x.Arg, set)
	}
}

// Dependencies returns the logical ids a resource depends on: those its
// properties refer to, and those its DependsOn names; sorted.
func (t *Template) Dependencies(id string) []string {
	r := t.Resources[id]
	if r == nil {
		return nil
	}
	set := map[string]bool{}
	t.collectRefs(r.Properties, set)
	for _, d := range r.DependsOn {
		set[d] = true
	}
	delete(set, id)
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Order sorts ids so that every resource comes after the resources it
// depends on; dependencies outside ids are ignored. Ties keep template
// order. A dependency cycle is an error that names it.
func (t *Template) Order(ids []string) ([]string, error) {
	in := map[string]bool{}
	for _, id := range ids {
		if _, ok := t.Resources[id]; !ok {
			return nil, &Error{Path: "Resources", Msg: fmt.Sprintf("no resource named %q", id)}
		}
		in[id] = true
	}
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var out []string
	var visit func(id string, stack []string) error
	visit = func(id string, stack []string) error {
		switch state[id] {
		case done:
			return nil
		case visiting:
			return &Error{Path: "Resources." + id, Msg: "dependency cycle: " + strings.Join(append(stack, id), " -> ")}
		}
		state[id] = visiting
		for _, d := range t.Dependencies(id) {
			if in[d] {
				if err := visit(d, append(stack, id)); err != nil {
					return err
				}
			}
		}
		state[id] = done
		out = append(out, id)
		return nil
	}
	for _, id := range t.order {
		if in[id] {
			if err := visit(id, nil); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
