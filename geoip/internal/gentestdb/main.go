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

// Networks is the database content. The sample trail and the tests rely
// on it: the office of the sample company is in the US on AS64496.
var networks = []struct {
	cidr, country string
	asn           uint32
	org           string
}{
	{"198.51.100.0/25", "US", 64496, "Example Office Net"},
	{"198.51.100.128/25", "US", 64497, "Example Mobile Carrier"},
	{"203.0.113.0/25", "DE", 64498, "Example Hosting GmbH"},
	{"203.0.113.128/25", "BR", 64499, "Exemplo Telecom"},
	{"192.0.2.0/24", "GB", 64500, "Example Home Broadband"},
	{"2001:db8::/33", "FR", 64501, "Exemple Cloud"},
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
