package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestStackPrefix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, template, want string
	}{
		{name: "service directory", template: "/home/u/invoices/template.yaml", want: "invoices"},
		{name: "generic directory", template: "/home/u/invoices/infra/template.yaml", want: "invoices"},
		{name: "generic, any case", template: "/src/Billing-API/Deploy/template.yml", want: "Billing-API"},
		{name: "odd characters", template: "/src/my_service.v2/template.yaml", want: "my-service-v2"},
		{name: "leading digits", template: "/src/2024-orders/template.yaml", want: "orders"},
		{name: "long", template: "/src/a-very-long-service-name-indeed-yes/template.yaml", want: "a-very-long-service-name"},
		{name: "root", template: "/orders.yaml", want: "orders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := stackPrefix(filepath.FromSlash(tc.template))
			if err != nil || got != tc.want {
				t.Errorf("stackPrefix(%s) = %q, %v; want %q", tc.template, got, err, tc.want)
			}
			if checkPrefix(got) != nil {
				t.Errorf("derived prefix %q is refused by checkPrefix", got)
			}
		})
	}
	if _, err := stackPrefix("/123.yaml"); err == nil || !strings.Contains(err.Error(), "--prefix") {
		t.Errorf("stackPrefix(/123.yaml) = %v, want an error naming --prefix", err)
	}
	for _, bad := range []string{"", "1abc", "a_b", "has space", strings.Repeat("a", maxPrefix+1)} {
		if checkPrefix(bad) == nil {
			t.Errorf("checkPrefix(%q) accepted", bad)
		}
	}
}
