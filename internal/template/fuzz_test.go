package template

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds the template reader arbitrary bytes, seeded with every
// template the project ships: it returns a template or a *template.Error,
// never panics, and a template it returns can be given to a resolver.
func FuzzParse(f *testing.F) {
	seeds := []string{"../../infra/template.yaml", "../local/testdata/template.yaml"}
	for _, glob := range []string{"testdata/*.yaml", "../provision/testdata/*.yaml"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, m...)
	}
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("Resources: {}"))
	f.Add([]byte("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub '${AWS::StackName}-q'\n"))
	f.Add([]byte("{\"Resources\": {\"T\": {\"Type\": \"AWS::DynamoDB::Table\"}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tmpl, err := Parse(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || tmpl != nil {
				t.Fatalf("Parse = %v, %v: want a nil template and a *template.Error", tmpl, err)
			}
			return
		}
		if tmpl == nil {
			t.Fatal("Parse returned neither a template nor an error")
		}
		// Defaults and conditions are evaluated here; an error is fine,
		// a panic is not.
		_, _ = NewResolver(tmpl, Pseudo{}, nil)
	})
}
