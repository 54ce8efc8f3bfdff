package provision

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/latchkit/latch/internal/template"
)

// props reads one resource's properties, resolving each only when it is
// read, so a property latch does not apply locally (a KMS key, an IAM role)
// never needs a local value. Every property must be read, noted as not
// applied, or it is an error: nothing in a template is dropped silently.
type props struct {
	res    *template.Resource
	prefix string // path of the property map, for errors
	r      *template.Resolver
	raw    map[string]any
	seen   map[string]bool
	notes  *[]Note
}

func newProps(res *template.Resource, r *template.Resolver, raw map[string]any, notes *[]Note) *props {
	if raw == nil {
		raw = res.Properties
	}
	return &props{res: res, prefix: "Resources." + res.LogicalID + ".Properties", r: r, raw: raw, seen: map[string]bool{}, notes: notes}
}

// newEventProps reads the properties of a SAM function's event.
func newEventProps(fn *template.Resource, ev template.Event, r *template.Resolver, notes *[]Note) *props {
	p := newProps(fn, r, ev.Properties, notes)
	p.prefix += ".Events." + ev.Name + ".Properties"
	return p
}

func (p *props) path(key string) string {
	return p.prefix + "." + key
}

func (p *props) errorf(key, format string, args ...any) error {
	return &template.Error{Path: p.path(key), Line: p.res.Line, Msg: fmt.Sprintf(format, args...)}
}

// get resolves a property; ok is false when it is absent (or AWS::NoValue).
func (p *props) get(key string) (any, bool, error) {
	p.seen[key] = true
	raw, ok := p.raw[key]
	if !ok {
		return nil, false, nil
	}
	v, err := p.r.Resolve(p.path(key), raw)
	if err != nil {
		return nil, false, err
	}
	return v, v != nil, nil
}

func (p *props) str(key string) (string, bool, error) {
	v, ok, err := p.get(key)
	if !ok || err != nil {
		return "", false, err
	}
	s, isStr := template.AsString(v)
	if !isStr {
		return "", false, p.errorf(key, "must be a string, not %T", v)
	}
	return s, true, nil
}

func (p *props) int(key string) (int, bool, error) {
	v, ok, err := p.get(key)
	if !ok || err != nil {
		return 0, false, err
	}
	n, isInt := template.AsInt(v)
	if !isInt {
		return 0, false, p.errorf(key, "must be an integer, not %v", v)
	}
	return n, true, nil
}

func (p *props) bool(key string) (bool, bool, error) {
	v, ok, err := p.get(key)
	if !ok || err != nil {
		return false, false, err
	}
	b, isBool := template.AsBool(v)
	if !isBool {
		return false, false, p.errorf(key, "must be true or false, not %v", v)
	}
	return b, true, nil
}

// jsonDoc reads a property that CloudFormation accepts either as a JSON
// object or as a string holding one, and returns it as a JSON string.
func (p *props) jsonDoc(key string) (string, bool, error) {
	v, ok, err := p.get(key)
	if !ok || err != nil {
		return "", false, err
	}
	if s, isStr := v.(string); isStr {
		if !json.Valid([]byte(s)) {
			return "", false, p.errorf(key, "is a string but not JSON")
		}
		return s, true, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false, p.errorf(key, "cannot be JSON: %v", err)
	}
	return string(b), true, nil
}

// tags reads a CloudFormation tag list [{Key, Value}] or a SAM tag map.
func (p *props) tags(key string) (map[string]string, error) {
	v, ok, err := p.get(key)
	if !ok || err != nil {
		return nil, err
	}
	out := map[string]string{}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			m, _ := e.(map[string]any)
			k, kok := template.AsString(m["Key"])
			val, vok := template.AsString(m["Value"])
			if !kok || !vok {
				return nil, p.errorf(key, "a tag is {Key, Value}")
			}
			out[k] = val
		}
	case map[string]any:
		for k, e := range x {
			s, ok := template.AsString(e)
			if !ok {
				return nil, p.errorf(key, "tag %s is not a string", k)
			}
			out[k] = s
		}
	default:
		return nil, p.errorf(key, "must be a list of {Key, Value} or a map")
	}
	return out, nil
}

// notApplied marks properties that have no local meaning; each one present
// becomes a Note.
func (p *props) notApplied(why string, keys ...string) {
	for _, k := range keys {
		p.seen[k] = true
		if _, ok := p.raw[k]; ok {
			*p.notes = append(*p.notes, Note{LogicalID: p.res.LogicalID, Property: strings.TrimPrefix(p.path(k), "Resources."+p.res.LogicalID+".Properties."), Reason: why})
		}
	}
}

// done fails on properties nobody read: latch does not know them.
func (p *props) done() error {
	var unknown []string
	for k := range p.raw {
		if !p.seen[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return p.errorf(unknown[0], "property %s of %s is not supported by latch", unknown[0], p.res.Type)
}
