package geoip_test

import (
	"net/netip"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/geoip"
)

func TestLocate(t *testing.T) {
	file, err := geoip.Open("testdata/test.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	sample, err := geoip.Sample()
	if err != nil {
		t.Fatal(err)
	}
	defer sample.Close()
	for _, db := range []*geoip.DB{file, sample} {
		for _, c := range []struct {
			ip   string
			want iamwatch.Geo
			ok   bool
		}{
			{"203.0.113.10", iamwatch.Geo{Country: "US", ASN: 64496, ASOrg: "Example Office Net"}, true},
			{"::ffff:203.0.113.200", iamwatch.Geo{Country: "BR", ASN: 64499, ASOrg: "Exemplo Telecom"}, true},
			{"198.51.100.7", iamwatch.Geo{Country: "US", ASN: 64497, ASOrg: "Example VPN Provider"}, true},
			{"198.51.100.200", iamwatch.Geo{Country: "US", ASN: 64501, ASOrg: "Example Mobile Carrier"}, true},
			{"192.0.2.9", iamwatch.Geo{Country: "NL", ASN: 64500, ASOrg: "Example Hosting B.V."}, true},
			{"2001:db8::1", iamwatch.Geo{Country: "FR", ASN: 64502, ASOrg: "Example Cloud FR"}, true},
			{"10.0.0.1", iamwatch.Geo{}, false},
		} {
			got, ok := db.Locate(netip.MustParseAddr(c.ip))
			if got != c.want || ok != c.ok {
				t.Errorf("%v: Locate(%s) = %+v, %v; want %+v, %v", db.Types(), c.ip, got, ok, c.want, c.ok)
			}
		}
	}
	if _, err := geoip.Open("geoip.go"); err == nil {
		t.Error("Open of a Go file: no error")
	}
}
