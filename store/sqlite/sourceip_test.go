package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// sourceEvents are events from IPv4, IPv6 and IPv4-mapped addresses,
// spelled as records may spell them, and from AWS services.
func sourceEvents() []iamwatch.Event {
	ips := []string{
		"203.0.113.7", "203.0.113.70", "203.0.113.255", "203.0.112.9", "203.0.127.1", "203.0.128.1",
		"198.51.100.7", "::ffff:203.0.113.9", "2001:db8::1", "2001:DB8:0:0::2", "2001:db8:1::5",
		"2001:db9::1", "fe80::1", "iam.amazonaws.com", "AWS Internal", "",
	}
	start := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	evs := testEvents("src", start, len(ips))
	for i := range evs {
		evs[i].SourceIP = ips[i]
	}
	return evs
}

// TestSourceFilter searches by address, CIDR block (IPv4 and IPv6, on
// and off octet boundaries) and service name, along both plans a block
// can take, and checks that the address index serves them.
func TestSourceFilter(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, ":memory:")
	defer s.Close()
	evs := sourceEvents()
	if _, err := s.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	ipsOf := func(got []iamwatch.Event) []string {
		var out []string
		for _, e := range got {
			out = append(out, e.SourceIP)
		}
		return out
	}
	tests := []struct {
		source string
		want   []string // source_ip of the events found, oldest first.
	}{
		{"203.0.113.7", []string{"203.0.113.7"}},
		{"203.0.113.9", []string{"::ffff:203.0.113.9"}}, // the same address, spelled as IPv6.
		{"203.0.113.0/24", []string{"203.0.113.7", "203.0.113.70", "203.0.113.255", "::ffff:203.0.113.9"}},
		{"203.0.113.64/26", []string{"203.0.113.70"}},
		{"203.0.113.200/24", []string{"203.0.113.7", "203.0.113.70", "203.0.113.255", "::ffff:203.0.113.9"}}, // host bits ignored.
		{"203.0.112.0/20", []string{"203.0.113.7", "203.0.113.70", "203.0.113.255", "203.0.112.9", "203.0.127.1", "::ffff:203.0.113.9"}},
		{"203.0.113.7/32", []string{"203.0.113.7"}},
		{"0.0.0.0/0", []string{"203.0.113.7", "203.0.113.70", "203.0.113.255", "203.0.112.9", "203.0.127.1", "203.0.128.1", "198.51.100.7", "::ffff:203.0.113.9"}},
		{"::ffff:203.0.113.0/120", []string{"203.0.113.7", "203.0.113.70", "203.0.113.255", "::ffff:203.0.113.9"}},
		{"2001:db8::2", []string{"2001:DB8:0:0::2"}}, // however the record spelled it.
		{"2001:db8::/64", []string{"2001:db8::1", "2001:DB8:0:0::2"}},
		{"2001:db8::/32", []string{"2001:db8::1", "2001:DB8:0:0::2", "2001:db8:1::5"}},
		{"2001:db8::/31", []string{"2001:db8::1", "2001:DB8:0:0::2", "2001:db8:1::5", "2001:db9::1"}},
		{"fe80::/10", []string{"fe80::1"}},
		// An IPv6 block holds no IPv4 address, though their keys are
		// IPv4-mapped ones; the mapped block itself spells IPv4.
		{"::/0", []string{"2001:db8::1", "2001:DB8:0:0::2", "2001:db8:1::5", "2001:db9::1", "fe80::1"}},
		{"::/80", nil},
		{"::ffff:0:0/96", []string{"203.0.113.7", "203.0.113.70", "203.0.113.255", "203.0.112.9", "203.0.127.1", "203.0.128.1", "198.51.100.7", "::ffff:203.0.113.9"}},
		{"198.51.100.0/25", []string{"198.51.100.7"}},
		{"192.0.2.0/24", nil},
		{"iam.amazonaws.com", []string{"iam.amazonaws.com"}},
		{"AWS Internal", []string{"AWS Internal"}},
	}
	for _, tt := range tests {
		for _, broad := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/broad=%v", tt.source, broad), func(t *testing.T) {
				var f EventFilter
				if err := f.SetSource(tt.source); err != nil {
					t.Fatal(err)
				}
				f.broadNet = broad
				q, args := f.query()
				got, err := eachEvent(ctx, s, q, args)
				if err != nil {
					t.Fatal(err)
				}
				if g := ipsOf(got); !slices.Equal(g, tt.want) {
					t.Errorf("events from %s = %q, want %q", tt.source, g, tt.want)
				}
				if f.SourceNet.IsValid() && !broad {
					if p := queryPlan(t, s, q, args); !strings.Contains(p, "events_ip_time") {
						t.Errorf("plan of %s does not use the address index:\n%s", tt.source, p)
					}
				}
			})
		}
		// And through Events, which picks the plan.
		var f EventFilter
		if err := f.SetSource(tt.source); err != nil {
			t.Fatal(err)
		}
		got, err := s.Events(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if g := ipsOf(got); !slices.Equal(g, tt.want) {
			t.Errorf("Events from %s = %q, want %q", tt.source, g, tt.want)
		}
		counts, n, err := s.EventCounts(ctx, f, "source_ip", 0)
		if err != nil || n != len(tt.want) || len(counts) != len(tt.want) {
			t.Errorf("EventCounts from %s = %v, %d, %v; want %d events", tt.source, counts, n, err, len(tt.want))
		}
	}
}

