// Command doccheck is the doc-comment check of `make lint`: it fails when
// a doc comment of the given module directories names an identifier that
// does not exist (see internal/doccheck). Usage: doccheck DIR...
package main

import (
	"fmt"
	"os"

	"github.com/latchkit/latch/internal/doccheck"
)

func main() {
	dirs := os.Args[1:]
	if len(dirs) == 0 {
		dirs = []string{"."}
	}
	problems, err := doccheck.Check(dirs...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "doccheck:", err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "doccheck: %d doc comments name identifiers that do not exist\n", len(problems))
		os.Exit(1)
	}
}
