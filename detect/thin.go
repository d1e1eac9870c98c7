package detect

import (
	"slices"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
)

// thinKey is one (rule, identity, value) a light first-seen rule observes:
// the value "" is the identity's own history (see Batch.observe).
type thinKey struct {
	c               *compiled
	identity, value string
}

// thinEnds are the positions, in a batch being thinned, of the first and
// the last event of one thinKey.
type thinEnds struct{ first, last int }

// Thin removes from events, one reader's share of a batch in any order,
// each event that only light first-seen rules want (no other rule could
// match it, keep does not keep it) and that is neither the first nor the
// last of any (rule, identity, value) those rules observe in events. Of
// the events such a rule observes, a batch uses only each value's first
// event (its time and ID, the event KeepFirsts may store) and latest time
// (Batch.observe): the first and the last of a part of the batch include
// the batch's own, so Match over the events thinned gives the same
// baselines, the same Keep for what remains and the same alerts. An
// application calling all day is the usual case: every call of a
// principal is observed by the rules over the services and regions it
// uses, and all but a few carry nothing new. It returns events shortened
// in place, in their order; the events removed are counted by the caller
// (neither stored nor evaluated, as an event no rule wants). A rule over
// a field a GeoIP database fills in, which Match locates only later, keeps
// the events it observes.
func (e *Engine) Thin(events []iamwatch.Event, keep func(*iamwatch.Event) bool) []iamwatch.Event {
	if !e.light || len(events) < 2 {
		return events
	}
	var (
		ends  map[thinKey]*thinEnds
		keys  = make([][]thinKey, len(events)) // nil: the event stays
		times = make([]time.Time, len(events))
		done  []*compiled
	)
	for i := range events {
		ev := &events[i]
		if keep(ev) {
			continue
		}
		buckets := e.candidates(ev)
		if wants(buckets, ev) {
			continue
		}
		var ks []thinKey
		droppable := true
		done = done[:0]
		for _, list := range buckets {
			for _, c := range list {
				if !c.light || slices.Contains(done, c) {
					continue
				}
				done = append(done, c)
				if !c.observesLight(ev) || e.allowed(c, ev) {
					continue
				}
				b := c.rule.Baseline
				if b == nil || slices.Contains(geoFields, b.Value) || slices.ContainsFunc(b.By, func(f string) bool { return slices.Contains(geoFields, f) }) {
					droppable = false // a light threshold rule counts every event; see above for GeoIP
					break
				}
				vals := make([]string, len(b.By))
				for j, f := range b.By {
					vals[j] = fieldValue(ev, f)
				}
				id := strings.Join(vals, "/")
				ks = append(ks, thinKey{c, id, ""})
				if v := fieldValue(ev, b.Value); v != "" {
					ks = append(ks, thinKey{c, id, v})
				}
			}
			if !droppable {
				break
			}
		}
		if !droppable {
			continue
		}
		if ks == nil {
			ks = []thinKey{} // observed by none: nothing to keep it for
		}
		keys[i] = ks
		times[i] = ev.Time.Truncate(time.Second) // as observe keeps them
		for _, k := range ks {
			if ends == nil {
				ends = map[thinKey]*thinEnds{}
			}
			en := ends[k]
			if en == nil {
				ends[k] = &thinEnds{i, i}
				continue
			}
			f := en.first
			if times[i].Before(times[f]) || times[i].Equal(times[f]) && ev.ID < events[f].ID {
				en.first = i
			}
			if times[i].After(times[en.last]) {
				en.last = i
			}
		}
	}
	out := events[:0]
	for i := range events {
		if ks := keys[i]; ks != nil && !slices.ContainsFunc(ks, func(k thinKey) bool {
			en := ends[k]
			return en.first == i || en.last == i
		}) {
			continue
		}
		out = append(out, events[i])
	}
	clear(events[len(out):]) // drop the references of the events removed
	return out
}
