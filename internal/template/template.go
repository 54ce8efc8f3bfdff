package template

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ServerlessTransform is the SAM transform, the only one latch reads.
const ServerlessTransform = "AWS::Serverless-2016-10-31"

// Resource types latch knows by name.
const (
	TypeServerlessFunction = "AWS::Serverless::Function"
	TypeSimpleTable        = "AWS::Serverless::SimpleTable"
	TypeLambdaFunction     = "AWS::Lambda::Function"
	TypeDynamoDBTable      = "AWS::DynamoDB::Table"
	TypeSQSQueue           = "AWS::SQS::Queue"
	TypeEventBus           = "AWS::Events::EventBus"
	TypeEventRule          = "AWS::Events::Rule"
)

// Template is a parsed SAM or CloudFormation template. Values inside it are
// nil, string, bool, int, float64, []any, map[string]any or *Intrinsic;
// intrinsics stay unevaluated until a Resolver evaluates them.
type Template struct {
	FormatVersion string
	Description   string
	Transforms    []string
	Parameters    map[string]*Parameter
	Mappings      map[string]any
	Conditions    map[string]any
	// Globals is the SAM Globals section as written, by section name
	// ("Function", "SimpleTable", ...). It is already merged into the
	// resources it applies to.
	Globals   map[string]map[string]any
	Resources map[string]*Resource
	Outputs   map[string]*Output

	order []string // resource logical ids in file order
}

// Resource is one entry of the Resources section.
type Resource struct {
	LogicalID string
	Type      string
	// Properties are the resource's properties; for SAM resources, with the
	// matching Globals section merged in under SAM's rules. Never nil.
	Properties map[string]any
	DependsOn  []string
	// Condition names the condition that decides whether the resource
	// exists; empty when it always does.
	Condition string
	Metadata  map[string]any
	// Line is where the resource starts in the template.
	Line int
}

// Parameter is one entry of the Parameters section.
type Parameter struct {
	Name string
	Type string
	// Default is the default value; HasDefault says whether there is one,
	// since an empty string is a valid default.
	Default       any
	HasDefault    bool
	AllowedValues []any
	// AllowedPattern, MinLength, MaxLength, MinValue and MaxValue constrain
	// a value given for the parameter; nil or empty when unset.
	AllowedPattern       string
	MinLength, MaxLength *int
	MinValue, MaxValue   *float64
	Description          string
}

