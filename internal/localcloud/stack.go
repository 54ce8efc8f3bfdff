package localcloud

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// Resource is one resource of a deployed stack, as CloudFormation lists it.
type Resource struct {
	LogicalID string
	Type      string
	// Physical is its physical id: a queue's URL, a table's, function's,
	// rule's or alarm's name.
	Physical string
	Status   string
}

// Stack is a deployed stack as CloudFormation describes it.
type Stack struct {
	Name      string
	Status    string
	Resources map[string]Resource // by logical id
	Outputs   map[string]string
}

// Describe reads the stack's status, resources and outputs.
func Describe(ctx context.Context, cfn *cloudformation.Client, name string) (*Stack, error) {
	out, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("localcloud: describe stack %s: %w", name, err)
	}
	if len(out.Stacks) != 1 {
		return nil, fmt.Errorf("localcloud: describe stack %s: %d stacks", name, len(out.Stacks))
	}
	st := &Stack{Name: name, Status: string(out.Stacks[0].StackStatus), Resources: map[string]Resource{}, Outputs: map[string]string{}}
	for _, o := range out.Stacks[0].Outputs {
		st.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	res, err := cfn.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("localcloud: resources of stack %s: %w", name, err)
	}
	for _, r := range res.StackResources {
		st.Resources[aws.ToString(r.LogicalResourceId)] = Resource{
			LogicalID: aws.ToString(r.LogicalResourceId), Type: aws.ToString(r.ResourceType),
			Physical: aws.ToString(r.PhysicalResourceId), Status: string(r.ResourceStatus),
		}
	}
	return st, nil
}

// Complete reports whether the stack is in a settled, successful state.
func (s *Stack) Complete() bool {
	switch cfntypes.StackStatus(s.Status) {
	case cfntypes.StackStatusCreateComplete, cfntypes.StackStatusUpdateComplete:
		return true
	}
	return false
}

// Resolve returns the physical id of a logical id: the demo.Target's
// Resolve.
func (s *Stack) Resolve(logicalID string) (string, error) {
	r, ok := s.Resources[logicalID]
	if !ok || r.Physical == "" {
		return "", fmt.Errorf("localcloud: stack %s has no resource %s", s.Name, logicalID)
	}
	return r.Physical, nil
}

// OfType returns the resources of a CloudFormation type, by logical id.
func (s *Stack) OfType(typ string) []Resource {
	var out []Resource
	for _, r := range s.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}