func eachEvent(ctx context.Context, s *Store, q string, args []any) ([]iamwatch.Event, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []iamwatch.Event
	for rows.Next() {
		e, err := s.scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func queryPlan(t *testing.T, s *Store, q string, args []any) string {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A broad block (sourceNetProbe events or more) walks the time index; a
// narrow one reads the address index.
func TestSourceFilterBroad(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, ":memory:")
	defer s.Close()
	evs := testEvents("b", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), sourceNetProbe+10)
	for i := range evs {
		evs[i].SourceIP = fmt.Sprintf("198.51.100.%d", i%100)
	}
	evs[0].SourceIP = "203.0.113.1"
	if _, err := s.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		source string
		broad  bool
		n      int
	}{{"198.51.100.0/24", true, sourceNetProbe + 9}, {"203.0.113.0/24", false, 1}, {"198.51.100.5", false, 51}} {
		var f EventFilter
		if err := f.SetSource(tt.source); err != nil {
			t.Fatal(err)
		}
		broad, err := s.broadNet(ctx, f)
		if err != nil || broad != tt.broad {
			t.Errorf("broadNet(%s) = %v, %v; want %v", tt.source, broad, err, tt.broad)
		}
		got, err := s.Events(ctx, f)
		if err != nil || len(got) != tt.n {
			t.Errorf("Events from %s: %d, %v; want %d", tt.source, len(got), err, tt.n)
		}
	}
}

// Hostile or mistyped input is refused with a reason, and leaves the
// filter as it was.
func TestSetSourceRejects(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"203.0.113.0/33", "not a CIDR block"},
		{"203.0.113.0/24/8", "not a CIDR block"},
		{"203.0.113.0/-1", "not a CIDR block"},
		{"2001:db8::/129", "not a CIDR block"},
		{"fe80::1%eth0/64", "not a CIDR block"},
		{"fe80::1%eth0", "zone"},
		{"203.0.113.999", "not an IP address"},
		{"203.000.113.7", "not an IP address"},
		{"203.0.113", "not an IP address"},
		{"2001:db8:::1", "not an IP address"},
		{"::ffff:1.2.3", "not an IP address"},
		{"' OR 1=1 --", "not an IP address, a CIDR block or a service name"},
		{"<script>alert(1)</script>", "not a CIDR block"},
		{"<b>x", "not an IP address, a CIDR block or a service name"},
		{"iam.amazonaws.com\u202e", "not an IP address, a CIDR block or a service name"},
		{"a\x00b", "not an IP address, a CIDR block or a service name"},
		{"\xff\xfe", "not an IP address, a CIDR block or a service name"},
		{strings.Repeat("a", MaxSourceLen+1), "more than"},
	} {
		f := EventFilter{SourceIP: "kept"}
		err := f.SetSource(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SetSource(%q) = %v, want an error saying %q", tt.in, err, tt.want)
		}
		if f.SourceIP != "kept" || f.SourceNet.IsValid() {
			t.Errorf("SetSource(%q) changed the filter: %+v", tt.in, f)
		}
	}
}

// undoSourceIP is migrate_009.sql's down step (written in its comment),
// after migrate_010.sql's.
var undoSourceIP = append(slices.Clone(undoHitOrder), "DROP INDEX events_ip_time", "ALTER TABLE events DROP COLUMN source_ip_key", "ALTER TABLE console_sessions DROP COLUMN read_only")

// TestSourceIPMigration: events stored before version 9 get their keys
// from the migration, and are found by address and block.
func TestSourceIPMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "db")
	s := openTest(t, path)
	for _, q := range append(slices.Clone(undoSourceIP), "PRAGMA user_version = 8") {
		if _, err := s.w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	// A version-8 program stores the events (no key column).
	evs := sourceEvents()
	for _, e := range evs {
		if _, err := s.w.Exec("INSERT INTO events (event_id, event_time, event_date, source_ip) VALUES (?, ?, ?, ?)",
			e.ID, e.Time.Format(iamwatch.TimeFormat), e.Time.Format(time.DateOnly), e.SourceIP); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTest(t, path)
	defer s.Close()
	if got := queryStrings(t, s.w, "PRAGMA user_version"); !slices.Equal(got, []string{fmt.Sprint(len(migrations))}) {
		t.Fatalf("user_version = %v", got)
	}
	keyed := queryStrings(t, s.w, "SELECT source_ip FROM events WHERE source_ip_key IS NOT NULL ORDER BY source_ip_key")
	want := []string{"198.51.100.7", "203.0.112.9", "203.0.113.7", "::ffff:203.0.113.9", "203.0.113.70", "203.0.113.255", "203.0.127.1", "203.0.128.1",
		"2001:db8::1", "2001:DB8:0:0::2", "2001:db8:1::5", "2001:db9::1", "fe80::1"}
	if !slices.Equal(keyed, want) {
		t.Errorf("keys after the migration, in key order: %q\nwant %q", keyed, want)
	}
	var f EventFilter
	if err := f.SetSource("203.0.113.0/24"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Events(ctx, f); err != nil || len(got) != 4 {
		t.Errorf("Events in 203.0.113.0/24 after the migration: %d, %v; want 4", len(got), err)
	}
	// Events stored after it are keyed as they go in.
	more := testEvents("new", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 1)
	more[0].SourceIP = "203.0.113.44"
	if _, err := s.PutEvents(ctx, more); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Events(ctx, f); err != nil || len(got) != 5 {
		t.Errorf("Events in 203.0.113.0/24 after one more: %d, %v; want 5", len(got), err)
	}
}

func BenchmarkSourceIPKey(b *testing.B) {
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf, _ = appendSourceIPKey(buf[:0], "203.0.113.7")
		buf, _ = appendSourceIPKey(buf, "iam.amazonaws.com")
	}
}
