package query

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"

	"github.com/iamwatch/iamwatch/untrusted"
)

func TestParseAge(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"7d", 7 * 24 * time.Hour, false},
		{"24h", 24 * time.Hour, false},
		{"2w", 14 * 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"30s", 30 * time.Second, false},
		{"365d", 365 * 24 * time.Hour, false},
		{"", 0, true},
		{"0d", 0, true},
		{"d", 0, true},
		{"7", 0, true},
		{"7y", 0, true},
		{"-7d", 0, true},
		{"7 d", 0, true},
		{"99999999999999999999d", 0, true},
		{"9999999999999w", 0, true},
	} {
		got, err := ParseAge(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		loc  *time.Location
		want string // RFC 3339 in UTC; "" for an error
	}{
		{"7d", nil, "2026-03-09T12:00:00Z"},
		{"36h", nil, "2026-03-15T00:00:00Z"},
		{"2026-03-01", nil, "2026-03-01T00:00:00Z"},
		{"2026-03-01", paris, "2026-02-28T23:00:00Z"},
		{"2026-07-01", paris, "2026-06-30T22:00:00Z"},
		{"2026-03-01T08:30", paris, "2026-03-01T07:30:00Z"},
		{"2026-03-01T08:30:15Z", paris, "2026-03-01T08:30:15Z"},
		{"2026-03-01T08:30:15+02:00", nil, "2026-03-01T06:30:15Z"},
		{" 2026-03-01 ", nil, "2026-03-01T00:00:00Z"},
		{"yesterday", nil, ""},
		{"2026-13-01", nil, ""},
		{"", nil, ""},
	} {
		got, err := ParseTime(tc.in, now, tc.loc)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseTime(%q) = %v, want an error", tc.in, got)
		case tc.want != "" && (err != nil || got.UTC().Format(time.RFC3339) != tc.want):
			t.Errorf("ParseTime(%q, %v) = %v, %v; want %s", tc.in, tc.loc, got.UTC(), err, tc.want)
		}
	}
}

func TestParseBusinessHours(t *testing.T) {
	for _, tc := range []struct {
		in         string
		start, end time.Duration
		err        bool
	}{
		{"06:00-22:00", 6 * time.Hour, 22 * time.Hour, false},
		{"9-17", 9 * time.Hour, 17 * time.Hour, false},
		{"22:00-06:00", 22 * time.Hour, 6 * time.Hour, false},
		{"08:30 - 24:00", 8*time.Hour + 30*time.Minute, 24 * time.Hour, false},
		{"09:00-09:00", 0, 0, true},
		{"25:00-26:00", 0, 0, true},
		{"09:60-10:00", 0, 0, true},
		{"nine-five", 0, 0, true},
		{"09:00", 0, 0, true},
	} {
		s, e, err := ParseBusinessHours(tc.in)
		if (err != nil) != tc.err || s != tc.start || e != tc.end {
			t.Errorf("ParseBusinessHours(%q) = %v, %v, %v", tc.in, s, e, err)
		}
	}
}

// TestZoneChanges finds daylight-saving changes to the second, and the
// offset expression SQLite evaluates agrees with Go for every hour of a year.
func TestZoneChanges(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	zc := zoneChanges(paris, from, to)
	want := []zoneChange{
		{from, 3600},
		{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), 7200},
		{time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), 3600},
	}
	if len(zc) != len(want) {
		t.Fatalf("changes %v, want %v", zc, want)
	}
	for i := range want {
		if !zc[i].from.Equal(want[i].from) || zc[i].offset != want[i].offset {
			t.Errorf("change %d = %v %d, want %v %d", i, zc[i].from, zc[i].offset, want[i].from, want[i].offset)
		}
	}
	if got := offsetExpr(time.UTC, from, to, "event_time"); got != "0" {
		t.Errorf("UTC offset = %s", got)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if got := offsetExpr(tokyo, from, to, "event_time"); got != "32400" {
		t.Errorf("Tokyo offset = %s", got)
	}
	expr := offsetExpr(paris, from, to, "event_time")
	if !strings.HasPrefix(expr, "(CASE WHEN event_time < '2026-03-29T01:00:00Z' THEN 3600 WHEN event_time < '2026-10-25T01:00:00Z' THEN 7200 ELSE 3600 END)") {
		t.Errorf("Paris offset = %s", expr)
	}
}

func TestOffHours(t *testing.T) {
	for _, tc := range []struct {
		p    Params
		want string
	}{
		{Params{}, "(lm < 360 OR lm >= 1320)"},
		{Params{BusinessStart: 9 * time.Hour, BusinessEnd: 17*time.Hour + 30*time.Minute}, "(lm < 540 OR lm >= 1050)"},
		{Params{BusinessStart: 22 * time.Hour, BusinessEnd: 6 * time.Hour}, "(lm >= 360 AND lm < 1320)"},
		{Params{Weekends: true}, "((lm < 360 OR lm >= 1320) OR wd >= 5)"},
	} {
		if got := offHours(tc.p); got != tc.want {
			t.Errorf("offHours(%+v) = %s, want %s", tc.p, got, tc.want)
		}
	}
}

func TestBindAndInline(t *testing.T) {
	vals := map[string]any{"user": "o'brien", "n": int64(3)}
	sql, args, err := bind("SELECT ':user', :user, :n WHERE x = 'it''s :n'", vals, false)
	if err != nil || sql != "SELECT ':user', ?, ? WHERE x = 'it''s :n'" || len(args) != 2 || args[0] != "o'brien" {
		t.Errorf("bind = %q %v %v", sql, args, err)
	}
	sql, _, err = bind("SELECT :user, :n", vals, true)
	if err != nil || sql != "SELECT 'o''brien', 3" {
		t.Errorf("inline = %q %v", sql, err)
	}
	if _, _, err := bind("SELECT :nope", vals, false); err == nil {
		t.Error("unknown placeholder bound")
	}
	if _, _, err := bind("SELECT 'open", vals, false); err == nil {
		t.Error("unterminated literal accepted")
	}
}

func TestCell(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 10, "plain"},
		{"exactly10!", 10, "exactly10!"},
		{"longer than ten", 10, "longer th…"},
		{"a\x1b[31mb", -1, `a\x1b[31mb`},
		{"line\nbreak\rret\ttab", -1, `line\x0abreak\x0dret tab`},
		{"c1 \u009b x", -1, `c1 \x9b x`},
		{"bidi \u202eevil", -1, `bidi \u202eevil`},
		{"bad \xff byte", -1, `bad \xff byte`},
		{"山田太郎", 5, "山田…"},
		{"山田太郎", 8, "山田太郎"},
		{"x", 0, ""},
	} {
		if got := Cell(tc.in, tc.max); got != tc.want {
			t.Errorf("Cell(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

// FuzzCell: a cell never carries a control character or a bidi override,
// is valid UTF-8, and fits its width.
func FuzzCell(f *testing.F) {
	for _, s := range []string{"plain", "a\x1b[31mb\r\n", "山田太郎", "\u202e\u009b\xff", strings.Repeat("x", 100)} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max%200 - 1 // -1 (no bound) … 198
		got := Cell(s, max)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || untrusted.Hidden(r) {
				t.Fatalf("Cell(%q) = %q holds %U", s, got, r)
			}
		}
		if max >= 0 && runewidth.StringWidth(got) > max {
			t.Fatalf("Cell(%q, %d) = %q is %d wide", s, max, got, runewidth.StringWidth(got))
		}
	})
}
