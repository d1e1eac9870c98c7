package detect

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestInternetIngress(t *testing.T) {
	tests := []struct {
		name string
		req  string
		want []string
	}{
		{"list shape", `{"groupId":"sg-1","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]},"ipv6Ranges":{}}]}}`, []string{"tcp 22 from 0.0.0.0/0"}},
		{"flat shape", `{"groupId":"sg-1","ipPermissions":{},"ipProtocol":"tcp","fromPort":22,"toPort":22,"cidrIp":"0.0.0.0/0"}`, []string{"tcp 22 from 0.0.0.0/0"}},
		{"ipv6 all traffic", `{"ipPermissions":{"items":[{"ipProtocol":"-1","ipv6Ranges":{"items":[{"cidrIpv6":"::/0"}]}}]}}`, []string{"all all ports from ::/0"}},
		{"port range and protocol number", `{"ipPermissions":{"items":[{"ipProtocol":"6","fromPort":3000,"toPort":3400,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"},{"cidrIp":"10.0.0.0/8"}]}}]}}`, []string{"tcp 3000-3400 from 0.0.0.0/0"}},
		{"ports as text", `{"ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":"5432","toPort":"5432","ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}}`, []string{"tcp 5432 from 0.0.0.0/0"}},
		{"office range", `{"ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"203.0.113.0/24"}]}}]}}`, nil},
		{"group reference", `{"ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"groups":{"items":[{"groupId":"sg-2"}]}}]}}`, nil},
		{"not JSON", `{"ipPermissions":`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, in := range InternetIngress(tt.req) {
				got = append(got, in.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzInternetIngress checks the reader never panics, returns only /0
// sources with ordered ports, and reads JSON text as it reads the decoded
// request.
func FuzzInternetIngress(f *testing.F) {
	for _, s := range []string{
		`{"ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}}`,
		`{"cidrIp":"0.0.0.0/0","ipProtocol":"-1"}`, `{"ipPermissions":[{"ipv6Ranges":[{"cidrIpv6":"::/0"}],"fromPort":1e9}]}`, `[]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := InternetIngress(s)
		for _, in := range got {
			if in.FromPort < 0 || in.ToPort > 65535 || in.FromPort > in.ToPort || len(in.CIDR) < 2 || in.CIDR[len(in.CIDR)-2:] != "/0" {
				t.Fatalf("%q: bad permission %+v", s, in)
			}
		}
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			if _, isString := v.(string); isString {
				return // a JSON string literal holds text, read once only
			}
			if want := InternetIngress(v); !slices.Equal(got, want) {
				t.Fatalf("%q: text %v, decoded %v", s, got, want)
			}
		}
	})
}
