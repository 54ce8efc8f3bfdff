package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sample = `goos: linux
BenchmarkRecord/D=0/first/Do-2         	      30	   4000000 ns/op	   95361 B/op	    1087 allocs/op
BenchmarkRecord/D=0/first/Do-2         	      30	   2000000 ns/op	   95361 B/op	    1087 allocs/op
BenchmarkRecord/D=0/first/Do-2         	      30	   9000000 ns/op	   95361 B/op	    1087 allocs/op
BenchmarkRecord/D=0/first/Transact-2   	      30	   2000000 ns/op	   36644 B/op	     395 allocs/op
BenchmarkRecord/D=2ms/first/Do-2       	      30	  30000000 ns/op
BenchmarkRecord/D=2ms/first/Transact-2 	      30	  12000000 ns/op
BenchmarkRecord/D=2ms/duplicate/Do-2       	      30	  10000000 ns/op
BenchmarkRecord/D=2ms/duplicate/Transact-2 	      30	  10500000 ns/op
BenchmarkSQSDynamoDB/D=2ms/records=10/concurrency=10/Transact-2  	      30	 20000000 ns/op	         0 conflicts/op	        10.00 tx/op
PASS
`

func TestWrite(t *testing.T) {
	samples, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	write(&b, samples)
	got := strings.Split(b.String(), "\n")
	want := []string{
		"| D | first time | duplicate | duplicate, unpredicted | SQS batch of 10, concurrency 10 | SQS batch of 10, one by one | SQS batch of 10 redelivered |",
		"|---|---|---|---|---|---|---|",
		"| 0 | 0.50 | – | – | – | – | – |",
		"| 2ms | 0.40 | 1.05 | – | – | – | – |",
	}
	if diff := cmp.Diff(want, got[:4]); diff != "" {
		t.Errorf("ratio table (-want +got):\n%s", diff)
	}
	if !strings.Contains(b.String(), "| BenchmarkRecord/D=0/first/Do | 4.00 ms | 3 |") {
		t.Errorf("medians lack the median of three runs:\n%s", b.String())
	}
}
