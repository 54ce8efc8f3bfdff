package idempotency

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestItemSizeOfSets pins how a transaction's size check counts set
// attributes: each member's bytes, plus one per number.
func TestItemSizeOfSets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    types.AttributeValue
		want int // with the one-byte name "k"
	}{
		{name: "string set", v: &types.AttributeValueMemberSS{Value: []string{"ab", "cde"}}, want: 1 + 5},
		{name: "number set", v: &types.AttributeValueMemberNS{Value: []string{"1", "23"}}, want: 1 + 3 + 2},
		{name: "binary set", v: &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}}, want: 1 + 3},
		{name: "empty set", v: &types.AttributeValueMemberSS{}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := itemSize(map[string]types.AttributeValue{"k": tt.v}); got != tt.want {
				t.Errorf("itemSize = %d, want %d", got, tt.want)
			}
		})
	}
}
