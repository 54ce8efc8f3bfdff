// Command benchratio reads the output of make bench-transact (go test
// -bench, any -count) and prints, as Markdown, the median time per
// operation of each benchmark and the ratios docs/transact.md shows:
// Transact ÷ Do for each path at each one-way delay D.
//
//	go run ./tools/benchratio bench-transact.txt
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// line matches a result line: name (without the -GOMAXPROCS suffix),
// iterations, ns/op.
var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

// ratio is one column of the ratio table: Transact's path over Do's, both
// named without the leading "Benchmark<name>/D=<d>/".
type ratio struct{ title, bench, transact, do string }

var ratios = []ratio{
	{"first time", "BenchmarkRecord", "first/Transact", "first/Do"},
	{"duplicate", "BenchmarkRecord", "duplicate/Transact", "duplicate/Do"},
	{"duplicate, unpredicted", "BenchmarkRecord", "duplicate-unpredicted/Transact", "duplicate/Do"},
	{"SQS batch of 10, concurrency 10", "BenchmarkSQSDynamoDB", "records=10/concurrency=10/Transact", "records=10/concurrency=10/Do"},
	{"SQS batch of 10, one by one", "BenchmarkSQSDynamoDB", "records=10/concurrency=1/Transact", "records=10/concurrency=1/Do"},
	{"SQS batch of 10 redelivered", "BenchmarkSQSDynamoDB", "records=10/redelivered/Transact", "records=10/redelivered/Do"},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: benchratio FILE (go test -bench output)")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(1)
	}
	defer f.Close()
	samples, err := parse(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(1)
	}
	if len(samples) == 0 {
		fmt.Fprintln(os.Stderr, "benchratio: no benchmark results in", os.Args[1])
		os.Exit(1)
	}
	write(os.Stdout, samples)
}

// parse collects the ns/op samples of every benchmark in r.
func parse(r io.Reader) (map[string][]float64, error) {
	samples := map[string][]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", sc.Text(), err)
		}
		samples[m[1]] = append(samples[m[1]], v)
	}
	return samples, sc.Err()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// delays returns the D=… values present, in the order of their durations.
func delays(samples map[string][]float64) []string {
	seen := map[string]bool{}
	for name := range samples {
		for part := range strings.SplitSeq(name, "/") {
			if strings.HasPrefix(part, "D=") {
				seen[part] = true
			}
		}
	}
	ds := make([]string, 0, len(seen))
	for d := range seen {
		ds = append(ds, d)
	}
	ms := func(d string) float64 {
		v, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(d, "D="), "ms"), 64)
		return v
	}
	slices.SortFunc(ds, func(a, b string) int { return int(ms(a)*1000 - ms(b)*1000) })
	return ds
}

// write prints the ratio table, then every median.
func write(w io.Writer, samples map[string][]float64) {
	ds := delays(samples)
	fmt.Fprint(w, "| D |")
	for _, r := range ratios {
		fmt.Fprintf(w, " %s |", r.title)
	}
	fmt.Fprint(w, "\n|---|")
	for range ratios {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for _, d := range ds {
		fmt.Fprintf(w, "| %s |", strings.TrimPrefix(d, "D="))
		for _, r := range ratios {
			t, okT := samples[r.bench+"/"+d+"/"+r.transact]
			do, okD := samples[r.bench+"/"+d+"/"+r.do]
			if !okT || !okD {
				fmt.Fprint(w, " – |")
				continue
			}
			fmt.Fprintf(w, " %.2f |", median(t)/median(do))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	names := make([]string, 0, len(samples))
	for name := range samples {
		names = append(names, name)
	}
	slices.Sort(names)
	fmt.Fprintln(w, "| benchmark | median | runs |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, name := range names {
		fmt.Fprintf(w, "| %s | %s | %d |\n", name, ms(median(samples[name])), len(samples[name]))
	}
}

// ms formats nanoseconds as milliseconds (microseconds below 0.1 ms).
func ms(ns float64) string {
	if ns < 1e5 {
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.2f ms", ns/1e6)
}
