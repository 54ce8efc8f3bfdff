package emulators

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestDynamoDBLocalArgsStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dataDir  string
		want     []string
		notWant  string
		scenario string
	}{
		{"", []string{"-inMemory"}, "-dbPath", "in memory by default"},
		{"/d/data", []string{"-dbPath", "/d/data"}, "-inMemory", "on disk with a data dir"},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			t.Parallel()
			args := dynamoDBLocalArgs("/d", 1234, tt.dataDir)
			i := slices.Index(args, tt.want[0])
			if i < 0 || !slices.Equal(args[i:i+len(tt.want)], tt.want) {
				t.Errorf("args %v lack %v", args, tt.want)
			}
			if slices.Contains(args, tt.notWant) {
				t.Errorf("args %v hold %s", args, tt.notWant)
			}
		})
	}
}

// Restart refuses what would come back empty, before it looks for a stack.
func TestRestartRefusesWhatLosesData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct {
		cfg  Config
		name string
	}{
		{Config{StateDir: dir}, "dynamodb"},
		{Config{StateDir: dir, DynamoDBDir: dir}, "moto"},
		{Config{StateDir: dir, DynamoDBDir: dir, Backend: LocalStack}, "dynamodb"},
	} {
		if err := Restart(context.Background(), tt.cfg, tt.name); !errors.Is(err, ErrNoRestart) {
			t.Errorf("Restart(%+v, %s) = %v, want ErrNoRestart", tt.cfg, tt.name, err)
		}
	}
}
