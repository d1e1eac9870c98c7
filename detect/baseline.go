package detect

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/untrusted"
)

// Baseline makes a rule a first-seen rule: it alerts on the first event of
// an identity (the By fields, joined with "/") with a Value (a field:
// country, asn, aws_region, event_source, …) the identity never had before,
// once the identity's history under the rule is Learning long.
//
// Semantics, over event time only (never arrival order):
//
//   - The store keeps, per (rule, identity, value), the first and last
//     event seen (iamwatch.BaselineEntry), and per (rule, identity) the
//     identity's first event under the rule (Value ""), which starts its
//     learning period. Merging keeps the earliest first, so the entries are
//     a function of the set of events seen, whatever their order.
//   - (identity, value) is new when its first event comes at or after the
//     identity's first event + Learning. The alert is raised by that first
//     event and keyed by (rule, identity, value): one alert per identity
//     and value, ever.
//   - Each batch re-decides the values whose first event it brought, and
//     every value of an identity whose first event it moved earlier (the
//     learning period then ends earlier). So a backfill in any order ends
//     with the same standing alerts: a later event that alerted first is
//     replaced by the earlier one (iamwatch.Merge keeps the earlier raising
//     event), and an alert whose value turns out to have been seen within
//     the learning period (an older event came late) is withdrawn: kept at
//     severity info, tagged iamwatch.WithdrawnTag, its summary saying why,
//     and reinstated (iamwatch.Merge) when a still older event moves the
//     learning period back. Notifications already sent are not recalled.
//
// State is one entry per distinct value of an identity, never per event.
type Baseline struct {
	By       []string
	Value    string
	Learning time.Duration
	// Values, when set, are the values that alert (wildcards, "*" any
	// run): every matched event still builds the identity's history, but
	// a new value outside Values is learnt silently. So "first use of
	// Bedrock" compares against everything the identity did.
	Values []string

	values []*glob
}

// alerts reports whether a new value v raises an alert (see Values).
func (b *Baseline) alerts(v string) bool {
	return len(b.values) == 0 || slices.ContainsFunc(b.values, func(g *glob) bool { return g.match(v) })
}

// geoFields are the fields only a GeoIP database fills in: a baseline over
// one of them is off without a database.
var geoFields = []string{"country", "asn", "as_org"}

// GeoTag marks a rule whose condition needs a GeoIP database (it reads
// country, asn or as_org): like a first-seen rule over one of them, it is
// off without a database, and says so.
const GeoTag = "geoip"

// NeedsGeo reports whether r compares a value only a GeoIP database gives
// (an impossible-travel rule needs a city database's coordinates, too).
func (r *Rule) NeedsGeo() bool {
	return r.Baseline != nil && slices.Contains(geoFields, r.Baseline.Value) || r.Travel != nil || slices.Contains(r.Tags, GeoTag)
}

// identityOf is the identity first-seen rule c keeps ev's value under: the
// values of its baseline's by fields.
func identityOf(c *compiled, ev *iamwatch.Event) string {
	vals := make([]string, len(c.rule.Baseline.By))
	for i, f := range c.rule.Baseline.By {
		vals[i] = fieldValue(ev, f)
	}
	return strings.Join(vals, "/")
}

// obsKey is one (rule, identity) of a batch's observations.
type obsKey struct {
	c        *compiled
	identity string
}

// observation is what a batch saw of one value of one identity: the entry
// to merge, and its first event.
type observation struct {
	entry iamwatch.BaselineEntry
	first *iamwatch.Event
	pos   int // first's position in the batch
}

// actor is the decoded fields an identity of the actor is made of (see
// actorFields).
type actor struct{ account, typ, arn, user, key string }

func actorOf(ev *iamwatch.Event) actor {
	return actor{ev.AccountID, ev.IdentityType, ev.PrincipalARN, ev.UserName, ev.AccessKeyID}
}

// actorFields are the fields that depend on the actor alone: a baseline
// keyed by them gives equal identities for equal actors.
var actorFields = []string{"account_id", "identity_type", "principal_arn", "user_name", "access_key_id", "principal", "role_name"}

// lastIdentity is the identity of the last event a baseline rule observed
// in a batch, and its observations.
type lastIdentity struct {
	actor actor
	key   obsKey
	obs   map[string]*observation
}

