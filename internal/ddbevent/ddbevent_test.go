package ddbevent_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/ddbevent"
)

type item struct {
	ID     string            `dynamodbav:"id"`
	Cents  int64             `dynamodbav:"cents"`
	Paid   bool              `dynamodbav:"paid"`
	Blob   []byte            `dynamodbav:"blob"`
	Tags   []string          `dynamodbav:"tags,stringset"`
	Sizes  []int             `dynamodbav:"sizes,numberset"`
	Lines  []map[string]any  `dynamodbav:"lines"`
	Labels map[string]string `dynamodbav:"labels"`
	Note   *string           `dynamodbav:"note,nullempty"`
}

// Every attribute type survives SDK → event → SDK, so an image decodes
// into the same value the table was written with.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	want := item{
		ID: "o-1", Cents: 1250, Paid: true, Blob: []byte{0, 1, 2},
		Tags: []string{"a", "b"}, Sizes: []int{1, 2},
		Lines:  []map[string]any{{"sku": "x", "qty": 2.0}},
		Labels: map[string]string{"k": "v"},
	}
	av, err := attributevalue.MarshalMap(want)
	if err != nil {
		t.Fatal(err)
	}
	img, err := ddbevent.FromSDK(av)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ddbevent.ToSDK(img)
	if err != nil {
		t.Fatal(err)
	}
	var got item
	if err := attributevalue.UnmarshalMap(back, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
