package template

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Pseudo holds the values of the AWS pseudo parameters. The zero value of
// each field has a local default, given in its comment.
type Pseudo struct {
	// Region is AWS::Region; default "us-east-1".
	Region string
	// AccountID is AWS::AccountId; default "123456789012", the account the
	// emulators use.
	AccountID string
	// StackName is AWS::StackName; default "latch".
	StackName string
	// StackID is AWS::StackId; default an ARN made of the fields above.
	StackID string
	// Partition is AWS::Partition; default "aws", or "aws-cn" and
	// "aws-us-gov" for regions in those partitions.
	Partition string
	// URLSuffix is AWS::URLSuffix; default "amazonaws.com", or
	// "amazonaws.com.cn" in China.
	URLSuffix string
}

func (p Pseudo) withDefaults() Pseudo {
	if p.Region == "" {
		p.Region = "us-east-1"
	}
	if p.AccountID == "" {
		p.AccountID = "123456789012"
	}
	if p.StackName == "" {
		p.StackName = "latch"
	}
	if p.Partition == "" {
		switch {
		case strings.HasPrefix(p.Region, "cn-"):
			p.Partition = "aws-cn"
		case strings.HasPrefix(p.Region, "us-gov-"):
			p.Partition = "aws-us-gov"
		default:
			p.Partition = "aws"
		}
	}
	if p.URLSuffix == "" {
		p.URLSuffix = "amazonaws.com"
		if p.Partition == "aws-cn" {
			p.URLSuffix = "amazonaws.com.cn"
		}
	}
	if p.StackID == "" {
		p.StackID = fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000",
			p.Partition, p.Region, p.AccountID, p.StackName)
	}
	return p
}

// Physical is what a created resource answers to Ref and Fn::GetAtt: for
// a queue, Ref is its URL and Attrs holds "Arn" and "QueueName".
type Physical struct {
	Ref   string
	Attrs map[string]string
}

// Resolver evaluates intrinsic functions against parameter values, pseudo
// parameters, and the physical values of resources that the caller (the
// provisioner, the local runner) has created. It is safe for concurrent
// use.
type Resolver struct {
	t      *Template
	pseudo Pseudo
	params map[string]string

	mu       sync.RWMutex
	physical map[string]Physical
	conds    map[string]bool
}

// NewResolver returns a resolver for t. params overrides parameter
// defaults by name; a name that is not a parameter of t is an error.
func NewResolver(t *Template, p Pseudo, params map[string]string) (*Resolver, error) {
	for name, v := range params {
		tp, ok := t.Parameters[name]
		if !ok {
			return nil, &Error{Path: "Parameters", Msg: fmt.Sprintf("no parameter named %q", name)}
		}
		if err := checkAllowed(tp, v); err != nil {
			return nil, err
		}
	}
	return &Resolver{
		t:        t,
		pseudo:   p.withDefaults(),
		params:   params,
		physical: map[string]Physical{},
		conds:    map[string]bool{},
	}, nil
}

// Pseudo returns the pseudo parameter values, defaults filled in.
func (r *Resolver) Pseudo() Pseudo { return r.pseudo }

// Set records the physical values of a created resource.
func (r *Resolver) Set(logicalID string, p Physical) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.physical[logicalID] = p
}

// Physical returns the recorded physical values of a resource.
func (r *Resolver) Physical(logicalID string) (Physical, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.physical[logicalID]
	return p, ok
}

// Resolve evaluates every intrinsic function in v and returns the result;
// v is not modified. A property set to !Ref AWS::NoValue disappears from
// its map or list; v itself being AWS::NoValue resolves to nil. path names
// v in error messages.
func (r *Resolver) Resolve(path string, v any) (any, error) {
	out, err := r.resolve(path, v)
	if err != nil {
		return nil, err
	}
	if out == noValue {
		return nil, nil
	}
	return out, nil
}

// ResolveString resolves v and requires a string (numbers and booleans are
// formatted, as CloudFormation does).
func (r *Resolver) ResolveString(path string, v any) (string, error) {
	out, err := r.Resolve(path, v)
	if err != nil {
		return "", err
	}
	s, ok := AsString(out)
	if !ok {
		return "", &Error{Path: path, Msg: fmt.Sprintf("resolves to %s, not a string", describe(out))}
	}
	return s, nil
}

