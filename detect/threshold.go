package detect

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/untrusted"
)

// Grouped rules: thresholds and dedup.
//
// A threshold rule (count N, within W) and a dedup rule (one alert per
// distinct field values) both group their matching events: each match is
// recorded as a hit (rule, group, event ID, event time) once per rule and
// event ID, so a repeated delivery never counts twice. Their alerts are
// incidents: one per (rule, group, period), where periods are aligned on
// the zero time and last the rule's dedup period (24h by default for a
// threshold rule, so UTC days). A dedup rule is a threshold of one event.
//
// Whether period P of a group has an alert, and everything in that alert,
// is a function of the set of the group's hits alone, never of the order
// they arrived in:
//
//   - it fires when some hit at S, P <= S < P+D, has N hits (its own
//     included) in [S, S+W]; the first such S opens the window, and the
//     N-th hit of that window is the event that raised the alert (its Time,
//     user, source IP and summary);
//   - Count, FirstSeen, LastSeen and the sample of event IDs cover the hits
//     in [P, P+D). The first window may reach past P+D, and the raising
//     event lie there: those hits count in the next period's incident.
//     (Counting them here too made the count depend on the order: hits
//     that open an earlier window leave fewer of the next period's in it,
//     so an alert computed before they came counted more, and Merge kept
//     it. A trail of leaked keys probed all day showed it: a 24h window on
//     UTC days.)
//
// A distinct threshold (threshold.distinct, or a sequence: distinct step
// names) reads "N hits" above as "hits holding N distinct values": it fires
// when some hit at S, P <= S < P+D, has hits in [S, S+W] with N distinct
// values (Hit.Value) between them; the first such S opens the window, and
// the raising event is the first hit of the window (by time, then ID) by
// which N distinct values have appeared. The summary shows how many
// distinct values the first window holds and the first few of them, each
// with the time it first appeared there. Every statement below holds for
// it as written: a window's distinct values, like its hits, only grow as
// hits are added.
//
// Adding hits can only move the window and the raising event earlier and
// raise the count (or leave it, when they fall outside the period), so an
// alert computed from more hits supersedes one computed from fewer
// (iamwatch.Merge): the same events in any order, in any batches, in one
// process or several, end in the same stored alerts.
// A rule that ignores repeats keeps the first and the last hit of each
// value in each slot, so an added hit may replace a kept one without
// raising the count: it then moves the first event earlier or the last one
// later, which Merge compares next (or, in the middle of the incident,
// changes only the sample, where Merge keeps the claim).
// A burst that lasts for days is one alert a period whose count grows.

// DefaultPeriod is the dedup period of a threshold rule that names none:
// one alert per group and UTC day.
const DefaultPeriod = 24 * time.Hour

// incident is what the hits of one (rule, group, period) amount to.
type incident struct {
	raised      iamwatch.Hit // the N-th hit of the first window
	windowStart time.Time
	windowCount int
	window      distinctSeen // a distinct threshold's first window
	count       int
	first, last time.Time
	sample      []string
}

// Hit values (iamwatch.Hit.Value): each value sanitized and cut, at most
// maxHitValues an event, sorted, joined by "\n" (which sanitize escapes).
const (
	maxValueLen  = 256
	maxHitValues = 20
)

// encodeValues returns the Hit.Value of an event's values: "" for none.
func encodeValues(vals []string) string {
	if len(vals) == 1 { // the common case: no copy
		if vals[0] == "" {
			return ""
		}
		return sanitize(vals[0], maxValueLen)
	}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if v != "" {
			out = append(out, sanitize(v, maxValueLen))
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return strings.Join(out[:min(len(out), maxHitValues)], "\n")
}

// eachValue calls f with each value of a Hit.Value.
func eachValue(v string, f func(string)) {
	for v != "" {
		var one string
		one, v, _ = strings.Cut(v, "\n")
		if one != "" {
			f(one)
		}
	}
}

// distinctSeen is what a distinct threshold's summary shows of a window:
// how many distinct values it holds, and the first maxShownValues of them
// by first appearance (time, then event ID, then value), with that time.
type distinctSeen struct {
	n     int
	shown []seenValue
}

type seenValue struct {
	value string
	at    time.Time
}

// maxShownValues bounds the values a summary names.
const maxShownValues = 8

// seenIn returns the distinctSeen of hits (sorted by time and ID, no repeats).
func seenIn(hits []iamwatch.Hit) distinctSeen {
	var d distinctSeen
	seen := map[string]bool{}
	for _, h := range hits {
		var vals []string
		eachValue(h.Value, func(v string) {
			if !seen[v] {
				seen[v] = true
				vals = append(vals, v)
			}
		})
		slices.Sort(vals) // already so when encoded; kept for hits of any source
		for _, v := range vals {
			d.n++
			if len(d.shown) < maxShownValues {
				d.shown = append(d.shown, seenValue{v, h.Time})
			}
		}
	}
	return d
}

// periodOf returns the start of the period holding t.
func periodOf(t time.Time, period time.Duration) time.Time { return t.UTC().Truncate(period) }

func sortHits(hs []iamwatch.Hit) {
	slices.SortFunc(hs, func(a, b iamwatch.Hit) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.EventID, b.EventID)
	})
}

