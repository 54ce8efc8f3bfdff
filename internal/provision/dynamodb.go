package provision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/latchkit/latch/internal/template"
)

// tableSpec is a table as the template declares it.
type tableSpec struct {
	input *dynamodb.CreateTableInput
	ttl   string // TTL attribute, "" for none
}

func (p *Provisioner) table(ctx context.Context, rs *template.Resource, r *template.Resolver, res *Result) (Resource, error) {
	spec, err := readTable(rs, r, &res.Notes)
	if err != nil {
		return Resource{}, err
	}
	return p.ensureTable(ctx, rs, spec)
}

func (p *Provisioner) simpleTable(ctx context.Context, rs *template.Resource, r *template.Resolver, res *Result) (Resource, error) {
	spec, err := readSimpleTable(rs, r, &res.Notes)
	if err != nil {
		return Resource{}, err
	}
	return p.ensureTable(ctx, rs, spec)
}

func tableName(p *props, r *template.Resolver, rs *template.Resource) (string, error) {
	name, ok, err := p.str("TableName")
	if err != nil || ok {
		return name, err
	}
	return physicalName(r.Pseudo().StackName, rs.LogicalID, "", 255), nil
}

func readTable(rs *template.Resource, r *template.Resolver, notes *[]Note) (tableSpec, error) {
	p := newProps(rs, r, nil, notes)
	in := &dynamodb.CreateTableInput{}
	name, err := tableName(p, r, rs)
	if err != nil {
		return tableSpec{}, err
	}
	in.TableName = aws.String(name)
	if v, ok, err := p.get("AttributeDefinitions"); err != nil {
		return tableSpec{}, err
	} else if ok {
		if in.AttributeDefinitions, err = attributeDefinitions(v); err != nil {
			return tableSpec{}, p.errorf("AttributeDefinitions", "%v", err)
		}
	}
	v, ok, err := p.get("KeySchema")
	if err != nil {
		return tableSpec{}, err
	}
	if !ok {
		return tableSpec{}, p.errorf("KeySchema", "is required")
	}
	if in.KeySchema, err = keySchema(v); err != nil {
		return tableSpec{}, p.errorf("KeySchema", "%v", err)
	}
	billing, _, err := p.str("BillingMode")
	if err != nil {
		return tableSpec{}, err
	}
	in.BillingMode = types.BillingModePayPerRequest
	if billing == string(types.BillingModeProvisioned) {
		in.BillingMode = types.BillingModeProvisioned
	}
	if v, ok, err := p.get("ProvisionedThroughput"); err != nil {
		return tableSpec{}, err
	} else if ok {
		if in.ProvisionedThroughput, err = throughput(v); err != nil {
			return tableSpec{}, p.errorf("ProvisionedThroughput", "%v", err)
		}
		if billing == "" {
			in.BillingMode = types.BillingModeProvisioned
		}
	}
	if in.BillingMode == types.BillingModeProvisioned && in.ProvisionedThroughput == nil {
		return tableSpec{}, p.errorf("ProvisionedThroughput", "is required with BillingMode PROVISIONED")
	}
	if v, ok, err := p.get("GlobalSecondaryIndexes"); err != nil {
		return tableSpec{}, err
	} else if ok {
		if in.GlobalSecondaryIndexes, err = globalIndexes(v, in.BillingMode); err != nil {
			return tableSpec{}, p.errorf("GlobalSecondaryIndexes", "%v", err)
		}
	}
	if v, ok, err := p.get("LocalSecondaryIndexes"); err != nil {
		return tableSpec{}, err
	} else if ok {
		if in.LocalSecondaryIndexes, err = localIndexes(v); err != nil {
			return tableSpec{}, p.errorf("LocalSecondaryIndexes", "%v", err)
		}
	}
	if v, ok, err := p.get("StreamSpecification"); err != nil {
		return tableSpec{}, err
	} else if ok {
		m, _ := v.(map[string]any)
		view, _ := template.AsString(m["StreamViewType"])
		if view == "" {
			return tableSpec{}, p.errorf("StreamSpecification", "StreamViewType is required")
		}
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(view)}
	}
	spec := tableSpec{input: in}
	if v, ok, err := p.get("TimeToLiveSpecification"); err != nil {
		return tableSpec{}, err
	} else if ok {
		m, _ := v.(map[string]any)
		enabled, _ := template.AsBool(m["Enabled"])
		attr, _ := template.AsString(m["AttributeName"])
		if enabled {
			if attr == "" {
				return tableSpec{}, p.errorf("TimeToLiveSpecification", "AttributeName is required when Enabled")
			}
			spec.ttl = attr
		}
	}
	tags, err := p.tags("Tags")
	if err != nil {
		return tableSpec{}, err
	}
	in.Tags = ddbTags(tags)
	p.notApplied("no KMS locally: DynamoDB Local stores data unencrypted", "SSESpecification")
	p.notApplied("no backups locally", "PointInTimeRecoverySpecification")
	p.notApplied("the local table can always be deleted", "DeletionProtectionEnabled")
	p.notApplied("no such setting in DynamoDB Local", "TableClass", "ContributorInsightsSpecification",
		"OnDemandThroughput", "WarmThroughput", "ResourcePolicy", "KinesisStreamSpecification")
	if _, ok := p.raw["ImportSourceSpecification"]; ok {
		return tableSpec{}, p.errorf("ImportSourceSpecification", "importing from S3 is not supported by latch")
	}
	return spec, p.done()
}

