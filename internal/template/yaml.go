package template

import (
	"fmt"
	"math"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decodeNode turns a YAML node into a template value: nil, string, bool,
// int, float64, []any, map[string]any or *Intrinsic. path names the node
// for errors ("Resources.Queue.Properties").
func decodeNode(n *yaml.Node, path string) (any, error) {
	if n.Kind == yaml.AliasNode {
		return decodeNode(n.Alias, path)
	}
	if name, ok := shortTags[n.Tag]; ok {
		arg, err := decodeUntagged(n, path)
		if err != nil {
			return nil, err
		}
		return &Intrinsic{Name: name, Arg: arg, Line: n.Line, Column: n.Column}, nil
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, &Error{Path: path, Line: n.Line, Msg: fmt.Sprintf("unknown YAML tag %s (CloudFormation short forms are !Ref, !GetAtt, !Sub, !Join, ...)", n.Tag)}
	}
	v, err := decodeUntagged(n, path)
	if err != nil {
		return nil, err
	}
	// The long form of an intrinsic: a mapping with one key, "Ref" or "Fn::…".
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for k, arg := range m {
			if isIntrinsicKey(k) {
				return &Intrinsic{Name: k, Arg: arg, Line: n.Line, Column: n.Column}, nil
			}
		}
	}
	return v, nil
}

// decodeUntagged decodes a node by its kind, ignoring a short-form tag.
func decodeUntagged(n *yaml.Node, path string) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return decodeNode(n.Content[0], path)
	case yaml.AliasNode:
		return decodeNode(n.Alias, path)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			if kn.Kind != yaml.ScalarNode {
				return nil, &Error{Path: path, Line: kn.Line, Msg: "mapping key is not a scalar"}
			}
			k := kn.Value
			if kn.ShortTag() == "!!merge" {
				return nil, &Error{Path: path, Line: kn.Line, Msg: "YAML merge keys (<<) are not supported: CloudFormation does not accept them"}
			}
			if _, dup := m[k]; dup {
				return nil, &Error{Path: path, Line: kn.Line, Msg: fmt.Sprintf("duplicate key %q", k)}
			}
			v, err := decodeNode(vn, join(path, k))
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			v, err := decodeNode(c, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		return decodeScalar(n, path)
	}
	return nil, &Error{Path: path, Line: n.Line, Msg: fmt.Sprintf("unexpected YAML node kind %d", n.Kind)}
}

func decodeScalar(n *yaml.Node, path string) (any, error) {
	if _, short := shortTags[n.Tag]; short {
		// A tagged scalar such as !Ref X: its value is a string whatever it
		// looks like (!Ref 1 names the parameter "1").
		return n.Value, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, &Error{Path: path, Line: n.Line, Msg: err.Error()}
	}
	switch x := v.(type) {
	case int64:
		if x >= math.MinInt && x <= math.MaxInt {
			return int(x), nil
		}
	case uint64:
		if x <= math.MaxInt {
			return int(x), nil
		}
		return float64(x), nil
	}
	return v, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