// hitsRange is the event-time range of hits that decide period p.
func hitsRange(p time.Time, period, within time.Duration) (from, to time.Time) {
	return p, p.Add(period + within)
}

// evalIncident decides period p from hits (every hit of the group in
// hitsRange, in any order; it is sorted in place). When distinct is set
// the window needs count distinct values rather than count hits. ok is
// false when the period has no alert.
func evalIncident(hits []iamwatch.Hit, p time.Time, period time.Duration, count int, within time.Duration, distinct bool) (inc incident, ok bool) {
	sortHits(hits)
	hits = slices.CompactFunc(hits, func(a, b iamwatch.Hit) bool { return a.EventID == b.EventID })
	end := p.Add(period)
	j := 0
	// A distinct threshold slides a multiset of the values of hits[lo:j].
	var win map[string]int
	if distinct {
		win = map[string]int{}
	}
	lo := 0
	for i, s := range hits {
		if s.Time.Before(p) {
			continue
		}
		if !s.Time.Before(end) {
			break
		}
		if distinct {
			for ; lo < i; lo++ {
				if lo < j {
					eachValue(hits[lo].Value, func(v string) {
						if win[v]--; win[v] == 0 {
							delete(win, v)
						}
					})
				}
			}
		}
		j = max(j, i)
		for j < len(hits) && !hits[j].Time.After(s.Time.Add(within)) {
			if distinct {
				eachValue(hits[j].Value, func(v string) { win[v]++ })
			}
			j++
		}
		raised := i + count - 1
		if distinct {
			if len(win) < count {
				continue
			}
			raised = reachesDistinct(hits[i:j], count) + i
		} else if j-i < count {
			continue
		}
		inc = incident{raised: hits[raised], windowStart: s.Time, windowCount: j - i}
		if distinct {
			inc.window = seenIn(hits[i:j])
		}
		// The incident's events: the period's.
		var members []iamwatch.Hit
		for _, h := range hits {
			if !h.Time.Before(p) && h.Time.Before(end) {
				members = append(members, h)
			}
		}
		inc.count = len(members)
		inc.first, inc.last = members[0].Time, members[len(members)-1].Time
		for _, h := range members[:min(len(members), iamwatch.MaxSampleIDs)] {
			inc.sample = append(inc.sample, h.EventID)
		}
		if len(members) > iamwatch.MaxSampleIDs {
			inc.sample = append(inc.sample, members[len(members)-1].EventID)
		}
		return inc, true
	}
	return incident{}, false
}

// reachesDistinct returns the index of the first of hits by which count
// distinct values have appeared; hits hold at least that many.
func reachesDistinct(hits []iamwatch.Hit, count int) int {
	seen := map[string]bool{}
	for k, h := range hits {
		eachValue(h.Value, func(v string) { seen[v] = true })
		if len(seen) >= count {
			return k
		}
	}
	return len(hits) - 1
}

// text renders the shown values for a summary: "a, b, c" and "a (at
// 10:00:01Z), b (at 10:02:13Z)", each value cut to maxShownRunes, with
// "and N more" when the window holds more than are shown.
func (d distinctSeen) text() (values, timeline string) {
	var vs, ts []string
	for _, s := range d.shown {
		v := untrusted.Truncate(s.value, maxShownRunes)
		vs = append(vs, v)
		ts = append(ts, fmt.Sprintf("%s (at %s)", v, s.at.UTC().Format(iamwatch.TimeFormat)))
	}
	if more := d.n - len(d.shown); more > 0 {
		vs = append(vs, fmt.Sprintf("and %d more", more))
		ts = append(ts, fmt.Sprintf("and %d more", more))
	}
	return strings.Join(vs, ", "), strings.Join(ts, ", ")
}

// maxShownRunes bounds each value a summary names.
const maxShownRunes = 96
