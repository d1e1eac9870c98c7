package geoip

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"

	"github.com/iamwatch/iamwatch"
)

// DB locates addresses in one or more MMDB files: a country database and an
// ASN database, or one that has both. It is safe for concurrent use.
type DB struct {
	readers []*maxminddb.Reader
	names   []string
}

var _ iamwatch.GeoLocator = (*DB)(nil)

// record is the union of the fields the supported databases use. Two
// layouts:
//   - MaxMind's (GeoLite2/GeoIP2, DB-IP Lite): country.iso_code,
//     city.names.en, location.latitude and location.longitude;
//   - ip-location-db's flat one (its country and city .mmdb files on npm):
//     country_code, city, latitude, longitude.
//
// Both name the ASN fields autonomous_system_number and
// autonomous_system_organization.
type record struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	CountryCode string   `maxminddb:"country_code"`
	City        cityName `maxminddb:"city"`
	Location    struct {
		Lat *float64 `maxminddb:"latitude"`
		Lon *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
	Lat   *float64 `maxminddb:"latitude"`
	Lon   *float64 `maxminddb:"longitude"`
	ASN   uint32   `maxminddb:"autonomous_system_number"`
	ASOrg string   `maxminddb:"autonomous_system_organization"`
}

// cityName decodes a city as either layout writes it: a string (flat) or
// a map whose names.en is the English name (MaxMind's).
type cityName string

// UnmarshalMaxMindDB implements mmdbdata.Unmarshaler. The cursor API that
// replaces it in v3 needs successor bookkeeping that this two-shape field
// does not warrant.
func (c *cityName) UnmarshalMaxMindDB(d *mmdbdata.Decoder) error {
	kind, err := d.PeekKind()
	if err != nil {
		return err
	}
	switch kind {
	case mmdbdata.KindString:
		s, err := d.ReadString()
		*c = cityName(s)
		return err
	case mmdbdata.KindMap:
		return readNamesEn(d, c, true)
	}
	return d.SkipValue()
}

// readNamesEn reads a map, descending into its "names" (when top) and
// taking "en" from it.
func readNamesEn(d *mmdbdata.Decoder, c *cityName, top bool) error {
	entries, _, err := d.ReadMap()
	if err != nil {
		return err
	}
	for key, err := range entries {
		if err != nil {
			return err
		}
		switch {
		case top && string(key) == "names":
			if err := readNamesEn(d, c, false); err != nil {
				return err
			}
		case !top && string(key) == "en":
			s, err := d.ReadString()
			if err != nil {
				return err
			}
			*c = cityName(s)
		}
	}
	return nil
}

// Open opens the MMDB files at paths (they are memory-mapped). It fails
// when a file is not a MaxMind DB or none has country or ASN data.
func Open(paths ...string) (*DB, error) {
	if len(paths) == 0 {
		return nil, errors.New("geoip: open: no database given")
	}
	db := &DB{}
	for _, p := range paths {
		r, err := maxminddb.Open(p)
		if err != nil {
			db.Close()
			if _, ok := errors.AsType[*fs.PathError](err); ok {
				return nil, fmt.Errorf("geoip: %w", err) // it names the file already
			}
			return nil, fmt.Errorf("geoip: open %s: %w", p, err)
		}
		db.readers = append(db.readers, r)
		db.names = append(db.names, r.Metadata.DatabaseType)
	}
	if !slices.ContainsFunc(db.readers, locates) {
		db.Close()
		return nil, fmt.Errorf("geoip: open %s: no country or ASN data in the first %d networks of any (database types %s): a wrong database would leave every GeoIP rule silent",
			strings.Join(paths, ", "), probeNetworks, strings.Join(db.names, ", "))
	}
	return db, nil
}

// probeNetworks is how many networks of a file locates reads.
const probeNetworks = 64

// locates reports whether one of r's first probeNetworks networks has a
// country or an ASN in a layout record reads.
func locates(r *maxminddb.Reader) bool {
	n := 0
	for res := range r.Networks() {
		var rec record
		if res.Decode(&rec) == nil && (rec.Country.ISOCode != "" || rec.CountryCode != "" || rec.ASN != 0) {
			return true
		}
		if n++; n >= probeNetworks {
			break
		}
	}
	return false
}

//go:embed testdata/test.mmdb
var sampleDB []byte

// Sample returns the test database (see the package documentation): what
// `iamwatch scan --sample` locates the sample trail's documentation
// addresses with when no database is configured.
func Sample() (*DB, error) {
	r, err := maxminddb.OpenBytes(sampleDB)
	if err != nil {
		return nil, fmt.Errorf("geoip: sample database: %w", err)
	}
	return &DB{readers: []*maxminddb.Reader{r}, names: []string{r.Metadata.DatabaseType}}, nil
}

// Types returns the database type of each file (its metadata's
// database_type, e.g. "GeoLite2-Country"), in the order given to Open.
func (db *DB) Types() []string { return db.names }

// Locate returns what the databases know of ip: per field, the first
// database that has it (the city, coordinates and country of one record
// stay together: a city database given before a country database wins).
// An IPv4 address is looked up as such, so ip-location-db's IPv4-only and
// IPv6-only files can be given side by side.
func (db *DB) Locate(ip netip.Addr) (iamwatch.Geo, bool) {
	var g iamwatch.Geo
	ip = ip.Unmap()
	for _, r := range db.readers {
		if ip.Is6() && r.Metadata.IPVersion == 4 {
			continue // an IPv4-only file: the lookup would only fail
		}
		var rec record
		if err := r.Lookup(ip).Decode(&rec); err != nil {
			continue // not found, or a record of another shape: nothing known from this file
		}
		if !g.HasCoords {
			lat, lon := rec.Location.Lat, rec.Location.Lon
			if lat == nil || lon == nil {
				lat, lon = rec.Lat, rec.Lon
			}
			if lat != nil && lon != nil {
				g.Lat, g.Lon, g.HasCoords, g.City = *lat, *lon, true, string(rec.City)
				if c := rec.country(); c != "" {
					g.Country = c
				}
			}
		}
		if g.Country == "" {
			g.Country = rec.country()
		}
		if g.ASN == 0 {
			g.ASN, g.ASOrg = rec.ASN, rec.ASOrg
		}
	}
	g.Country, g.City, g.ASOrg = bounded(g.Country), bounded(g.City), bounded(g.ASOrg)
	return g, !g.IsZero()
}

// maxText bounds each text Locate returns, in bytes. A database's text
// goes into every event from its addresses (a DynamoDB item holds 400 KB)
// and into alerts and messages; real organisation and city names are
// under 100 bytes.
const maxText = 128

// bounded is s cut to at most maxText bytes, at the start of a character.
func bounded(s string) string {
	if len(s) <= maxText {
		return s
	}
	i := maxText
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

func (rec *record) country() string {
	if rec.Country.ISOCode != "" {
		return rec.Country.ISOCode
	}
	return rec.CountryCode
}

// Close releases the files.
func (db *DB) Close() error {
	var errs []error
	for _, r := range db.readers {
		errs = append(errs, r.Close())
	}
	db.readers = nil
	return errors.Join(errs...)
}
