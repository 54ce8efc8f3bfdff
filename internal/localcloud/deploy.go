package localcloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/template"
)

// Options say what to deploy where.
type Options struct {
	// SAM runs the SAM CLI in the template's directory. Required.
	SAM SAM
	// Template is the SAM template, relative to SAM.Dir. Required.
	Template string
	// BuildDir is sam build's output directory. Required.
	BuildDir string
	// StackName is the stack's name. Required.
	StackName string
	// AWS reaches the local cloud. Required.
	AWS aws.Config
	// Params are the template's parameter overrides; Architecture is set
	// to the host's (HostArchitecture) unless given.
	Params map[string]string
}

// Deployment is a stack deployed by sam.
type Deployment struct {
	Options
	Clients
	CFN      *cloudformation.Client
	Logs     *cloudwatchlogs.Client
	Stack    *Stack
	Template *template.Template
	// Took is how long each step took: "build", "create", "update",
	// "delete".
	Took map[string]time.Duration
}

// Deploy builds the template for the host with `sam build` and creates
// (or updates) the stack with `sam deploy`, then reads it back.
func Deploy(ctx context.Context, opt Options) (*Deployment, error) {
	t, err := template.Load(filepath.Join(opt.SAM.Dir, opt.Template))
	if err != nil {
		return nil, err
	}
	params := map[string]string{}
	if _, ok := t.Parameters["Architecture"]; ok {
		params["Architecture"] = HostArchitecture()
	}
	for k, v := range opt.Params {
		params[k] = v
	}
	opt.Params = params
	d := &Deployment{Options: opt, Template: t, Took: map[string]time.Duration{},
		CFN: cloudformation.NewFromConfig(opt.AWS), Logs: cloudwatchlogs.NewFromConfig(opt.AWS),
		Clients: Clients{
			SQS: sqs.NewFromConfig(opt.AWS), DynamoDB: dynamodb.NewFromConfig(opt.AWS),
			Events: eventbridge.NewFromConfig(opt.AWS), Lambda: lambda.NewFromConfig(opt.AWS),
			Config: opt.AWS,
		}}
	if d.Took["build"], err = opt.SAM.Build(ctx, opt.Template, opt.BuildDir, params); err != nil {
		return nil, err
	}
	if d.Took["create"], err = opt.SAM.Deploy(ctx, opt.StackName, opt.BuildDir, opt.AWS.Region, params); err != nil {
		return d, err
	}
	return d, d.refresh(ctx)
}

// Update deploys the built template again with params changed, as a user
// changing a parameter does: CloudFormation updates the functions.
func (d *Deployment) Update(ctx context.Context, params map[string]string) error {
	for k, v := range params {
		d.Params[k] = v
	}
	var err error
	if d.Took["update"], err = d.SAM.Deploy(ctx, d.StackName, d.BuildDir, d.AWS.Region, d.Params); err != nil {
		return err
	}
	return d.refresh(ctx)
}

func (d *Deployment) refresh(ctx context.Context) error {
	st, err := Describe(ctx, d.CFN, d.StackName)
	if err != nil {
		return err
	}
	if !st.Complete() {
		return fmt.Errorf("localcloud: stack %s is %s after sam deploy", d.StackName, st.Status)
	}
	d.Stack = st
	return nil
}

// Delete runs `sam delete` and checks that the stack is gone.
func (d *Deployment) Delete(ctx context.Context) error {
	var err error
	if d.Took["delete"], err = d.SAM.Delete(ctx, d.StackName, d.AWS.Region); err != nil {
		return err
	}
	st, err := Describe(ctx, d.CFN, d.StackName)
	if err == nil && st.Status != "DELETE_COMPLETE" {
		return fmt.Errorf("localcloud: stack %s is %s after sam delete", d.StackName, st.Status)
	}
	return nil
}

// Follow starts a Follower of every function of the stack, writing their
// lines to out, until ctx is done.
func (d *Deployment) Follow(ctx context.Context, out io.Writer) (*Follower, error) {
	groups := map[string]string{}
	var errs []error
	for _, r := range d.Stack.OfType("AWS::Lambda::Function") {
		g, err := LogGroup(ctx, d.Lambda, r.Physical)
		errs = append(errs, err)
		groups[r.Physical] = g
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	f := NewFollower(d.Logs, groups, out)
	go f.Run(ctx, 500*time.Millisecond)
	return f, nil
}

// Schedules returns the stack's schedule rules as a demo.Target's Fire
// needs them.
func (d *Deployment) Schedules(f *Follower) *Schedules {
	return &Schedules{Stack: d.Stack, Events: d.Events, Lambda: d.Lambda, Follower: f}
}
