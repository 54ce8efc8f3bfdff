package checkpoint_test

import (
	"testing"
	"time"

	"github.com/latchkit/latch/pkg/checkpoint"
)

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	testStoreSemantics(t, func(_ *testing.T, now func() time.Time) checkpoint.Store {
		return checkpoint.NewMemoryStore(checkpoint.MemoryConfig{Now: now})
	})
}
