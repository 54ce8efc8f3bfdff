package template

import (
	"fmt"
	"strings"
)

// subPart is a piece of an Fn::Sub string: literal text, or a variable
// (${Name}, ${Resource.Attribute}) to substitute.
type subPart struct {
	text  string
	isVar bool
}

// parseSub splits an Fn::Sub string into literal text and variables.
// ${!Literal} is the escape for a literal "${Literal}".
func parseSub(s string) ([]subPart, error) {
	var parts []subPart
	var lit strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			lit.WriteString(s)
			break
		}
		lit.WriteString(s[:i])
		rest := s[i+2:]
		if strings.HasPrefix(rest, "!") {
			// Escaped: keep "${" and go on after the "!".
			lit.WriteString("${")
			s = rest[1:]
			continue
		}
		j := strings.Index(rest, "}")
		if j < 0 {
			return nil, fmt.Errorf("unclosed ${ in %q", s)
		}
		name := strings.TrimSpace(rest[:j])
		if name == "" {
			return nil, fmt.Errorf("empty ${} in %q", s)
		}
		if lit.Len() > 0 {
			parts = append(parts, subPart{text: lit.String()})
			lit.Reset()
		}
		parts = append(parts, subPart{text: name, isVar: true})
		s = rest[j+1:]
	}
	if lit.Len() > 0 {
		parts = append(parts, subPart{text: lit.String()})
	}
	return parts, nil
}

// subArgs splits an Fn::Sub argument into its string and its variable map.
func subArgs(arg any) (string, map[string]any, error) {
	switch a := arg.(type) {
	case string:
		return a, nil, nil
	case []any:
		if len(a) != 2 {
			return "", nil, fmt.Errorf("takes a string and a map of variables, got %d arguments", len(a))
		}
		s, ok := a[0].(string)
		if !ok {
			return "", nil, fmt.Errorf("its first argument must be a literal string")
		}
		vars, ok := a[1].(map[string]any)
		if !ok {
			return "", nil, fmt.Errorf("its second argument must be a map of variables")
		}
		return s, vars, nil
	}
	return "", nil, fmt.Errorf("takes a string, or a list of a string and a map")
}
