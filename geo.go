package iamwatch

import (
	"net/netip"
	"strconv"
	"strings"
)

// Geo is what a GeoIP database says of a source IP address. The zero value
// means unknown.
//
// City and the coordinates come only from a city database (GeoLite2-City,
// DB-IP City, ip-location-db's city files); the event stores keep Country,
// ASN and ASOrg, not them.
type Geo struct {
	Country string // ISO 3166-1 alpha-2 code, e.g. "DE"; "" when unknown.
	ASN     uint32 // autonomous system number; 0 when unknown.
	ASOrg   string // the autonomous system's organisation. Database text: display it escaped.
	City    string // the city's English name; "" when unknown. Database text: display it escaped.
	// Lat and Lon are the location's coordinates in degrees (WGS 84),
	// meaningful only when HasCoords. Without a City they are a country's
	// or a region's centre, not where the address is.
	Lat, Lon  float64
	HasCoords bool
}

// IsZero reports whether nothing is known.
func (g Geo) IsZero() bool {
	return g.Country == "" && g.ASN == 0 && g.ASOrg == "" && g.City == "" && !g.HasCoords
}

// ASNText is the autonomous system as people write it, "AS64496", or "".
func (g Geo) ASNText() string {
	if g.ASN == 0 {
		return ""
	}
	return "AS" + strconv.FormatUint(uint64(g.ASN), 10)
}

// String is "DE, AS64496 Example Org", what is known of it, or "".
func (g Geo) String() string {
	as := strings.TrimSpace(g.ASNText() + " " + g.ASOrg)
	switch {
	case g.Country == "":
		return as
	case as == "":
		return g.Country
	}
	return g.Country + ", " + as
}

// ParseASN reads "AS64496" or "64496"; 0 when s is neither.
func ParseASN(s string) uint32 {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "AS"), "as")
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// GeoLocator looks source IP addresses up in a GeoIP database
// (geoip.DB reads MaxMind-format files). Implementations must be safe for
// concurrent use.
type GeoLocator interface {
	// Locate returns what the database knows of ip; ok is false when it
	// knows nothing.
	Locate(ip netip.Addr) (g Geo, ok bool)
}
