// Package template reads SAM and CloudFormation templates for the local
// runner and the provisioner.
//
// Parse reads YAML (or JSON) with CloudFormation's short-form tags — !Ref,
// !GetAtt, !Sub, !Join, !Select, !Split, !If and the rest — into plain Go
// values in which each intrinsic function is an *Intrinsic, whichever form
// it was written in. SAM Globals are merged into the resources they apply
// to, under SAM's rules, so Resource.Properties is what SAM would deploy.
//
// A Resolver evaluates intrinsics: parameters (defaults or given values),
// pseudo parameters (AWS::Region, AWS::AccountId, AWS::StackName, ...), and
// resources through their physical values, which the caller records with
// Set as it creates them:
//
//	t, err := template.Load("infra/template.yaml")
//	...
//	r, err := template.NewResolver(t, template.Pseudo{Region: "eu-west-1"}, nil)
//	r.Set("OrderQueue", template.Physical{Ref: url, Attrs: map[string]string{"Arn": arn}})
//	env, err := r.Resolve("Environment", fn.Properties["Environment"])
//
// Nothing is ignored silently: a tag, transform, section or intrinsic
// function latch cannot honour is an *Error naming it and its place.
package template