// observe records ev, the batch's i-th event, for the baseline rule c.
func (b *Batch) observe(c *compiled, ev *iamwatch.Event, i int) {
	// A batch's events come in runs of one actor: the identity of the last
	// event c observed is reused when the fields it is made of are equal.
	lc := b.lastIdentity[c]
	var k obsKey
	var m map[string]*observation
	if lc != nil && c.identityOfActor && lc.actor == actorOf(ev) {
		k, m = lc.key, lc.obs
	} else {
		k = obsKey{c, identityOf(c, ev)}
		if b.obs == nil {
			b.obs = map[obsKey]map[string]*observation{}
			b.lastIdentity = map[*compiled]*lastIdentity{}
		}
		if m = b.obs[k]; m == nil {
			m = map[string]*observation{}
			b.obs[k] = m
		}
		b.lastIdentity[c] = &lastIdentity{actor: actorOf(ev), key: k, obs: m}
	}
	// Entries are kept to the second, as stored: the batch's first event of
	// a value is the one merging its events one by one would keep.
	t := ev.Time.Truncate(time.Second)
	add := func(value string) {
		o := m[value]
		if o == nil {
			m[value] = &observation{first: ev, pos: i, entry: iamwatch.BaselineEntry{Rule: c.rule.ID, Identity: k.identity,
				Value: value, First: t, FirstEvent: ev.ID, Last: t}}
			return
		}
		if o.entry.Earlier(t, ev.ID) {
			o.entry.First, o.entry.FirstEvent, o.first, o.pos = t, ev.ID, ev, i
		}
		if t.After(o.entry.Last) {
			o.entry.Last = t
		}
	}
	add("") // the identity's own history, whatever the value
	if v := fieldValue(ev, c.rule.Baseline.Value); v != "" {
		add(v)
	}
}

// resolveBaselines merges the batch's observations into view's baselines
// and returns the first-seen alerts they decide (see Baseline).
func (b *Batch) resolveBaselines(ctx context.Context, view iamwatch.StateView) ([]iamwatch.Alert, error) {
	var out []iamwatch.Alert
	for _, k := range byRuleIdentity(b.obs) {
		as, err := b.resolveIdentity(ctx, view, k, b.obs[k])
		if err != nil {
			return nil, fmt.Errorf("detect: rule %s: baseline of %q: %w", k.c.rule.ID, k.identity, err)
		}
		out = append(out, as...)
	}
	return out, nil
}

// byRuleIdentity returns m's keys by rule ID, then identity: the order
// in which a batch decides its first-seen and travel alerts.
func byRuleIdentity[V any](m map[obsKey]V) []obsKey {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(x, y obsKey) int {
		return cmp.Or(cmp.Compare(x.c.rule.ID, y.c.rule.ID), cmp.Compare(x.identity, y.identity))
	})
	return keys
}