// Properties resolves all of a resource's properties.
func (r *Resolver) Properties(res *Resource) (map[string]any, error) {
	out, err := r.Resolve("Resources."+res.LogicalID+".Properties", res.Properties)
	if err != nil {
		return nil, err
	}
	m, _ := out.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// Enabled reports whether the resource exists under its Condition.
func (r *Resolver) Enabled(res *Resource) (bool, error) {
	if res.Condition == "" {
		return true, nil
	}
	return r.Condition(res.Condition)
}

// Condition evaluates the named condition of the Conditions section.
func (r *Resolver) Condition(name string) (bool, error) {
	return r.condition(name, nil)
}

// Outputs resolves the Outputs section to strings, skipping outputs whose
// condition is false.
func (r *Resolver) Outputs() (map[string]string, error) {
	out := map[string]string{}
	for name, o := range r.t.Outputs {
		if o.Condition != "" {
			ok, err := r.Condition(o.Condition)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		s, err := r.ResolveString("Outputs."+name+".Value", o.Value)
		if err != nil {
			return nil, err
		}
		out[name] = s
	}
	return out, nil
}

type noValueT struct{}

// noValue is what !Ref AWS::NoValue resolves to before its container drops it.
var noValue = noValueT{}

func (r *Resolver) resolve(path string, v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.resolve(join(path, k), e)
			if err != nil {
				return nil, err
			}
			if rv != noValue {
				out[k] = rv
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			rv, err := r.resolve(fmt.Sprintf("%s[%d]", path, i), e)
			if err != nil {
				return nil, err
			}
			if rv != noValue {
				out = append(out, rv)
			}
		}
		return out, nil
	case *Intrinsic:
		out, err := r.eval(path, x)
		if err != nil {
			if _, ok := err.(*Error); ok {
				return nil, err
			}
			return nil, &Error{Path: path, Line: x.Line, Msg: x.String() + ": " + err.Error()}
		}
		return out, nil
	default:
		return v, nil
	}
}

// eval evaluates one intrinsic. Errors it returns as plain errors get the
// function and its place attached by resolve.
func (r *Resolver) eval(path string, in *Intrinsic) (any, error) {
	switch in.Name {
	case "Ref":
		name, ok := in.Arg.(string)
		if !ok {
			return nil, fmt.Errorf("takes a literal name")
		}
		return r.ref(name)
	case "Fn::GetAtt":
		id, attr, err := r.getAttArgs(path, in.Arg)
		if err != nil {
			return nil, err
		}
		return r.getAtt(id, attr)
	case "Fn::Sub":
		return r.sub(path, in.Arg)
	case "Fn::Join":
		args, ok := in.Arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("takes a delimiter and a list")
		}
		delim, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("its delimiter must be a literal string")
		}
		list, err := r.resolveList(path, args[1])
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(list))
		for i, e := range list {
			if parts[i], ok = AsString(e); !ok {
				return nil, fmt.Errorf("element %d is %s, not a string", i, describe(e))
			}
		}
		return strings.Join(parts, delim), nil
	case "Fn::Select":
		args, ok := in.Arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("takes an index and a list")
		}
		iv, err := r.resolve(path, args[0])
		if err != nil {
			return nil, err
		}
		idx, ok := AsInt(iv)
		if !ok {
			return nil, fmt.Errorf("index %s is not an integer", describe(iv))
		}
		list, err := r.resolveList(path, args[1])
		if err != nil {
			return nil, err
		}
		if idx < 0 || idx >= len(list) {
			return nil, fmt.Errorf("index %d is out of range for a list of %d", idx, len(list))
		}
		return list[idx], nil
	case "Fn::Split":
		args, ok := in.Arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("takes a delimiter and a string")
		}
		delim, ok := args[0].(string)
		if !ok || delim == "" {
			return nil, fmt.Errorf("its delimiter must be a non-empty literal string")
		}
		s, err := r.ResolveString(path, args[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, delim) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Base64":
		s, err := r.ResolveString(path, in.Arg)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::FindInMap":
		args, ok := in.Arg.([]any)
		if !ok || len(args) != 3 {
			return nil, fmt.Errorf("takes a map name, a top-level key and a second-level key")
		}
		var keys [3]string
		for i, a := range args {
			s, err := r.ResolveString(path, a)
			if err != nil {
				return nil, err
			}
			keys[i] = s
		}
		m, ok := r.t.Mappings[keys[0]].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("no mapping named %q", keys[0])
		}
		top, ok := m[keys[1]].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("mapping %s has no key %q", keys[0], keys[1])
		}
		v, ok := top[keys[2]]
		if !ok {
			return nil, fmt.Errorf("mapping %s.%s has no key %q", keys[0], keys[1], keys[2])
		}
		return v, nil
	case "Fn::If":
		args, ok := in.Arg.([]any)
		if !ok || len(args) != 3 {
			return nil, fmt.Errorf("takes a condition name and two values")
		}
		name, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("its first argument must name a condition")
		}
		c, err := r.Condition(name)
		if err != nil {
			return nil, err
		}
		if c {
			return r.resolve(path, args[1])
		}
		return r.resolve(path, args[2])
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition":
		return r.evalCondition(path, in, nil)
	}
	if strings.HasPrefix(in.Name, "Fn::") || in.Name == "Ref" {
		return nil, fmt.Errorf("%s is not supported by latch", in.Name)
	}
	return nil, fmt.Errorf("unknown intrinsic function %s", in.Name)
}

