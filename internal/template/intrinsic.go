package template

import (
	"fmt"
	"strings"
)

// Intrinsic is an unevaluated CloudFormation intrinsic function, written
// either in short form (!Ref X) or long form ({"Ref": "X"}). Both forms read
// into the same value, named by the long form: "Ref", "Fn::GetAtt",
// "Fn::Sub", "Condition" (a condition reference inside a condition
// function), and so on. A Resolver evaluates it.
type Intrinsic struct {
	// Name is the function's long-form name, such as "Ref" or "Fn::Sub".
	Name string
	// Arg is the function's argument as written: a string, a list or a map,
	// which may hold further intrinsics.
	Arg any
	// Line and Column locate the function in the template, for errors; zero
	// when unknown.
	Line, Column int
}

// String returns the function in short form, for error messages.
func (in *Intrinsic) String() string {
	short := "!" + strings.TrimPrefix(in.Name, "Fn::")
	switch a := in.Arg.(type) {
	case string:
		return short + " " + a
	case []any:
		parts := make([]string, len(a))
		for i, v := range a {
			parts[i] = shortValue(v)
		}
		return short + " [" + strings.Join(parts, ", ") + "]"
	default:
		return short + " " + shortValue(a)
	}
}

func shortValue(v any) string {
	switch x := v.(type) {
	case *Intrinsic:
		return "(" + x.String() + ")"
	case string:
		return x
	case []any:
		return fmt.Sprintf("[%d items]", len(x))
	case map[string]any:
		return fmt.Sprintf("{%d keys}", len(x))
	default:
		return fmt.Sprint(x)
	}
}

// shortTags maps the YAML short-form tags CloudFormation defines to the
// long-form function names. A tag not in this table is a parse error.
var shortTags = map[string]string{
	"!Ref":          "Ref",
	"!Condition":    "Condition",
	"!Base64":       "Fn::Base64",
	"!Cidr":         "Fn::Cidr",
	"!FindInMap":    "Fn::FindInMap",
	"!GetAtt":       "Fn::GetAtt",
	"!GetAZs":       "Fn::GetAZs",
	"!ImportValue":  "Fn::ImportValue",
	"!Join":         "Fn::Join",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!Sub":          "Fn::Sub",
	"!Transform":    "Fn::Transform",
	"!And":          "Fn::And",
	"!Equals":       "Fn::Equals",
	"!If":           "Fn::If",
	"!Not":          "Fn::Not",
	"!Or":           "Fn::Or",
	"!Length":       "Fn::Length",
	"!ToJsonString": "Fn::ToJsonString",
}

// isIntrinsicKey reports whether a one-key mapping with this key is the long
// form of an intrinsic function. "Condition" is not: as a key it is far more
// often a plain property (IAM statements); condition functions recognise
// {"Condition": name} themselves.
func isIntrinsicKey(k string) bool {
	return k == "Ref" || strings.HasPrefix(k, "Fn::")
}
