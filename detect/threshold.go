package detect

import (
	"cmp"
	"slices"
	"time"

	"github.com/iamwatch/iamwatch"
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
//     in [P, P+D), and the first window's hits if it reaches past P+D.
//
// Adding hits can only move the window and the raising event earlier and
// raise the count, so an alert computed from more hits supersedes one
// computed from fewer (iamwatch.Merge): the same events in any order, in
// any batches, in one process or several, end in the same stored alerts.
// A burst that lasts for days is one alert a period whose count grows.

// DefaultPeriod is the dedup period of a threshold rule that names none:
// one alert per group and UTC day.
const DefaultPeriod = 24 * time.Hour

// incident is what the hits of one (rule, group, period) amount to.
type incident struct {
	raised      iamwatch.Hit // the N-th hit of the first window
	windowStart time.Time
	windowCount int
	count       int
	first, last time.Time
	sample      []string
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
// hitsRange, in any order; it is sorted in place). ok is false when the
// period has no alert.
func evalIncident(hits []iamwatch.Hit, p time.Time, period time.Duration, count int, within time.Duration) (inc incident, ok bool) {
	sortHits(hits)
	hits = slices.CompactFunc(hits, func(a, b iamwatch.Hit) bool { return a.EventID == b.EventID })
	end := p.Add(period)
	j := 0
	for i, s := range hits {
		if s.Time.Before(p) {
			continue
		}
		if !s.Time.Before(end) {
			break
		}
		j = max(j, i)
		for j < len(hits) && !hits[j].Time.After(s.Time.Add(within)) {
			j++
		}
		if j-i < count {
			continue
		}
		inc = incident{raised: hits[i+count-1], windowStart: s.Time, windowCount: j - i}
		// The incident's events: the period's, and the first window's.
		var members []iamwatch.Hit
		for _, h := range hits {
			if !h.Time.Before(p) && (h.Time.Before(end) || !h.Time.After(s.Time.Add(within))) {
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