func (r *Resolver) resolveList(path string, v any) ([]any, error) {
	out, err := r.resolve(path, v)
	if err != nil {
		return nil, err
	}
	l, ok := out.([]any)
	if !ok {
		return nil, fmt.Errorf("%s is not a list", describe(out))
	}
	return l, nil
}

// ref evaluates Ref: a pseudo parameter, a parameter or a resource.
func (r *Resolver) ref(name string) (any, error) {
	if strings.HasPrefix(name, "AWS::") {
		return r.pseudoValue(name)
	}
	if p, ok := r.t.Parameters[name]; ok {
		return r.paramValue(p)
	}
	res, ok := r.t.Resources[name]
	if !ok {
		return nil, fmt.Errorf("no parameter or resource named %q", name)
	}
	if err := r.checkEnabled(res); err != nil {
		return nil, err
	}
	phys, ok := r.Physical(name)
	if !ok {
		return nil, fmt.Errorf("resource %s (%s) has no local value: latch has not created it", name, res.Type)
	}
	return phys.Ref, nil
}

func (r *Resolver) checkEnabled(res *Resource) error {
	ok, err := r.Enabled(res)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("resource %s does not exist: its condition %s is false", res.LogicalID, res.Condition)
	}
	return nil
}

func (r *Resolver) pseudoValue(name string) (any, error) {
	p := r.pseudo
	switch name {
	case "AWS::Region":
		return p.Region, nil
	case "AWS::AccountId":
		return p.AccountID, nil
	case "AWS::StackName":
		return p.StackName, nil
	case "AWS::StackId":
		return p.StackID, nil
	case "AWS::Partition":
		return p.Partition, nil
	case "AWS::URLSuffix":
		return p.URLSuffix, nil
	case "AWS::NoValue":
		return noValue, nil
	case "AWS::NotificationARNs":
		return []any{}, nil
	}
	return nil, fmt.Errorf("unknown pseudo parameter %s", name)
}

func (r *Resolver) paramValue(p *Parameter) (any, error) {
	s, given := r.params[p.Name]
	if !given {
		if !p.HasDefault {
			return nil, fmt.Errorf("parameter %s has no default and no value was given", p.Name)
		}
		if l, ok := p.Default.([]any); ok && isListType(p.Type) {
			return l, nil
		}
		var ok bool
		if s, ok = AsString(p.Default); !ok {
			return nil, fmt.Errorf("parameter %s has a default that is %s, not a string", p.Name, describe(p.Default))
		}
	}
	if strings.HasPrefix(p.Type, "AWS::SSM::Parameter::") && !given {
		return nil, fmt.Errorf("parameter %s of type %s reads SSM Parameter Store, which latch does not: give its value", p.Name, p.Type)
	}
	if isListType(p.Type) {
		var out []any
		for _, e := range strings.Split(s, ",") {
			out = append(out, strings.TrimSpace(e))
		}
		return out, nil
	}
	return s, nil
}

