package cloudtrail

import (
	"strings"
	"time"
)

// parseEventTime reads a record's eventTime. CloudTrail writes RFC 3339 in
// UTC ("2025-03-26T16:43:57Z"), and that is the fast path. Records that
// passed through other tools come in other spellings of the same instant,
// and are read too rather than lost:
//   - a space for the "T" ("2025-03-26 16:43:57", as SQL engines and log
//     platforms print timestamps);
//   - up to nine fractional digits ("…16:43:57.000000000");
//   - no zone, or " UTC": UTC, which is what CloudTrail records;
//   - an offset without its colon ("+0000") or minutes ("+00").
//
// Anything else (a date alone, a month name, epoch seconds) is ErrBadTime
// for the caller to report.
func parseEventTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	// "YYYY-MM-DD?hh:mm:ss" is 19 bytes; the separator is T, t or a space.
	if len(s) < 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') {
		return time.Time{}, false
	}
	clock, rest := s[:19], s[19:]
	if strings.HasPrefix(rest, ".") {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 { // a dot without digits, or more than nanoseconds
			return time.Time{}, false
		}
		clock, rest = s[:19+n], rest[n:]
	}
	var zone string
	switch z := strings.TrimPrefix(rest, " "); {
	case z == "" || z == "Z" || z == "z" || z == "UTC":
		zone = "Z"
	case len(z) == 6 && (z[0] == '+' || z[0] == '-') && z[3] == ':': // ±hh:mm after a space
		zone = z
	case len(z) == 5 && (z[0] == '+' || z[0] == '-'): // ±hhmm
		zone = z[:3] + ":" + z[3:]
	case len(z) == 3 && (z[0] == '+' || z[0] == '-'): // ±hh
		zone = z + ":00"
	default:
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, clock[:10]+"T"+clock[11:]+zone)
	return t, err == nil
}