// readSimpleTable reads AWS::Serverless::SimpleTable: a partition key
// (default "id", String), on-demand unless ProvisionedThroughput is given.
func readSimpleTable(rs *template.Resource, r *template.Resolver, notes *[]Note) (tableSpec, error) {
	p := newProps(rs, r, nil, notes)
	name, err := tableName(p, r, rs)
	if err != nil {
		return tableSpec{}, err
	}
	key, typ := "id", types.ScalarAttributeTypeS
	if v, ok, err := p.get("PrimaryKey"); err != nil {
		return tableSpec{}, err
	} else if ok {
		m, _ := v.(map[string]any)
		if n, ok := template.AsString(m["Name"]); ok {
			key = n
		}
		if t, ok := template.AsString(m["Type"]); ok {
			switch t {
			case "String":
			case "Number":
				typ = types.ScalarAttributeTypeN
			case "Binary":
				typ = types.ScalarAttributeTypeB
			default:
				return tableSpec{}, p.errorf("PrimaryKey", "Type must be String, Number or Binary, not %q", t)
			}
		}
	}
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(key), AttributeType: typ}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(key), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}
	if v, ok, err := p.get("ProvisionedThroughput"); err != nil {
		return tableSpec{}, err
	} else if ok {
		if in.ProvisionedThroughput, err = throughput(v); err != nil {
			return tableSpec{}, p.errorf("ProvisionedThroughput", "%v", err)
		}
		in.BillingMode = types.BillingModeProvisioned
	}
	tags, err := p.tags("Tags")
	if err != nil {
		return tableSpec{}, err
	}
	in.Tags = ddbTags(tags)
	p.notApplied("no KMS locally: DynamoDB Local stores data unencrypted", "SSESpecification")
	p.notApplied("no backups locally", "PointInTimeRecoverySpecification")
	return tableSpec{input: in}, p.done()
}

func ddbTags(tags map[string]string) []types.Tag {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []types.Tag
	for _, k := range keys {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

func list(v any) ([]map[string]any, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be a list")
	}
	out := make([]map[string]any, len(l))
	for i, e := range l {
		if out[i], ok = e.(map[string]any); !ok {
			return nil, fmt.Errorf("entry %d must be a map", i)
		}
	}
	return out, nil
}

func str(m map[string]any, key string) (string, error) {
	s, ok := template.AsString(m[key])
	if !ok || s == "" {
		return "", fmt.Errorf("%s is required", key)
	}
	return s, nil
}

func attributeDefinitions(v any) ([]types.AttributeDefinition, error) {
	l, err := list(v)
	if err != nil {
		return nil, err
	}
	var out []types.AttributeDefinition
	for _, m := range l {
		name, err := str(m, "AttributeName")
		if err != nil {
			return nil, err
		}
		typ, err := str(m, "AttributeType")
		if err != nil {
			return nil, err
		}
		if typ != "S" && typ != "N" && typ != "B" {
			return nil, fmt.Errorf("AttributeType of %s must be S, N or B, not %q", name, typ)
		}
		out = append(out, types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeType(typ)})
	}
	return out, nil
}

func keySchema(v any) ([]types.KeySchemaElement, error) {
	l, err := list(v)
	if err != nil {
		return nil, err
	}
	if len(l) == 0 || len(l) > 2 {
		return nil, fmt.Errorf("a key schema has a HASH key and at most one RANGE key")
	}
	var out []types.KeySchemaElement
	for _, m := range l {
		name, err := str(m, "AttributeName")
		if err != nil {
			return nil, err
		}
		typ, err := str(m, "KeyType")
		if err != nil {
			return nil, err
		}
		if typ != "HASH" && typ != "RANGE" {
			return nil, fmt.Errorf("KeyType of %s must be HASH or RANGE, not %q", name, typ)
		}
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(name), KeyType: types.KeyType(typ)})
	}
	return out, nil
}