func isListType(typ string) bool {
	return typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<") ||
		strings.Contains(typ, "<List<") || strings.Contains(typ, "<CommaDelimitedList>")
}

// checkAllowed checks a given parameter value against the parameter's
// constraints, as CloudFormation does before it deploys.
func checkAllowed(p *Parameter, v string) error {
	fail := func(format string, args ...any) error {
		return &Error{Path: "Parameters." + p.Name, Msg: fmt.Sprintf("value %q ", v) + fmt.Sprintf(format, args...)}
	}
	if len(p.AllowedValues) > 0 {
		ok := false
		for _, a := range p.AllowedValues {
			if s, isStr := AsString(a); isStr && s == v {
				ok = true
			}
		}
		if !ok {
			return fail("is not one of its AllowedValues")
		}
	}
	if p.AllowedPattern != "" {
		re, err := regexp.Compile("^(?:" + p.AllowedPattern + ")$")
		if err != nil {
			return &Error{Path: "Parameters." + p.Name + ".AllowedPattern", Msg: err.Error()}
		}
		if !re.MatchString(v) {
			return fail("does not match its AllowedPattern %s", p.AllowedPattern)
		}
	}
	if p.MinLength != nil && len(v) < *p.MinLength {
		return fail("is shorter than its MinLength %d", *p.MinLength)
	}
	if p.MaxLength != nil && len(v) > *p.MaxLength {
		return fail("is longer than its MaxLength %d", *p.MaxLength)
	}
	if p.Type == "Number" || p.MinValue != nil || p.MaxValue != nil {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return fail("is not a number")
		}
		if p.MinValue != nil && f < *p.MinValue {
			return fail("is below its MinValue %v", *p.MinValue)
		}
		if p.MaxValue != nil && f > *p.MaxValue {
			return fail("is above its MaxValue %v", *p.MaxValue)
		}
	}
	return nil
}

func (r *Resolver) getAttArgs(path string, arg any) (string, string, error) {
	switch a := arg.(type) {
	case string:
		id, attr, ok := strings.Cut(a, ".")
		if !ok || id == "" || attr == "" {
			return "", "", fmt.Errorf("takes LogicalId.Attribute")
		}
		return id, attr, nil
	case []any:
		if len(a) != 2 {
			return "", "", fmt.Errorf("takes a logical id and an attribute name")
		}
		id, ok := a[0].(string)
		if !ok {
			return "", "", fmt.Errorf("its logical id must be a literal string")
		}
		attr, err := r.ResolveString(path, a[1])
		if err != nil {
			return "", "", err
		}
		return id, attr, nil
	}
	return "", "", fmt.Errorf("takes LogicalId.Attribute or [LogicalId, Attribute]")
}

