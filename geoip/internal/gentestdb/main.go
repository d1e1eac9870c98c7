// Command gentestdb writes geoip/testdata/test.mmdb: our own country+ASN
// database over documentation address ranges and documentation AS numbers
// (no real network is described), with made-up city locations so the
// impossible-travel rule has coordinates. The layout is GeoLite2-City's plus
// GeoLite2-ASN's (country.iso_code, city.names.en, location.latitude and
// .longitude, autonomous_system_number, autonomous_system_organization),
// except one network written in ip-location-db's flat layout (country_code,
// city, latitude, longitude), so the reader's two layouts are both tested.
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
// attacker's addresses (192.0.2.0/24) are a hosting network in NL. The
// office is in New York and its VPN exits in Ashburn (about 330 km away:
// too close to be impossible travel).
var networks = []struct {
	cidr, country string
	asn           uint32
	org           string
	city          string
	lat, lon      float64
	flat          bool // ip-location-db's layout, without ASN
}{
	{"203.0.113.0/25", "US", 64496, "Example Office Net", "New York", 40.7128, -74.0060, false},
	{"203.0.113.128/25", "BR", 64499, "Exemplo Telecom", "São Paulo", -23.5505, -46.6333, false},
	{"198.51.100.0/25", "US", 64497, "Example VPN Provider", "Ashburn", 39.0438, -77.4874, false},
	{"198.51.100.128/25", "US", 64501, "Example Mobile Carrier", "Chicago", 41.8781, -87.6298, false},
	{"192.0.2.0/24", "NL", 64500, "Example Hosting B.V.", "Amsterdam", 52.3676, 4.9041, false},
	{"2001:db8::/33", "FR", 64502, "Example Cloud FR", "Paris", 48.8566, 2.3522, false},
	{"2001:db8:8000::/33", "JP", 0, "", "Tokyo", 35.6762, 139.6503, true},
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
		DatabaseType:            "iamwatch-Test-City-ASN",
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
			"city":                           mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(n.city)}},
			"location":                       mmdbtype.Map{"latitude": mmdbtype.Float64(n.lat), "longitude": mmdbtype.Float64(n.lon)},
			"autonomous_system_number":       mmdbtype.Uint32(n.asn),
			"autonomous_system_organization": mmdbtype.String(n.org),
		}
		if n.flat {
			rec = mmdbtype.Map{
				"country_code": mmdbtype.String(n.country),
				"city":         mmdbtype.String(n.city),
				"latitude":     mmdbtype.Float32(n.lat),
				"longitude":    mmdbtype.Float32(n.lon),
			}
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
