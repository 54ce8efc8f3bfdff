package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
)

func TestAttrFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		in      string
		want    types.MessageAttributeValue
		wantErr string
	}{
		{name: "string", in: "tenant=acme", want: types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String("acme")}},
		{name: "value with =", in: "q=a=b", want: types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String("a=b")}},
		{name: "number", in: "n:Number=3", want: types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String("3")}},
		{name: "custom type", in: "n:Number.int=3", want: types.MessageAttributeValue{DataType: aws.String("Number.int"), StringValue: aws.String("3")}},
		{name: "binary", in: "b:Binary=aGk=", want: types.MessageAttributeValue{DataType: aws.String("Binary"), BinaryValue: []byte("hi")}},
		{name: "no =", in: "tenant", wantErr: "want NAME=VALUE"},
		{name: "no name", in: ":String=x", wantErr: "has no name"},
		{name: "empty value", in: "tenant=", wantErr: "empty value"},
		{name: "bad type", in: "x:Bool=true", wantErr: `type "Bool"`},
		{name: "bad base64", in: "b:Binary=!!", wantErr: "base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := attrFlags{}
			err := a.Set(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Set(%q) = %v, want an error containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != 1 {
				t.Fatalf("%d attributes, want 1", len(a))
			}
			for _, got := range a {
				if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(types.MessageAttributeValue{})); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestReadBody(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "order.json")
	if err := os.WriteFile(file, []byte(`{"id":"o-1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		stdin   string
		want    string
		wantErr string
	}{
		{name: "argument", args: []string{"hello"}, want: "hello"},
		{name: "file", args: []string{"@" + file}, want: `{"id":"o-1"}`},
		{name: "stdin, no argument", stdin: "from stdin", want: "from stdin"},
		{name: "stdin, dash", args: []string{"-"}, stdin: "dash", want: "dash"},
		{name: "missing file", args: []string{"@" + filepath.Join(dir, "nope")}, wantErr: "read the body"},
		{name: "empty file", args: []string{"@" + empty}, wantErr: "is empty"},
		{name: "empty stdin", wantErr: "standard input is empty"},
		{name: "too big", stdin: strings.Repeat("x", maxBody+1), wantErr: "over SQS's limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := readBody(&Env{Stdin: strings.NewReader(tc.stdin)}, tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("readBody = %q, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("readBody = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
