package query

import (
	"strconv"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
)

// zoneChange is a UTC offset in force from a time on.
type zoneChange struct {
	from   time.Time
	offset int // seconds east of UTC.
}

// zoneChanges returns the UTC offsets of loc over [from, to): the offset at
// from, then one entry per change (daylight saving) inside the range, to the
// second.
func zoneChanges(loc *time.Location, from, to time.Time) []zoneChange {
	offsetAt := func(t time.Time) int { _, off := t.In(loc).Zone(); return off }
	out := []zoneChange{{from: from, offset: offsetAt(from)}}
	if !from.Before(to) {
		return out
	}
	const step = 24 * time.Hour // zones change offset at most a few times a year, never twice a day.
	for t := from; t.Before(to); {
		next := t.Add(step)
		if next.After(to) {
			next = to
		}
		cur := out[len(out)-1].offset
		if offsetAt(next) != cur {
			lo, hi := t, next // offsetAt(lo) == cur != offsetAt(hi): find the first second of hi's offset.
			for hi.Sub(lo) > time.Second {
				mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
				if !mid.After(lo) {
					mid = lo.Add(time.Second)
				}
				if offsetAt(mid) == cur {
					lo = mid
				} else {
					hi = mid
				}
			}
			out = append(out, zoneChange{from: hi, offset: offsetAt(hi)})
		}
		t = next
	}
	return out
}

// offsetExpr is an SQLite expression giving, for each row's time column col
// (text in iamwatch.TimeFormat) in [from, to), the UTC offset in seconds of
// loc at that time: a constant when the offset does not change in the
// range, else a CASE over the changes. Rows outside the range get the
// offset at the nearest end.
func offsetExpr(loc *time.Location, from, to time.Time, col string) string {
	zc := zoneChanges(loc, from, to)
	if len(zc) == 1 {
		return strconv.Itoa(zc[0].offset)
	}
	var b strings.Builder
	b.WriteString("(CASE")
	for i := 1; i < len(zc); i++ {
		b.WriteString(" WHEN " + col + " < '")
		b.WriteString(zc[i].from.UTC().Format(iamwatch.TimeFormat))
		b.WriteString("' THEN ")
		b.WriteString(strconv.Itoa(zc[i-1].offset))
	}
	b.WriteString(" ELSE ")
	b.WriteString(strconv.Itoa(zc[len(zc)-1].offset))
	b.WriteString(" END)")
	return b.String()
}

// wholeHours reports whether loc's UTC offset over [from, to) is a whole
// number of hours and changes only on whole UTC hours, so that an hour of
// UTC time is an hour of local time (what the hourly roll-up needs).
func wholeHours(loc *time.Location, from, to time.Time) bool {
	for i, zc := range zoneChanges(loc, from, to) {
		if zc.offset%3600 != 0 || i > 0 && !zc.from.Truncate(time.Hour).Equal(zc.from) {
			return false
		}
	}
	return true
}
