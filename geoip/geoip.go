package geoip

import (
	_ "embed"
	"errors"
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/iamwatch/iamwatch"
)

// DB locates addresses in one or more MMDB files: a country database and an
// ASN database, or one that has both. It is safe for concurrent use.
type DB struct {
	readers []*maxminddb.Reader
	names   []string
}

var _ iamwatch.GeoLocator = (*DB)(nil)

// record is the union of the fields the supported databases use:
// GeoLite2/DB-IP country (country.iso_code), ip-location-db country
// (country_code), and GeoLite2/DB-IP/ip-location-db ASN
// (autonomous_system_number, autonomous_system_organization).
type record struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	CountryCode string `maxminddb:"country_code"`
	ASN         uint32 `maxminddb:"autonomous_system_number"`
	ASOrg       string `maxminddb:"autonomous_system_organization"`
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
			return nil, fmt.Errorf("geoip: open %s: %w", p, err)
		}
		db.readers = append(db.readers, r)
		db.names = append(db.names, r.Metadata.DatabaseType)
	}
	return db, nil
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
// database that has it.
func (db *DB) Locate(ip netip.Addr) (iamwatch.Geo, bool) {
	var g iamwatch.Geo
	for _, r := range db.readers {
		var rec record
		if err := r.Lookup(ip.Unmap()).Decode(&rec); err != nil {
			continue // not found, or a record of another shape: nothing known from this file
		}
		if g.Country == "" {
			g.Country = rec.Country.ISOCode
			if g.Country == "" {
				g.Country = rec.CountryCode
			}
		}
		if g.ASN == 0 {
			g.ASN, g.ASOrg = rec.ASN, rec.ASOrg
		}
	}
	return g, !g.IsZero()
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