// Output is one entry of the Outputs section.
type Output struct {
	Name        string
	Description string
	Value       any
	Export      any
	Condition   string
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// MustParse is Parse for templates known to be valid, such as test fixtures.
// It panics on error.
func MustParse(data []byte) *Template {
	t, err := Parse(data)
	if err != nil {
		panic(err)
	}
	return t
}

var topLevel = map[string]bool{
	"AWSTemplateFormatVersion": true, "Description": true, "Metadata": true,
	"Parameters": true, "Mappings": true, "Conditions": true, "Transform": true,
	"Resources": true, "Outputs": true, "Globals": true,
}

var resourceKeys = map[string]bool{
	"Type": true, "Properties": true, "DependsOn": true, "Condition": true,
	"Metadata": true, "DeletionPolicy": true, "UpdateReplacePolicy": true,
	"UpdatePolicy": true, "CreationPolicy": true,
}

// Parse parses a SAM or CloudFormation template in YAML (or JSON, which is
// YAML). Constructs latch cannot honour — an unknown tag, a transform other
// than SAM's, a section it does not know — are errors, never skipped.
func Parse(data []byte) (*Template, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, &Error{Msg: "not valid YAML: " + err.Error()}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{Line: extra.Line, Msg: "more than one YAML document"}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Line: root.Line, Msg: "a template is a mapping of sections"}
	}
	t := &Template{
		Parameters: map[string]*Parameter{},
		Mappings:   map[string]any{},
		Conditions: map[string]any{},
		Globals:    map[string]map[string]any{},
		Resources:  map[string]*Resource{},
		Outputs:    map[string]*Output{},
	}
	sections := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if !topLevel[k.Value] {
			if k.Value == "Rules" {
				return nil, &Error{Path: k.Value, Line: k.Line, Msg: "the Rules section is not supported by latch"}
			}
			return nil, &Error{Path: k.Value, Line: k.Line, Msg: "unknown top-level section"}
		}
		if _, dup := sections[k.Value]; dup {
			return nil, &Error{Path: k.Value, Line: k.Line, Msg: "duplicate section"}
		}
		sections[k.Value] = root.Content[i+1]
	}
	if err := t.parseHeader(sections); err != nil {
		return nil, err
	}
	if err := t.parseParameters(sections["Parameters"]); err != nil {
		return nil, err
	}
	for _, name := range []string{"Mappings", "Conditions"} {
		m, err := sectionMap(sections[name], name)
		if err != nil {
			return nil, err
		}
		if name == "Mappings" {
			t.Mappings = m
		} else {
			t.Conditions = m
		}
	}
	if err := t.parseGlobals(sections["Globals"]); err != nil {
		return nil, err
	}
	if err := t.parseResources(sections["Resources"]); err != nil {
		return nil, err
	}
	if err := t.parseOutputs(sections["Outputs"]); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Template) parseHeader(sections map[string]*yaml.Node) error {
	for name, dst := range map[string]*string{"AWSTemplateFormatVersion": &t.FormatVersion, "Description": &t.Description} {
		n := sections[name]
		if n == nil {
			continue
		}
		v, err := decodeNode(n, name)
		if err != nil {
			return err
		}
		s, ok := v.(string)
		if !ok {
			return &Error{Path: name, Line: n.Line, Msg: "must be a string"}
		}
		*dst = s
	}
	if n := sections["Transform"]; n != nil {
		v, err := decodeNode(n, "Transform")
		if err != nil {
			return err
		}
		switch x := v.(type) {
		case string:
			t.Transforms = []string{x}
		case []any:
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return &Error{Path: "Transform", Line: n.Line, Msg: "latch reads only transforms named by a string"}
				}
				t.Transforms = append(t.Transforms, s)
			}
		default:
			return &Error{Path: "Transform", Line: n.Line, Msg: "must be a string or a list of strings"}
		}
		for _, tr := range t.Transforms {
			if tr != ServerlessTransform {
				return &Error{Path: "Transform", Line: n.Line, Msg: fmt.Sprintf("transform %s is not supported by latch (only %s)", tr, ServerlessTransform)}
			}
		}
	}
	return nil
}

// sectionMap decodes a top-level section that must be a mapping.
func sectionMap(n *yaml.Node, name string) (map[string]any, error) {
	if n == nil {
		return map[string]any{}, nil
	}
	v, err := decodeNode(n, name)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Path: name, Line: n.Line, Msg: "must be a mapping"}
	}
	return m, nil
}

// entries yields the key nodes and value nodes of a mapping section.
func entries(n *yaml.Node, name string) ([][2]*yaml.Node, error) {
	if n == nil {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, &Error{Path: name, Line: n.Line, Msg: "must be a mapping"}
	}
	var out [][2]*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if seen[k.Value] {
			return nil, &Error{Path: join(name, k.Value), Line: k.Line, Msg: "duplicate key"}
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, n.Content[i+1]})
	}
	return out, nil
}

