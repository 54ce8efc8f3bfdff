package lambdaenv

import "testing"

func TestTraceRoot(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, header, want string }{
		{name: "lambda header", header: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", want: "1-5759e988-bd862e3fe1be46a994272793"},
		{name: "root not first", header: "Parent=53995c3f42cd8ad8; Root=1-abc;Sampled=0", want: "1-abc"},
		{name: "empty", header: "", want: ""},
		{name: "no root", header: "Parent=1;Sampled=1", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := TraceRoot(tt.header); got != tt.want {
				t.Errorf("TraceRoot(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}
