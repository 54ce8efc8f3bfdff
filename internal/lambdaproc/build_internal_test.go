package lambdaproc

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSourceKey(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	key := func(dir, pkg string) string {
		t.Helper()
		k, err := sourceKey(dir, pkg)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	// One package named three ways shares its builds...
	same := []string{key("", "./testdata/fn"), key(wd, "./testdata/fn"), key(filepath.Join(wd, "testdata"), "./fn")}
	for _, k := range same[1:] {
		if k != same[0] {
			t.Errorf("one package, keys %v: want one key", same)
		}
	}
	// ...and same-named packages of two checkouts do not.
	if a, b := key("/work/a/functions/ledger", "."), key("/work/b/functions/ledger", "."); a == b {
		t.Errorf("two checkouts share key %s", a)
	}
	if a, b := key("/work/a", "example.com/m/fn"), key("/work/b", "example.com/m/fn"); a == b {
		t.Errorf("an import path from two modules shares key %s", a)
	}
}