func (t *Template) parseParameters(n *yaml.Node) error {
	es, err := entries(n, "Parameters")
	if err != nil {
		return err
	}
	for _, e := range es {
		name, path := e[0].Value, "Parameters."+e[0].Value
		v, err := decodeNode(e[1], path)
		if err != nil {
			return err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return &Error{Path: path, Line: e[1].Line, Msg: "must be a mapping"}
		}
		p := &Parameter{Name: name}
		p.Type, _ = m["Type"].(string)
		if p.Type == "" {
			return &Error{Path: path, Line: e[1].Line, Msg: "has no Type"}
		}
		p.Default, p.HasDefault = m["Default"]
		p.Description, _ = m["Description"].(string)
		if av, ok := m["AllowedValues"].([]any); ok {
			p.AllowedValues = av
		}
		p.AllowedPattern, _ = m["AllowedPattern"].(string)
		for key, dst := range map[string]**int{"MinLength": &p.MinLength, "MaxLength": &p.MaxLength} {
			if v, ok := m[key]; ok {
				n, ok := AsInt(v)
				if !ok {
					return &Error{Path: path + "." + key, Line: e[1].Line, Msg: "must be an integer"}
				}
				*dst = &n
			}
		}
		for key, dst := range map[string]**float64{"MinValue": &p.MinValue, "MaxValue": &p.MaxValue} {
			if v, ok := m[key]; ok {
				s, _ := AsString(v)
				f, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return &Error{Path: path + "." + key, Line: e[1].Line, Msg: "must be a number"}
				}
				*dst = &f
			}
		}
		t.Parameters[name] = p
	}
	return nil
}

// globalSections maps each SAM Globals section to the resource type it
// applies to.
var globalSections = map[string]string{
	"Function":     TypeServerlessFunction,
	"Api":          "AWS::Serverless::Api",
	"HttpApi":      "AWS::Serverless::HttpApi",
	"SimpleTable":  TypeSimpleTable,
	"StateMachine": "AWS::Serverless::StateMachine",
	"LayerVersion": "AWS::Serverless::LayerVersion",
}

func (t *Template) parseGlobals(n *yaml.Node) error {
	if n == nil {
		return nil
	}
	m, err := sectionMap(n, "Globals")
	if err != nil {
		return err
	}
	for section, v := range m {
		if _, ok := globalSections[section]; !ok {
			return &Error{Path: "Globals." + section, Line: n.Line, Msg: "unknown Globals section"}
		}
		props, ok := v.(map[string]any)
		if !ok {
			return &Error{Path: "Globals." + section, Line: n.Line, Msg: "must be a mapping"}
		}
		t.Globals[section] = props
	}
	return nil
}

func (t *Template) parseResources(n *yaml.Node) error {
	if n == nil {
		return &Error{Msg: "no Resources section"}
	}
	es, err := entries(n, "Resources")
	if err != nil {
		return err
	}
	for _, e := range es {
		id, path := e[0].Value, "Resources."+e[0].Value
		if strings.HasPrefix(id, "Fn::") {
			return &Error{Path: path, Line: e[0].Line, Msg: id + " is not supported by latch"}
		}
		if !validLogicalID(id) {
			return &Error{Path: path, Line: e[0].Line, Msg: "a logical id is alphanumeric"}
		}
		v, err := decodeNode(e[1], path)
		if err != nil {
			return err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return &Error{Path: path, Line: e[1].Line, Msg: "must be a mapping"}
		}
		for k := range m {
			if !resourceKeys[k] {
				return &Error{Path: join(path, k), Line: e[1].Line, Msg: "unknown resource attribute"}
			}
		}
		r := &Resource{LogicalID: id, Line: e[0].Line, Properties: map[string]any{}}
		if r.Type, ok = m["Type"].(string); !ok || r.Type == "" {
			return &Error{Path: path + ".Type", Line: e[1].Line, Msg: "missing or not a string"}
		}
		if p, present := m["Properties"]; present && p != nil {
			props, ok := p.(map[string]any)
			if !ok {
				return &Error{Path: path + ".Properties", Line: e[1].Line, Msg: "must be a mapping"}
			}
			r.Properties = props
		}
		switch d := m["DependsOn"].(type) {
		case nil:
		case string:
			r.DependsOn = []string{d}
		case []any:
			for _, x := range d {
				s, ok := x.(string)
				if !ok {
					return &Error{Path: path + ".DependsOn", Line: e[1].Line, Msg: "must list logical ids"}
				}
				r.DependsOn = append(r.DependsOn, s)
			}
		default:
			return &Error{Path: path + ".DependsOn", Line: e[1].Line, Msg: "must be a logical id or a list of them"}
		}
		if c, present := m["Condition"]; present {
			if r.Condition, ok = c.(string); !ok {
				return &Error{Path: path + ".Condition", Line: e[1].Line, Msg: "must name a condition"}
			}
			if _, ok := t.Conditions[r.Condition]; !ok {
				return &Error{Path: path + ".Condition", Line: e[1].Line, Msg: fmt.Sprintf("no condition named %q", r.Condition)}
			}
		}
		r.Metadata, _ = m["Metadata"].(map[string]any)
		for section, typ := range globalSections {
			if typ == r.Type && t.Globals[section] != nil {
				r.Properties = mergeGlobals(t.Globals[section], r.Properties)
			}
		}
		t.Resources[id] = r
		t.order = append(t.order, id)
	}
	for _, id := range t.order {
		for _, d := range t.Resources[id].DependsOn {
			if _, ok := t.Resources[d]; !ok {
				return &Error{Path: "Resources." + id + ".DependsOn", Line: t.Resources[id].Line, Msg: fmt.Sprintf("no resource named %q", d)}
			}
		}
	}
	return nil
}

