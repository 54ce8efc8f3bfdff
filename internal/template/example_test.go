package template_test

import (
	"fmt"

	"github.com/latchkit/latch/internal/template"
)

func Example() {
	t := template.MustParse([]byte(`
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 10
    Environment:
      Variables:
        QUEUE_URL: !Ref Jobs
Resources:
  JobsDLQ:
    Type: AWS::SQS::Queue
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt JobsDLQ.Arn
        maxReceiveCount: 3
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          DLQ_ARN: !GetAtt JobsDLQ.Arn
`))
	r, err := template.NewResolver(t, template.Pseudo{StackName: "demo"}, nil)
	if err != nil {
		panic(err)
	}
	// The provisioner records each resource as it creates it.
	r.Set("JobsDLQ", template.Physical{Ref: "http://localhost/123456789012/demo-JobsDLQ",
		Attrs: map[string]string{"Arn": "arn:aws:sqs:us-east-1:123456789012:demo-JobsDLQ"}})
	r.Set("Jobs", template.Physical{Ref: "http://localhost/123456789012/demo-Jobs",
		Attrs: map[string]string{"Arn": "arn:aws:sqs:us-east-1:123456789012:demo-Jobs"}})

	worker := t.Resource("Worker")
	props, err := r.Properties(worker)
	if err != nil {
		panic(err)
	}
	vars := props["Environment"].(map[string]any)["Variables"].(map[string]any)
	fmt.Println("timeout:", props["Timeout"])
	fmt.Println("QUEUE_URL:", vars["QUEUE_URL"])
	fmt.Println("DLQ_ARN:", vars["DLQ_ARN"])
	fmt.Println("depends on:", t.Dependencies("Worker"))
	// Output:
	// timeout: 10
	// QUEUE_URL: http://localhost/123456789012/demo-Jobs
	// DLQ_ARN: arn:aws:sqs:us-east-1:123456789012:demo-JobsDLQ
	// depends on: [Jobs JobsDLQ]
}
