// Package geoip reads MaxMind-format (.mmdb) GeoIP databases — GeoLite2
// Country/ASN, DB-IP Lite, or the ip-location-db country and ASN files —
// and locates source IP addresses in them (iamwatch.GeoLocator). It is the
// only package that imports the MMDB reader.
//
// testdata/test.mmdb is our own small database over documentation ranges
// (RFC 5737, RFC 3849) and documentation AS numbers (RFC 5398), written by
// internal/gentestdb (go generate ./geoip). The sample trail and the tests
// use it; it describes no real network.
package geoip

//go:generate go run ./internal/gentestdb -o testdata/test.mmdb
