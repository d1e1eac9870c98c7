package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseAge reads a length of time as the command line writes it: a sequence
// of <integer><unit> with units w (7 days), d (24 hours), h, m and s, e.g.
// "7d", "36h", "1d12h", "90m". Days are 24 hours. The result is positive.
func ParseAge(s string) (time.Duration, error) {
	orig := s
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, fmt.Errorf("bad duration %q: want e.g. 7d, 24h, 30m, 2w, 1d12h", orig)
		}
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q: %w", orig, err)
		}
		var unit time.Duration
		switch s[i] {
		case 'w':
			unit = 7 * 24 * time.Hour
		case 'd':
			unit = 24 * time.Hour
		case 'h':
			unit = time.Hour
		case 'm':
			unit = time.Minute
		case 's':
			unit = time.Second
		default:
			return 0, fmt.Errorf("bad duration %q: unknown unit %q (want w, d, h, m or s)", orig, s[i])
		}
		const max = time.Duration(1<<63 - 1)
		if n > int64(max/unit) || total > max-time.Duration(n)*unit {
			return 0, fmt.Errorf("bad duration %q: too long", orig)
		}
		total += time.Duration(n) * unit
		s = s[i+1:]
	}
	if total <= 0 {
		return 0, fmt.Errorf("bad duration %q: must be more than zero", orig)
	}
	return total, nil
}

// ParseTime reads a point in time as the command line writes it: an age
// before now ("7d", "24h": now minus that), a date YYYY-MM-DD (midnight in
// loc, UTC when nil), a date and time "YYYY-MM-DDTHH:MM[:SS]" (in loc), or
// RFC 3339 with a zone.
func ParseTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{time.DateOnly, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if s[0] >= '0' && s[0] <= '9' && !strings.Contains(s, "-") {
		d, err := ParseAge(s)
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("bad time %q: want an age (7d, 24h), a date (2026-01-31), or RFC 3339 (2026-01-31T08:00:00Z)", s)
}

// ParseClock reads a time of day "HH:MM" (or "HH") as an offset from
// midnight; "24:00" is the end of the day.
func ParseClock(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		m = "0"
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || len(h) == 0 || len(h) > 2 || len(m) > 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("bad time of day %q: want HH:MM, e.g. 06:00", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

// ParseBusinessHours reads "HH:MM-HH:MM" (e.g. "06:00-22:00").
func ParseBusinessHours(s string) (start, end time.Duration, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("bad business hours %q: want HH:MM-HH:MM, e.g. 06:00-22:00", s)
	}
	if start, err = ParseClock(strings.TrimSpace(a)); err != nil {
		return 0, 0, err
	}
	if end, err = ParseClock(strings.TrimSpace(b)); err != nil {
		return 0, 0, err
	}
	if start == end || start >= 24*time.Hour {
		return 0, 0, fmt.Errorf("bad business hours %q: start and end must differ, start before 24:00", s)
	}
	return start, end, nil
}