func throughput(v any) (*types.ProvisionedThroughput, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("must be a map")
	}
	rcu, rok := template.AsInt(m["ReadCapacityUnits"])
	wcu, wok := template.AsInt(m["WriteCapacityUnits"])
	if !rok || !wok {
		return nil, fmt.Errorf("ReadCapacityUnits and WriteCapacityUnits are required integers")
	}
	return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(int64(rcu)), WriteCapacityUnits: aws.Int64(int64(wcu))}, nil
}

func projection(m map[string]any) (*types.Projection, error) {
	pm, ok := m["Projection"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("an index needs a Projection")
	}
	typ, _ := template.AsString(pm["ProjectionType"])
	if typ == "" {
		typ = string(types.ProjectionTypeAll)
	}
	p := &types.Projection{ProjectionType: types.ProjectionType(typ)}
	if nk, ok := pm["NonKeyAttributes"].([]any); ok {
		for _, a := range nk {
			s, _ := template.AsString(a)
			p.NonKeyAttributes = append(p.NonKeyAttributes, s)
		}
	}
	return p, nil
}

func globalIndexes(v any, billing types.BillingMode) ([]types.GlobalSecondaryIndex, error) {
	l, err := list(v)
	if err != nil {
		return nil, err
	}
	var out []types.GlobalSecondaryIndex
	for _, m := range l {
		name, ks, proj, err := indexShape(m)
		if err != nil {
			return nil, err
		}
		gsi := types.GlobalSecondaryIndex{IndexName: aws.String(name), KeySchema: ks, Projection: proj}
		if pt, ok := m["ProvisionedThroughput"]; ok {
			if gsi.ProvisionedThroughput, err = throughput(pt); err != nil {
				return nil, fmt.Errorf("index %s: %v", name, err)
			}
		} else if billing == types.BillingModeProvisioned {
			return nil, fmt.Errorf("index %s: ProvisionedThroughput is required with BillingMode PROVISIONED", name)
		}
		out = append(out, gsi)
	}
	return out, nil
}

func localIndexes(v any) ([]types.LocalSecondaryIndex, error) {
	l, err := list(v)
	if err != nil {
		return nil, err
	}
	var out []types.LocalSecondaryIndex
	for _, m := range l {
		name, ks, proj, err := indexShape(m)
		if err != nil {
			return nil, err
		}
		out = append(out, types.LocalSecondaryIndex{IndexName: aws.String(name), KeySchema: ks, Projection: proj})
	}
	return out, nil
}

// indexShape reads what global and local secondary indexes share: the
// name, key schema and projection.
func indexShape(m map[string]any) (string, []types.KeySchemaElement, *types.Projection, error) {
	name, err := str(m, "IndexName")
	if err != nil {
		return "", nil, nil, err
	}
	ks, err := keySchema(m["KeySchema"])
	if err != nil {
		return "", nil, nil, fmt.Errorf("index %s: %v", name, err)
	}
	proj, err := projection(m)
	if err != nil {
		return "", nil, nil, fmt.Errorf("index %s: %v", name, err)
	}
	return name, ks, proj, nil
}

