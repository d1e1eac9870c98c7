package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"strings"
)

// appendSourceIPKey appends the events.source_ip_key of sourceIP to buf and
// returns the key (a slice of buf) as a bound value: 16 bytes, the address
// with IPv4 in its IPv4-mapped form, so that BLOB order is address order
// and a CIDR block is one range; nil (NULL) when sourceIP is not an IP
// address (a service name). See migrate_009.sql.
func appendSourceIPKey(buf []byte, sourceIP string) ([]byte, any) {
	if !maybeIP(sourceIP) {
		return buf, nil
	}
	ip, err := netip.ParseAddr(sourceIP)
	if err != nil {
		return buf, nil
	}
	k := ip.As16()
	n := len(buf)
	buf = append(buf, k[:]...)
	return buf, buf[n:len(buf):len(buf)]
}

// maybeIP is a cheap test that s could be an IP address, so that the
// service names of AWS calls are not parsed.
func maybeIP(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	c := s[0]
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':'
}

// keyRange returns the first and last source_ip_key of the block p.
func keyRange(p netip.Prefix) (lo, hi []byte) {
	p = p.Masked()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	a := p.Addr().As16()
	b := a
	for i := bits; i < 128; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return a[:], b[:]
}

// mappedBlock is ::ffff:0:0/96, where source_ip_key keeps IPv4 addresses.
var mappedBlock = netip.PrefixFrom(netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff}), 96)

// hidesIPv4 returns the keys of the IPv4 addresses when the block p is an
// IPv6 one wider than mappedBlock that holds it (::/0 up to ::/80): their
// keys fall in p's range, but an IPv6 block does not hold IPv4 addresses.
// A block within mappedBlock (::ffff:203.0.113.0/120) spells IPv4
// addresses and keeps them.
func hidesIPv4(p netip.Prefix) (lo, hi []byte, ok bool) {
	if !p.Addr().Is6() || p.Bits() >= mappedBlock.Bits() || !p.Contains(mappedBlock.Addr()) {
		return nil, nil, false
	}
	lo, hi = keyRange(mappedBlock)
	return lo, hi, true
}

// MaxSourceLen bounds the source filter's text, in bytes: the longest
// IPv6 text is 45 bytes, AWS service names a few dozen.
const MaxSourceLen = 128

// serviceNameChars are those of the source_ip values that are not
// addresses: AWS service names (iam.amazonaws.com) and "AWS Internal".
const serviceNameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_ "

// SetSource sets the filter's source from what a user typed: an IP
// address (IPv4 or IPv6, matched whatever the stored spelling: SourceNet
// becomes its /32 or /128), a CIDR block (203.0.113.0/24, 2001:db8::/48;
// host bits are ignored: SourceNet), or any other text matched exactly
// (SourceIP: a service name such as iam.amazonaws.com, or "AWS
// Internal"; only letters, digits, '.', '-', '_' and spaces, so that no
// markup, quote or control character gets this far). "" clears both. The error says what is wrong with s, for
// the user; the filter is unchanged then.
func (f *EventFilter) SetSource(s string) error {
	switch {
	case s == "":
		f.SourceIP, f.SourceNet = "", netip.Prefix{}
		return nil
	case len(s) > MaxSourceLen:
		return fmt.Errorf("%d bytes, more than %d: not an IP address, a CIDR block or a service name", len(s), MaxSourceLen)
	case strings.Contains(s, "/"):
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("%q is not a CIDR block such as 203.0.113.0/24 or 2001:db8::/32: %s", s, netipReason(err))
		}
		f.SourceIP, f.SourceNet = "", p.Masked()
		return nil
	}
	ip, err := netip.ParseAddr(s)
	if err == nil {
		if ip.Zone() != "" {
			return fmt.Errorf("%q has a zone (%%%s): CloudTrail logs none", s, ip.Zone())
		}
		f.SourceIP, f.SourceNet = "", netip.PrefixFrom(ip, ip.BitLen())
		return nil
	}
	if strings.Trim(s, "0123456789.") == "" || strings.Contains(s, ":") {
		return fmt.Errorf("%q is not an IP address: %s", s, netipReason(err))
	}
	if strings.Trim(s, serviceNameChars) != "" {
		return fmt.Errorf("%q is not an IP address, a CIDR block or a service name (letters, digits, '.', '-', '_' and spaces)", s)
	}
	f.SourceIP, f.SourceNet = s, netip.Prefix{}
	return nil
}

// netipReason is a net/netip parse error without its repeat of the input.
func netipReason(err error) string {
	m := err.Error()
	if i := strings.LastIndex(m, "): "); i >= 0 {
		return m[i+3:]
	}
	return m
}

// sourceNetProbe is how many events in a CIDR block make it broad: below,
// the query reads the block's events from the address index and sorts them
// by time (at most this many); at or above, it walks the time index and
// keeps the block's events, which are then at least one in
// (events/sourceNetProbe).
const sourceNetProbe = 5000

// broadNet reports whether f's CIDR block holds sourceNetProbe events or
// more: a bounded count over the address index.
func (s *Store) broadNet(ctx context.Context, f EventFilter) (bool, error) {
	if !f.SourceNet.IsValid() || f.SourceNet.Bits() == f.SourceNet.Addr().BitLen() {
		return false, nil
	}
	lo, hi := keyRange(f.SourceNet)
	q, args := "source_ip_key BETWEEN ? AND ?", []any{lo, hi}
	if vlo, vhi, ok := hidesIPv4(f.SourceNet); ok {
		q, args = q+" AND source_ip_key NOT BETWEEN ? AND ?", append(args, vlo, vhi)
	}
	var n int
	err := s.r.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM events WHERE %s LIMIT %d)", q, sourceNetProbe), args...).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("count events in %s: %w", f.SourceNet, err)
	}
	return n >= sourceNetProbe, nil
}

// sourceIPBackfill gives the events stored before version 9 their
// source_ip_key, in the migration's transaction: one pass over the
// distinct source_ip values, computed in Go (SQL has no IPv6 parser), then
// one UPDATE joining them.
func sourceIPBackfill(ctx context.Context, tx *sql.Tx) error {
	var ips []string
	err := eachRow(ctx, tx, "SELECT DISTINCT source_ip FROM events", nil, func(rows *sql.Rows) error {
		var ip string
		if err := rows.Scan(&ip); err != nil {
			return err
		}
		ips = append(ips, ip)
		return nil
	})
	if err != nil {
		return fmt.Errorf("source IP keys: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "CREATE TEMP TABLE source_ip_keys (ip TEXT PRIMARY KEY, key BLOB NOT NULL) WITHOUT ROWID"); err != nil {
		return fmt.Errorf("source IP keys: %w", err)
	}
	ins, err := tx.PrepareContext(ctx, "INSERT INTO temp.source_ip_keys (ip, key) VALUES (?, ?)")
	if err != nil {
		return fmt.Errorf("source IP keys: %w", err)
	}
	defer ins.Close()
	var buf []byte
	for _, ip := range ips {
		var key any
		if buf, key = appendSourceIPKey(buf[:0], ip); key == nil {
			continue
		}
		if _, err := ins.ExecContext(ctx, ip, key); err != nil {
			return fmt.Errorf("source IP keys: %w", err)
		}
	}
	for _, q := range []string{
		"UPDATE events SET source_ip_key = k.key FROM temp.source_ip_keys AS k WHERE k.ip = events.source_ip",
		"DROP TABLE temp.source_ip_keys",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("source IP keys: %w", err)
		}
	}
	return nil
}