func (r *Resolver) getAtt(id, attr string) (any, error) {
	res, ok := r.t.Resources[id]
	if !ok {
		return nil, fmt.Errorf("no resource named %q", id)
	}
	if err := r.checkEnabled(res); err != nil {
		return nil, err
	}
	phys, ok := r.Physical(id)
	if !ok {
		return nil, fmt.Errorf("resource %s (%s) has no local value: latch has not created it", id, res.Type)
	}
	v, ok := phys.Attrs[attr]
	if !ok {
		known := make([]string, 0, len(phys.Attrs))
		for k := range phys.Attrs {
			known = append(known, k)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("resource %s has no attribute %s locally (it has: %s)", id, attr, strings.Join(known, ", "))
	}
	return v, nil
}

func (r *Resolver) sub(path string, arg any) (any, error) {
	s, vars, err := subArgs(arg)
	if err != nil {
		return nil, err
	}
	parts, err := parseSub(s)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, p := range parts {
		if !p.isVar {
			b.WriteString(p.text)
			continue
		}
		var v any
		if raw, ok := vars[p.text]; ok {
			if v, err = r.resolve(join(path, p.text), raw); err != nil {
				return nil, err
			}
		} else if id, attr, dotted := strings.Cut(p.text, "."); dotted && !strings.HasPrefix(p.text, "AWS::") {
			if v, err = r.getAtt(id, attr); err != nil {
				return nil, err
			}
		} else if v, err = r.ref(p.text); err != nil {
			return nil, err
		}
		str, ok := AsString(v)
		if !ok {
			return nil, fmt.Errorf("${%s} is %s, not a string", p.text, describe(v))
		}
		b.WriteString(str)
	}
	return b.String(), nil
}

// condition evaluates a named condition; seen guards against cycles.
func (r *Resolver) condition(name string, seen []string) (bool, error) {
	r.mu.RLock()
	v, done := r.conds[name]
	r.mu.RUnlock()
	if done {
		return v, nil
	}
	def, ok := r.t.Conditions[name]
	if !ok {
		return false, &Error{Path: "Conditions", Msg: fmt.Sprintf("no condition named %q", name)}
	}
	for _, s := range seen {
		if s == name {
			return false, &Error{Path: "Conditions." + name, Msg: "condition refers to itself: " + strings.Join(append(seen, name), " -> ")}
		}
	}
	in, ok := def.(*Intrinsic)
	if !ok {
		return false, &Error{Path: "Conditions." + name, Msg: "must be a condition function (Fn::Equals, Fn::And, ...)"}
	}
	out, err := r.evalCondition("Conditions."+name, in, append(seen, name))
	if err != nil {
		if _, ok := err.(*Error); !ok {
			err = &Error{Path: "Conditions." + name, Line: in.Line, Msg: in.String() + ": " + err.Error()}
		}
		return false, err
	}
	r.mu.Lock()
	r.conds[name] = out
	r.mu.Unlock()
	return out, nil
}

// evalCondition evaluates a condition function to a bool.
func (r *Resolver) evalCondition(path string, in *Intrinsic, seen []string) (bool, error) {
	switch in.Name {
	case "Condition":
		name, ok := in.Arg.(string)
		if !ok {
			return false, fmt.Errorf("must name a condition")
		}
		return r.condition(name, seen)
	case "Fn::Equals":
		args, ok := in.Arg.([]any)
		if !ok || len(args) != 2 {
			return false, fmt.Errorf("takes two values")
		}
		var s [2]string
		for i, a := range args {
			v, err := r.resolve(path, a)
			if err != nil {
				return false, err
			}
			if s[i], ok = AsString(v); !ok {
				return false, fmt.Errorf("compares %s, not a string", describe(v))
			}
		}
		return s[0] == s[1], nil
	case "Fn::Not", "Fn::And", "Fn::Or":
		args, ok := in.Arg.([]any)
		if !ok || len(args) == 0 || in.Name == "Fn::Not" && len(args) != 1 {
			return false, fmt.Errorf("takes a list of conditions")
		}
		vals := make([]bool, len(args))
		for i, a := range args {
			v, err := r.conditionValue(path, a, seen)
			if err != nil {
				return false, err
			}
			vals[i] = v
		}
		switch in.Name {
		case "Fn::Not":
			return !vals[0], nil
		case "Fn::And":
			for _, v := range vals {
				if !v {
					return false, nil
				}
			}
			return true, nil
		default:
			for _, v := range vals {
				if v {
					return true, nil
				}
			}
			return false, nil
		}
	}
	return false, fmt.Errorf("%s is not a condition function", in.Name)
}

// conditionValue evaluates an argument of Fn::And, Fn::Or or Fn::Not: a
// condition function, or {"Condition": name} in long form.
func (r *Resolver) conditionValue(path string, v any, seen []string) (bool, error) {
	switch x := v.(type) {
	case *Intrinsic:
		return r.evalCondition(path, x, seen)
	case map[string]any:
		if name, ok := x["Condition"].(string); ok && len(x) == 1 {
			return r.condition(name, seen)
		}
	}
	return false, fmt.Errorf("%s is not a condition", describe(v))
}

// describe names a value's kind for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case noValueT:
		return "AWS::NoValue"
	case string:
		return fmt.Sprintf("the string %q", x)
	case []any:
		return fmt.Sprintf("a list of %d", len(x))
	case map[string]any:
		return "a map"
	case *Intrinsic:
		return x.String()
	default:
		return fmt.Sprintf("%T %v", v, v)
	}
}