// ensureTable creates the table, or checks that the existing one has the
// template's keys and indexes (a table is never deleted or recreated: it
// holds data), then brings its TTL in line.
func (p *Provisioner) ensureTable(ctx context.Context, rs *template.Resource, spec tableSpec) (Resource, error) {
	name := aws.ToString(spec.input.TableName)
	out := Resource{LogicalID: rs.LogicalID, Type: rs.Type, Name: name, Action: Unchanged}
	desc, err := p.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var missing *types.ResourceNotFoundException
	switch {
	case errors.As(err, &missing):
		if _, err := p.DynamoDB.CreateTable(ctx, spec.input); err != nil {
			return out, fmt.Errorf("create table %s: %w", name, err)
		}
		out.Action = Created
		if err := dynamodb.NewTableExistsWaiter(p.DynamoDB).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute,
			func(o *dynamodb.TableExistsWaiterOptions) {
				o.MinDelay = 50 * time.Millisecond
				o.MaxDelay = time.Second
			}); err != nil {
			return out, fmt.Errorf("table %s did not become active: %w", name, err)
		}
		if desc, err = p.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}); err != nil {
			return out, fmt.Errorf("describe table %s: %w", name, err)
		}
	case err != nil:
		return out, fmt.Errorf("describe table %s: %w", name, err)
	default:
		if err := sameShape(desc.Table, spec.input); err != nil {
			return out, fmt.Errorf("table %s exists with a different shape (%v); latch never drops a table: delete it to recreate", name, err)
		}
	}
	ttlChanged, err := p.ensureTTL(ctx, name, spec.ttl)
	if err != nil {
		return out, err
	}
	if ttlChanged && out.Action == Unchanged {
		out.Action = Updated
	}
	out.Physical = template.Physical{Ref: name, Attrs: map[string]string{"Arn": aws.ToString(desc.Table.TableArn)}}
	if s := aws.ToString(desc.Table.LatestStreamArn); s != "" {
		out.Physical.Attrs["StreamArn"] = s
	}
	return out, nil
}

// sameShape compares an existing table's keys and indexes with the
// template's.
func sameShape(have *types.TableDescription, want *dynamodb.CreateTableInput) error {
	if a, b := keysString(have.KeySchema), keysString(want.KeySchema); a != b {
		return fmt.Errorf("keys %s, template %s", a, b)
	}
	attrTypes := map[string]types.ScalarAttributeType{}
	for _, d := range have.AttributeDefinitions {
		attrTypes[aws.ToString(d.AttributeName)] = d.AttributeType
	}
	for _, d := range want.AttributeDefinitions {
		if t, ok := attrTypes[aws.ToString(d.AttributeName)]; ok && t != d.AttributeType {
			return fmt.Errorf("attribute %s is %s, template %s", aws.ToString(d.AttributeName), t, d.AttributeType)
		}
	}
	var haveIdx, wantIdx []string
	for _, g := range have.GlobalSecondaryIndexes {
		haveIdx = append(haveIdx, aws.ToString(g.IndexName)+keysString(g.KeySchema))
	}
	for _, l := range have.LocalSecondaryIndexes {
		haveIdx = append(haveIdx, aws.ToString(l.IndexName)+keysString(l.KeySchema))
	}
	for _, g := range want.GlobalSecondaryIndexes {
		wantIdx = append(wantIdx, aws.ToString(g.IndexName)+keysString(g.KeySchema))
	}
	for _, l := range want.LocalSecondaryIndexes {
		wantIdx = append(wantIdx, aws.ToString(l.IndexName)+keysString(l.KeySchema))
	}
	sort.Strings(haveIdx)
	sort.Strings(wantIdx)
	if a, b := strings.Join(haveIdx, ","), strings.Join(wantIdx, ","); a != b {
		return fmt.Errorf("indexes [%s], template [%s]", a, b)
	}
	return nil
}

func keysString(ks []types.KeySchemaElement) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = aws.ToString(k.AttributeName) + ":" + string(k.KeyType)
	}
	return "(" + strings.Join(parts, " ") + ")"
}

// ensureTTL enables TTL on attr (or disables it when attr is "") unless it
// already is; it reports whether it changed anything.
func (p *Provisioner) ensureTTL(ctx context.Context, table, attr string) (bool, error) {
	cur, err := p.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return false, fmt.Errorf("describe TTL of %s: %w", table, err)
	}
	var status types.TimeToLiveStatus
	var curAttr string
	if d := cur.TimeToLiveDescription; d != nil {
		status, curAttr = d.TimeToLiveStatus, aws.ToString(d.AttributeName)
	}
	enabled := status == types.TimeToLiveStatusEnabled || status == types.TimeToLiveStatusEnabling
	switch {
	case attr == "" && !enabled:
		return false, nil
	case attr != "" && enabled && curAttr == attr:
		return false, nil
	case attr != "" && enabled:
		// DynamoDB cannot move TTL to another attribute in one call.
		if err := p.setTTL(ctx, table, curAttr, false); err != nil {
			return false, err
		}
	}
	if attr == "" {
		return true, p.setTTL(ctx, table, curAttr, false)
	}
	return true, p.setTTL(ctx, table, attr, true)
}

func (p *Provisioner) setTTL(ctx context.Context, table, attr string, on bool) error {
	_, err := p.DynamoDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(on)},
	})
	if err != nil {
		return fmt.Errorf("set TTL of %s on %s to %v: %w", table, attr, on, err)
	}
	return nil
}