func (b *Batch) resolveIdentity(ctx context.Context, view iamwatch.StateView, k obsKey, obs map[string]*observation) ([]iamwatch.Alert, error) {
	stored, err := view.Baseline(ctx, k.c.rule.ID, k.identity)
	if err != nil {
		return nil, err
	}
	before := make(map[string]iamwatch.BaselineEntry, len(stored))
	for _, e := range stored {
		before[e.Value] = e
	}
	after := make(map[string]iamwatch.BaselineEntry, len(before)+len(obs))
	maps.Copy(after, before)
	add := make([]iamwatch.BaselineEntry, 0, len(obs))
	for _, v := range sortedKeys(obs) {
		o := obs[v]
		add = append(add, o.entry)
		after[v] = mergeEntry(after[v], o.entry)
	}
	if err := view.MergeBaseline(ctx, add); err != nil {
		return nil, err
	}
	for v := range obs {
		if e, ok := before[v]; ok && e.FirstEvent != after[v].FirstEvent {
			b.superseded = append(b.superseded, e.FirstEvent)
		}
	}
	learning := k.c.rule.Baseline.Learning
	start, startBefore := after[""], before[""]
	ends := start.First.Add(learning)
	moved := startBefore.FirstEvent != start.FirstEvent // the learning period moved: every value is re-decided
	var out []iamwatch.Alert
	for _, v := range sortedKeys(after) {
		if v == "" {
			continue
		}
		if !k.c.rule.Baseline.alerts(v) {
			continue
		}
		e := after[v]
		o := obs[v]
		ours := o != nil && o.entry.FirstEvent == e.FirstEvent // this batch brought its first event
		if !ours && !moved {
			continue
		}
		var first *iamwatch.Event
		if ours {
			first = o.first
		}
		if !e.First.Before(ends) {
			a, err := b.firstSeenAlert(ctx, view, k, e, start, after, first)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
			continue
		}
		old, had := before[v]
		if !had || old.First.Before(startBefore.First.Add(learning)) || old.FirstEvent == e.FirstEvent {
			continue // never new
		}
		a, ok, err := b.withdrawn(ctx, view, k, e, start)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// baselineKey is the dedup key of (rule, identity, value).
func baselineKey(rule, identity, value string) string {
	return rule + "/first/" + shortHash(identity+"\x00"+value)
}

// firstSeenAlert is the alert of value e, raised by its first event (ev
// when the batch has it, else read from the store).
func (b *Batch) firstSeenAlert(ctx context.Context, view iamwatch.StateView, k obsKey, e, start iamwatch.BaselineEntry,
	entries map[string]iamwatch.BaselineEntry, ev *iamwatch.Event) (iamwatch.Alert, error) {
	batch := b.byID
	if ev != nil {
		batch = map[string]*iamwatch.Event{ev.ID: ev}
	}
	ev, rec, err := raisingEvent(ctx, e.FirstEvent, e.First, batch, view)
	if err != nil {
		return iamwatch.Alert{}, err
	}
	c := k.c
	a := newAlert(c, ev)
	a.Time, a.FirstSeen, a.LastSeen = e.First, e.First, e.First
	a.DedupKey, a.EventID, a.Group = baselineKey(c.rule.ID, k.identity, e.Value), e.FirstEvent, k.identity
	a.Summary = b.eng.summary(c, ev, rec, map[string]any{
		"count":          "1",
		"group":          sanitize(k.identity, maxValueRunes),
		"first_seen":     e.First.UTC().Format(iamwatch.TimeFormat),
		"last_seen":      e.First.UTC().Format(iamwatch.TimeFormat),
		"baseline_value": sanitize(e.Value, maxValueRunes),
		"baseline_seen":  seenBefore(entries, e),
		"baseline_since": start.First.UTC().Format(time.DateOnly),
		"learning":       daysText(c.rule.Baseline.Learning),
	})
	return a, nil
}

// withdrawn is the withdrawn form of the stored alert of value e, whose
// first event turned out to fall within the learning period; ok is false
// when no alert is stored for it.
func (b *Batch) withdrawn(ctx context.Context, view iamwatch.StateView, k obsKey, e, start iamwatch.BaselineEntry) (iamwatch.Alert, bool, error) {
	a, ok, err := view.Alert(ctx, baselineKey(k.c.rule.ID, k.identity, e.Value))
	if err != nil || !ok || a.Withdrawn() {
		return iamwatch.Alert{}, false, err
	}
	raisedBy := a.EventID
	a.Severity = iamwatch.SeverityInfo
	a.Tags = append(slices.Clone(a.Tags), iamwatch.WithdrawnTag)
	a.Time, a.FirstSeen, a.LastSeen = e.First, e.First, e.First
	a.EventID, a.EventIDs = e.FirstEvent, []string{e.FirstEvent}
	a.Summary = sanitize(fmt.Sprintf("Withdrawn: %s was seen for %s on %s (event %s), within the %s learning period from %s; the alert of event %s no longer holds.",
		untrusted.Truncate(e.Value, maxValueRunes), untrusted.Truncate(k.identity, maxValueRunes), e.First.UTC().Format(iamwatch.TimeFormat), e.FirstEvent,
		daysText(k.c.rule.Baseline.Learning), start.First.UTC().Format(time.DateOnly), raisedBy), maxSummaryRunes)
	return a, true, nil
}

// maxSeenListed bounds the values a first-seen summary lists.
const maxSeenListed = 10

// seenBefore lists the values first seen before e, earliest first, as
// "US since 2026-01-02, DE since 2026-02-11", or "none".
func seenBefore(entries map[string]iamwatch.BaselineEntry, e iamwatch.BaselineEntry) string {
	var prior []iamwatch.BaselineEntry
	for v, o := range entries {
		if v != "" && v != e.Value && o.First.Before(e.First) {
			prior = append(prior, o)
		}
	}
	if len(prior) == 0 {
		return "none"
	}
	slices.SortFunc(prior, func(x, y iamwatch.BaselineEntry) int {
		return cmp.Or(x.First.Compare(y.First), cmp.Compare(x.Value, y.Value))
	})
	parts := make([]string, 0, min(len(prior), maxSeenListed)+1)
	for _, o := range prior[:min(len(prior), maxSeenListed)] {
		parts = append(parts, untrusted.Truncate(o.Value, 64)+" since "+o.First.UTC().Format(time.DateOnly))
	}
	if n := len(prior) - maxSeenListed; n > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", n))
	}
	return sanitize(strings.Join(parts, ", "), maxValueRunes)
}

// daysText writes a learning period as 14d, or as durationText when not whole days.
func daysText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return durationText(d)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
