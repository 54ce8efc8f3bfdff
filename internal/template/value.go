package template

import (
	"strconv"
	"strings"
)

// CloudFormation is loosely typed: a number may be written "30" and a
// boolean "true". These helpers read resolved values the way CloudFormation
// does.

// AsString returns v as a string: strings as they are, numbers and
// booleans formatted. Maps, lists, nil and intrinsics are not strings.
func AsString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int:
		return strconv.Itoa(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// AsInt returns v as an int: ints, integral floats, and strings that parse
// as integers.
func AsInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case float64:
		if x == float64(int(x)) {
			return int(x), true
		}
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}

// AsBool returns v as a bool: booleans, and the strings "true" and "false"
// in any case.
func AsBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(x) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// AsMap returns v as a map.
func AsMap(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}

// AsList returns v as a list.
func AsList(v any) ([]any, bool) {
	l, ok := v.([]any)
	return l, ok
}
