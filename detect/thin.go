package detect

import (
	"fmt"
	"slices"
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

// A Thinner thins one reader's batches before they reach the writer:
// Note tells, as Interested does, whether the reader wants each event it
// decodes, and notes what light first-seen rules observe of it; Thin then
// removes, from the events noted, each event that only light first-seen
// rules want (no other rule could match it, the filter does not store it)
// and that is neither the first nor the last of any (rule, identity,
// value) those rules observe in the batch. Of the events such a rule
// observes, a batch uses only each value's first event (its time and ID,
// the event KeepFirsts may store) and latest time (Batch.observe): the
// first and the last of a part of a batch include the batch's own, so
// Match over the events thinned gives the same baselines, the same Keep
// for what remains and the same alerts. An application calling all day is
// the usual case: every call of a principal is observed by the rules over
// the services and regions it uses, and all but a few carry nothing new.
// A rule over a field a GeoIP database fills in, which Match locates only
// later, keeps the events it observes. Not safe for concurrent use.
type Thinner struct {
	e    *Engine
	keys [][]thinKey // of each event noted: nil, it stays
	done []*compiled
}

// Thinner returns a Thinner, or nil when no rule is light.
func (e *Engine) Thinner() *Thinner {
	if !e.light {
		return nil
	}
	return &Thinner{e: e}
}

// Note reports whether the reader wants ev: stored (its filter keeps it)
// or Interested. When it does, ev is to be the next event of the batch
// Thin is given.
func (t *Thinner) Note(ev *iamwatch.Event, stored bool) bool {
	if stored {
		t.keys = append(t.keys, nil)
		return true
	}
	e := t.e
	buckets := e.candidates(ev)
	if wants(buckets, ev) {
		t.keys = append(t.keys, nil)
		return true
	}
	var ks []thinKey
	observed := false
	t.done = t.done[:0]
	for _, list := range buckets {
		for _, c := range list {
			if !c.light || slices.Contains(t.done, c) {
				continue
			}
			t.done = append(t.done, c)
			if !c.observesLight(ev) {
				continue
			}
			observed = true
			if e.allowed(c, ev) {
				continue
			}
			b := c.rule.Baseline
			if b == nil || c.rule.NeedsGeo() || slices.ContainsFunc(b.By, func(f string) bool { return slices.Contains(geoFields, f) }) {
				// A light threshold rule counts every event; see Thinner for GeoIP.
				t.keys = append(t.keys, nil)
				return true
			}
			id := identityOf(c, ev)
			ks = append(ks, thinKey{c, id, ""})
			if v := fieldValue(ev, b.Value); v != "" {
				ks = append(ks, thinKey{c, id, v})
			}
		}
	}
	if !observed {
		return false
	}
	if ks == nil {
		ks = []thinKey{} // observed under an allow-list only
	}
	t.keys = append(t.keys, ks)
	return true
}

// Thin removes from events, the events noted since the last Thin in
// their order, those the batch does not need (see Thinner), and forgets
// them. It returns events shortened in place; the caller counts the events
// removed (neither stored nor evaluated, as an event no rule wants).
func (t *Thinner) Thin(events []iamwatch.Event) []iamwatch.Event {
	keys := t.keys
	t.keys = t.keys[:0]
	if len(keys) != len(events) {
		panic(fmt.Sprintf("detect: Thin of %d events, %d noted", len(events), len(keys)))
	}
	var ends map[thinKey]*thinEnds
	times := make([]time.Time, len(events))
	for i, ks := range keys {
		if ks == nil {
			continue
		}
		ev := &events[i]
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
	clear(keys)
	return out
}
