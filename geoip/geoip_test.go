package geoip_test

import (
	"errors"
	"io/fs"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/geoip"
	"github.com/iamwatch/iamwatch/internal/testserver"
)

// at is a Geo with a city's coordinates.
func at(g iamwatch.Geo, city string, lat, lon float64) iamwatch.Geo {
	g.City, g.Lat, g.Lon, g.HasCoords = city, lat, lon, true
	return g
}

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
			{"203.0.113.10", at(iamwatch.Geo{Country: "US", ASN: 64496, ASOrg: "Example Office Net"}, "New York", 40.7128, -74.0060), true},
			{"::ffff:203.0.113.200", at(iamwatch.Geo{Country: "BR", ASN: 64499, ASOrg: "Exemplo Telecom"}, "São Paulo", -23.5505, -46.6333), true},
			{"198.51.100.7", at(iamwatch.Geo{Country: "US", ASN: 64497, ASOrg: "Example VPN Provider"}, "Ashburn", 39.0438, -77.4874), true},
			{"198.51.100.200", at(iamwatch.Geo{Country: "US", ASN: 64501, ASOrg: "Example Mobile Carrier"}, "Chicago", 41.8781, -87.6298), true},
			{"192.0.2.9", at(iamwatch.Geo{Country: "NL", ASN: 64500, ASOrg: "Example Hosting B.V."}, "Amsterdam", 52.3676, 4.9041), true},
			{"2001:db8::1", at(iamwatch.Geo{Country: "FR", ASN: 64502, ASOrg: "Example Cloud FR"}, "Paris", 48.8566, 2.3522), true},
			// ip-location-db's flat layout, float32 coordinates.
			{"2001:db8:8000::1", at(iamwatch.Geo{Country: "JP"}, "Tokyo", float64(float32(35.6762)), float64(float32(139.6503))), true},
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

// TestLocateRealDatabases reads real databases from npm in ip-location-db's
// layout: a country file for both address families, and GeoLite2-City's
// IPv4 and IPv6 files side by side (each lookup of the other family is
// skipped, not an error). The expected values are those of the pinned
// package versions (internal/testserver/geoipdb); 81.2.69.142 is MaxMind's
// own documented test address.
func TestLocateRealDatabases(t *testing.T) {
	files := testserver.InstallGeoIP(t)
	db, err := geoip.Open(files.CityV4, files.CityV6, files.Country)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Logf("database types: %v", db.Types())
	for _, c := range []struct {
		ip, country, city string
		coords            bool
		lat, lon          float64
	}{
		{"81.2.69.142", "GB", "Bracknell", true, 51.4036, -0.7618},
		{"::ffff:81.2.69.142", "GB", "Bracknell", true, 51.4036, -0.7618},
		{"8.8.8.8", "US", "", true, 37.751, -97.822}, // a country's centre: no city
		{"1.1.1.1", "US", "", false, 0, 0},           // not in the city file: the country file's
		{"2001:4860:4860::8888", "US", "", true, 37.751, -97.822},
	} {
		g, ok := db.Locate(netip.MustParseAddr(c.ip))
		if !ok || g.Country != c.country || g.City != c.city || g.HasCoords != c.coords ||
			math.Abs(g.Lat-c.lat) > 0.01 || math.Abs(g.Lon-c.lon) > 0.01 {
			t.Errorf("Locate(%s) = %+v, %v; want %s %q coords=%v (%.3f, %.3f)", c.ip, g, ok, c.country, c.city, c.coords, c.lat, c.lon)
		}
	}
	if g, ok := db.Locate(netip.MustParseAddr("10.1.2.3")); ok {
		t.Errorf("Locate(10.1.2.3) = %+v: a private address is in no database", g)
	}
	country, err := geoip.Open(files.Country)
	if err != nil {
		t.Fatal(err)
	}
	defer country.Close()
	if g, ok := country.Locate(netip.MustParseAddr("81.2.69.142")); !ok || g.Country != "GB" || g.HasCoords {
		t.Errorf("country file: Locate(81.2.69.142) = %+v, %v; want GB without coordinates", g, ok)
	}
}

func BenchmarkLocate(b *testing.B) {
	db, err := geoip.Sample()
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ip := netip.MustParseAddr("192.0.2.9")
	b.ReportAllocs()
	for b.Loop() {
		db.Locate(ip)
	}
}

// TestOpenMissingNamesTheFileOnce: a missing database is reported with its
// path once (the file system's error already names it).
func TestOpenMissingNamesTheFileOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.mmdb")
	_, err := geoip.Open(path)
	if err == nil {
		t.Fatal("Open of a missing file succeeded")
	}
	if n := strings.Count(err.Error(), path); n != 1 {
		t.Errorf("error %q names the file %d times, want once", err, n)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %q does not wrap fs.ErrNotExist", err)
	}
}

// TestOpenRefusesADatabaseWithoutLocations: a MaxMind DB of another kind
// (here an anonymous-IP-like one) is refused by name, where it would have
// left every GeoIP rule silent; the test database opens.
func TestOpenRefusesADatabaseWithoutLocations(t *testing.T) {
	anon := mmdbtype.Map{"is_anonymous_vpn": mmdbtype.Bool(true)}
	path := writeDB(t, "Example-Anonymous-IP", map[string]mmdbtype.Map{"192.0.2.0/24": anon, "2001:db8::/32": anon})
	db, err := geoip.Open(path)
	if err == nil {
		db.Close()
		t.Fatal("a database without country or ASN data opened")
	}
	if !strings.Contains(err.Error(), "no country or ASN data") || !strings.Contains(err.Error(), "Example-Anonymous-IP") {
		t.Errorf("error %q does not say what is wrong", err)
	}
	// Beside a database that locates, it is accepted (it adds nothing).
	db, err = geoip.Open(path, "testdata/test.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

// A database's text is bounded, cut at a character: an organisation name
// of 14 KB would otherwise be copied into every event from its addresses.
func TestLocateBoundsText(t *testing.T) {
	org := "é" + strings.Repeat("Ünïcode Org ", 1000) // 2-byte runes at odd and even offsets
	rec := mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(64496), "autonomous_system_organization": mmdbtype.String(org)}
	db, err := geoip.Open(writeDB(t, "Example-ASN", map[string]mmdbtype.Map{"192.0.2.0/24": rec}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g, ok := db.Locate(netip.MustParseAddr("192.0.2.1"))
	if !ok || g.ASN != 64496 {
		t.Fatalf("Locate = %+v, %v; want ASN 64496", g, ok)
	}
	if len(g.ASOrg) > 128 || len(g.ASOrg) < 120 || !strings.HasPrefix(org, g.ASOrg) || !utf8.ValidString(g.ASOrg) {
		t.Errorf("ASOrg of %d bytes (%q): want the organisation's first 120–128 bytes, whole characters", len(g.ASOrg), g.ASOrg)
	}
}

// writeDB writes a database of type typ holding records (by CIDR block)
// into the test's directory and returns its path.
func writeDB(t *testing.T, typ string, records map[string]mmdbtype.Map) string {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: typ, IncludeReservedNetworks: true, IPVersion: 6, RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(network, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), typ+".mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
