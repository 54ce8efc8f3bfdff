package template

import (
	"os"
	"testing"
)

func BenchmarkParseFixture(b *testing.B) {
	data, err := os.ReadFile("testdata/sam.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolveFunctionProperties(b *testing.B) {
	tpl, err := Load("testdata/sam.yaml")
	if err != nil {
		b.Fatal(err)
	}
	r, err := NewResolver(tpl, Pseudo{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	created(r)
	fn := tpl.Resource("DailyReport")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Properties(fn); err != nil {
			b.Fatal(err)
		}
	}
}
