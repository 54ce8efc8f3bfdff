package doccheck_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/doccheck"
)

// TestBrokenFixture runs the check on a fixture whose broken references
// are the lines marked "bad": it must report each of them, once per name,
// and nothing else.
func TestBrokenFixture(t *testing.T) {
	t.Parallel()
	root := filepath.Join("testdata", "broken")
	problems, err := doccheck.Check(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, filepath.Base(p.Pos.Filename)+":"+strconv.Itoa(p.Pos.Line)+" "+p.Name)
	}
	want := []string{
		"shop.go:6 shop.MustNewCart",
		"shop.go:17 [Cart.Remove]",
		"shop.go:18 [Missing]",
		"shop.go:22 Config.Color",
		"shop.go:26 DefaultSize",
		"shop.go:29 billing.Invoice.Tax",
		"shop.go:30 billing.Receipt",
		"shop.go:51 ErrClosed",
		"shop.go:55 [billing.Refund]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	// Every "bad" line of the fixture is reported: the list above is the
	// fixture's own, not a copy that could drift from it.
	bad := badLines(t, filepath.Join(root, "shop", "shop.go"))
	for _, line := range bad {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, "shop.go:"+strconv.Itoa(line)+" ")
		}
		if !found {
			t.Errorf("shop.go:%d is marked bad but not reported", line)
		}
	}
}

// TestModule is the check itself, on this module and the example module:
// a doc comment that names an identifier that does not exist fails it.
// `make lint` runs the same check through tools/doccheck.
func TestModule(t *testing.T) {
	t.Parallel()
	problems, err := doccheck.Check(filepath.Join("..", ".."), filepath.Join("..", "..", "examples", "invoices"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

func badLines(t *testing.T, path string) []int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []int
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.Contains(sc.Text(), "(bad)") {
			lines = append(lines, n)
		}
	}
	return lines
}
