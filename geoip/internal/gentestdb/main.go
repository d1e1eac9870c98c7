// Command gentestdb writes geoip/testdata/test.mmdb: our own country+ASN
// database over documentation address ranges and documentation AS numbers
// (no real network is described). The layout is GeoLite2's (country.iso_code,
// autonomous_system_number, autonomous_system_organization).
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// networks is the database content, fitted to the sample company
// (internal/sample/world.go): its office (203.0.113.0/25) is in the US on
// AS64496, its VPN and mobile networks are other US ASNs, and the
// attacker's addresses (192.0.2.0/24) are a hosting network in NL.
var networks = []struct {
	cidr, country string
	asn           uint32
	org           string
}{
	{"203.0.113.0/25", "US", 64496, "Example Office Net"},
	{"203.0.113.128/25", "BR", 64499, "Exemplo Telecom"},
	{"198.51.100.0/25", "US", 64497, "Example VPN Provider"},
	{"198.51.100.128/25", "US", 64501, "Example Mobile Carrier"},
	{"192.0.2.0/24", "NL", 64500, "Example Hosting B.V."},
	{"2001:db8::/33", "FR", 64502, "Example Cloud FR"},
}

func main() {
	out := flag.String("o", "testdata/test.mmdb", "output file")
	flag.Parse()
	if err := write(*out); err != nil {
		log.Fatal(err)
	}
}

func write(path string) error {
	w, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "iamwatch-Test-Country-ASN",
		Description:             map[string]string{"en": "iamwatch test data over documentation ranges (RFC 5737, 3849, 5398)"},
		IncludeReservedNetworks: true,
		RecordSize:              24,
		IPVersion:               6,
	})
	if err != nil {
		return fmt.Errorf("gentestdb: %w", err)
	}
	for _, n := range networks {
		_, network, err := net.ParseCIDR(n.cidr)
		if err != nil {
			return fmt.Errorf("gentestdb: %s: %w", n.cidr, err)
		}
		rec := mmdbtype.Map{
			"country":                        mmdbtype.Map{"iso_code": mmdbtype.String(n.country)},
			"autonomous_system_number":       mmdbtype.Uint32(n.asn),
			"autonomous_system_organization": mmdbtype.String(n.org),
		}
		if err := w.Insert(network, rec); err != nil {
			return fmt.Errorf("gentestdb: insert %s: %w", n.cidr, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("gentestdb: %w", err)
	}
	if _, err := w.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("gentestdb: write %s: %w", path, err)
	}
	return f.Close()
}