func (t *Template) parseOutputs(n *yaml.Node) error {
	es, err := entries(n, "Outputs")
	if err != nil {
		return err
	}
	for _, e := range es {
		path := "Outputs." + e[0].Value
		v, err := decodeNode(e[1], path)
		if err != nil {
			return err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return &Error{Path: path, Line: e[1].Line, Msg: "must be a mapping"}
		}
		o := &Output{Name: e[0].Value, Value: m["Value"], Export: m["Export"]}
		o.Description, _ = m["Description"].(string)
		o.Condition, _ = m["Condition"].(string)
		t.Outputs[o.Name] = o
	}
	return nil
}

func validLogicalID(id string) bool {
	if id == "" {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// ResourceIDs returns the logical ids of all resources in template order.
func (t *Template) ResourceIDs() []string {
	return append([]string(nil), t.order...)
}

// Resource returns the resource with the logical id, or nil.
func (t *Template) Resource(id string) *Resource { return t.Resources[id] }

// ResourcesOfType returns the resources of the given types, in template
// order.
func (t *Template) ResourcesOfType(types ...string) []*Resource {
	var out []*Resource
	for _, id := range t.order {
		r := t.Resources[id]
		for _, typ := range types {
			if r.Type == typ {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// Functions returns the SAM and plain Lambda functions, in template order.
func (t *Template) Functions() []*Resource {
	return t.ResourcesOfType(TypeServerlessFunction, TypeLambdaFunction)
}

// Property returns the value at path inside the resource's properties:
// r.Property("Environment", "Variables", "TABLE").
func (r *Resource) Property(path ...string) (any, bool) {
	var v any = r.Properties
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// Event is one entry of a SAM function's Events property.
type Event struct {
	// Name is the event's key under Events.
	Name string
	// Type is the event source type: "SQS", "Schedule", "EventBridgeRule", ...
	Type string
	// Properties are the event's properties as written, never nil.
	Properties map[string]any
}

// Events returns the SAM function's event sources sorted by name; none for
// other resource types.
func (r *Resource) Events() ([]Event, error) {
	raw, ok := r.Properties["Events"]
	if !ok || r.Type != TypeServerlessFunction {
		return nil, nil
	}
	path := "Resources." + r.LogicalID + ".Properties.Events"
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, &Error{Path: path, Line: r.Line, Msg: "must be a mapping"}
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]Event, 0, len(names))
	for _, name := range names {
		em, ok := m[name].(map[string]any)
		if !ok {
			return nil, &Error{Path: join(path, name), Line: r.Line, Msg: "must be a mapping"}
		}
		ev := Event{Name: name, Properties: map[string]any{}}
		if ev.Type, ok = em["Type"].(string); !ok {
			return nil, &Error{Path: join(path, name) + ".Type", Line: r.Line, Msg: "missing or not a string"}
		}
		if p, ok := em["Properties"].(map[string]any); ok {
			ev.Properties = p
		}
		out = append(out, ev)
	}
	return out, nil
}
