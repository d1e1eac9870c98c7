package detect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/iamwatch/iamwatch"
)

// Batch is what one batch of events contributes to detection before any
// state is read: the alerts of single-event rules, and the hits of grouped
// rules (thresholds and dedup, see threshold.go). KeepFirsts completes
// Keep from the stored baselines; the kept events are stored; then the
// store records the hits and calls Resolve, which reads the groups' hits
// back and returns every alert the batch belongs to. A Batch refers to
// the events given to Match: they must not change until Resolve has
// returned. It is not safe for concurrent use.
type Batch struct {
	// Keep[i] is true when some rule matched events[i] (its pattern and
	// condition, whatever the state: every event a threshold counts, reached
	// or not), a rule could not be evaluated on it (Unevaluated,
	// RuleErrors), or it is a management write a rule watches though it
	// did not match (auditedChange: a snapshot shared inside the
	// organization): the pipeline stores such events whatever its
	// retention filter says, so the same input in any order leaves the
	// same rows. A read or a data event a rule only looked at (an S3
	// object written without a customer key, for the SSE-C rule) is not
	// kept for it. Light rules keep fewer (see dropRepeats), light
	// first-seen rules only once KeepFirsts has read the stored baselines.
	Keep []bool
	// Weak[i] is true when events[i] is in Keep only as a light rule's hit
	// that dropRepeats kept (the first or last of its slot in this batch)
	// or as the first event of a value KeepFirsts kept (the first so far):
	// a later batch may bring an earlier hit or event, and then nothing
	// refers to it. A caller that reads a whole input in batches (a scan)
	// may remove such events once the read is over, if nothing names them
	// (the hits, the alerts, the baselines): the events stored are then
	// those of reading it as one batch, whatever the batches were.
	Weak []bool
	// superseded are the event IDs Resolve found superseded (Superseded).
	superseded []string
	// Hits are the grouped rules' matches, to be recorded.
	Hits []iamwatch.Hit
	// Unevaluated holds, for each event the rules could not be evaluated on
	// (its record does not parse), an error naming it. Such an event is
	// still in Keep: stored, never lost, but it raises nothing.
	Unevaluated []error
	// RuleErrors lists each (rule, event) whose condition or group
	// expression failed to evaluate: the rule did not match that event.
	// A rule that fails on every event is otherwise silent, so callers show
	// these (the scan summary, status, metrics, the Lambda log).
	RuleErrors []RuleError

	eng     *Engine
	singles []iamwatch.Alert
	groups  map[groupKey][]iamwatch.Hit        // the batch's hits of each touched period (a zero hit: touched from the next)
	byID    map[string]*iamwatch.Event         // the events of Hits
	index   map[string]int                     // position in the batch of the events that matched
	obs     map[obsKey]map[string]*observation // first-seen rules' observations, by value ("": the identity's own)
	trips   map[obsKey][]iamwatch.Hit          // impossible-travel rules' sightings (also in Hits)
	ends    map[slotKey][2]pendingHit          // rules that ignore repeats: each slot's first and last hit so far (see dropRepeats)
	light   map[lightKey]lightResult           // light threshold rules' evaluations

	lastIdentity map[*compiled]*lastIdentity // per first-seen rule, the identity it last observed
}

// RuleError is one failure of a rule's condition or group expression on
// one event.
type RuleError struct {
	Rule    string
	EventID string
	Err     error
}

func (r RuleError) Error() string {
	return fmt.Sprintf("rule %s on event %q: %v", r.Rule, r.EventID, r.Err)
}

// ruleFailure is a condition or group expression that failed on an event
// (not a cost or context stop): counted, listed, taken as no match.
type ruleFailure struct{ err error }

func (f ruleFailure) Error() string { return f.err.Error() }

// groupKey is one period of one group of one rule.
type groupKey struct {
	c      *compiled
	group  string
	period time.Time
}

// Match evaluates the patterns and conditions of every rule on events. It
// reads no state. With a GeoLocator configured it first fills in the Geo
// of each event whose source IP is an address (events are the caller's:
// it stores them so located). An event that cannot be evaluated does not stop the
// batch: it is listed in Batch.Unevaluated, once for a record that does
// not parse and once for each rule whose condition ran over MaxCost on it
// (the other rules still see it). The error is ctx's when it ends during an
// evaluation (a condition is interrupted, not taken as no match).
func (e *Engine) Match(ctx context.Context, events []iamwatch.Event) (*Batch, error) {
	b := &Batch{Keep: make([]bool, len(events)), Weak: make([]bool, len(events)), eng: e, index: map[string]int{}}
	var matched []*compiled
	var groups []hitKey
	if e.geo != nil {
		locate(e.geo, events)
	}
	var done []*compiled // the multi rules evaluated on the event
	var rec record       // the record of the event, reused
	for i := range events {
		ev := &events[i]
		buckets := e.candidates(ev)
		want := wants(buckets, ev)
		b.Keep[i] = want && auditedChange(ev)
		if e.allow.allowsAll(ev) {
			continue // allowed for every rule: not parsed
		}
		if e.light {
			if err := b.matchLight(ctx, buckets, ev, i); err != nil {
				return nil, err
			}
		}
		if !want {
			continue // no rule that reads the record for this event or its actor: not parsed
		}
		if err := rec.reset(ev); err != nil {
			b.Unevaluated = append(b.Unevaluated, fmt.Errorf("detect: event %q: %w", ev.ID, err))
			b.Keep[i] = true
			continue
		}
		matched, groups, done = matched[:0], groups[:0], done[:0]
		for _, list := range buckets {
			for _, c := range list {
				if c.light {
					continue
				}
				if c.multi {
					if slices.Contains(done, c) {
						continue
					}
					done = append(done, c)
				}
				if c.precheck && !c.pattern.mayMatch(ev, false) {
					continue // ruled out on the decoded fields (as mayMatchEvent would), before its pattern parses a member
				}
				g, ok, err := e.matchRule(ctx, c, ev, &rec)
				if ok, err = b.noteError(c, ev, i, ok, err); err != nil {
					return nil, err
				}
				if ok {
					matched = append(matched, c)
					groups = append(groups, g)
				}
			}
		}
		for k, c := range matched {
			if superseded(c, matched) {
				continue
			}
			b.keep(i, ev.ID)
			if c.rule.Baseline != nil {
				b.observe(c, ev, i)
				continue
			}
			if c.rule.Travel != nil {
				b.sight(c, ev)
				continue
			}
			if !c.grouped() {
				b.singles = append(b.singles, e.single(c, ev, rec.whole()))
				continue
			}
			if c.ignoreRepeats {
				b.pend(pendingHit{c, groups[k], ev, i})
				continue
			}
			b.addHit(c, groups[k].group, groups[k].value, ev)
		}
	}
	b.dropRepeats()
	b.listFirsts()
	return b, nil
}

// auditedChange reports whether ev, which a rule that reads the record
// watches, is kept even if no rule matches it: a management call that is
// not read-only. The changes the catalog watches are the history an audit
// asks for (who shared this snapshot, with whom); the reads and data
// events it watches (secrets read, objects written) come by the thousand
// from applications and are kept when a rule matches them.
func auditedChange(ev *iamwatch.Event) bool {
	return ev.ReadOnly != "true" && !ev.DataEvent
}

// noteError files err, matchRule's on ev (the batch's pos-th event) for c:
// a rule failure in RuleErrors, a condition over budget in Unevaluated
// (both: no match, and ev is kept, to be found by the ID the report
// names). It returns the error that stops the batch (ctx's), and whether c
// matched.
func (b *Batch) noteError(c *compiled, ev *iamwatch.Event, pos int, ok bool, err error) (bool, error) {
	if err == nil {
		return ok, nil
	}
	var failed ruleFailure
	switch {
	case errors.As(err, &failed):
		b.eng.conditionErrors.Add(1)
		b.RuleErrors = append(b.RuleErrors, RuleError{Rule: c.rule.ID, EventID: ev.ID, Err: failed.err})
	case errors.Is(err, errOverBudget):
		b.Unevaluated = append(b.Unevaluated, fmt.Errorf("detect: event %q: rule %s: %w", ev.ID, c.rule.ID, err))
	case err != nil:
		return false, fmt.Errorf("detect: event %q: rule %s: %w", ev.ID, c.rule.ID, err)
	default:
		return ok, nil
	}
	b.Keep[pos] = true
	return false, nil
}

// pendingHit is a hit of a rule that ignores repeats, the batch's pos-th
// event, waiting for dropRepeats.
type pendingHit struct {
	c   *compiled
	k   hitKey
	ev  *iamwatch.Event
	pos int
}

// slotKey is one slot of one value of one group of a rule that ignores
// repeats.
type slotKey struct {
	c            *compiled
	group, value string
	slot         int64 // its start, Unix seconds
}

// slotOf returns the start of the slot of c holding t: slots last c.slot
// from the start of each period (the last one of a period may be shorter),
// so none straddles two periods.
func slotOf(t time.Time, c *compiled) time.Time {
	p := periodOf(t, c.period)
	return p.Add(t.Sub(p).Truncate(c.slot))
}

// hitBefore orders hits by time, then event ID.
func hitBefore(t1 time.Time, id1 string, t2 time.Time, id2 string) bool {
	return t1.Before(t2) || t1.Equal(t2) && id1 < id2
}

// pend notes a hit of a rule that ignores repeats: it replaces the first
// or the last hit of its slot so far when it comes before or after it.
func (b *Batch) pend(p pendingHit) {
	k := slotKey{p.c, p.k.group, p.k.value, slotOf(p.ev.Time, p.c).Unix()}
	e, ok := b.ends[k]
	switch {
	case !ok:
		e = [2]pendingHit{p, p}
	case hitBefore(p.ev.Time, p.ev.ID, e[0].ev.Time, e[0].ev.ID):
		e[0] = p
	case hitBefore(e[1].ev.Time, e[1].ev.ID, p.ev.Time, p.ev.ID):
		e[1] = p
	default:
		return
	}
	if b.ends == nil {
		b.ends = map[slotKey][2]pendingHit{}
	}
	b.ends[k] = e
}

// dropRepeats adds, of the pending hits (pend), the first and the last of
// each slotKey (what Resolve keeps of the stored ones, see keepEnds): a
// value a group repeats within a slot adds nothing more. A light rule's
// kept hits' events are kept (Keep) and listed as matched; the others are
// not. Kept per batch, the stored hits are a superset of what the same
// events in one batch would store, and hold each slot's first and last:
// Resolve reads the same alert from either.
func (b *Batch) dropRepeats() {
	if len(b.ends) == 0 {
		return
	}
	kept := make([]pendingHit, 0, 2*len(b.ends))
	for _, e := range b.ends {
		kept = append(kept, e[0])
		if e[1].ev != e[0].ev {
			kept = append(kept, e[1])
		}
	}
	// In batch order, as the other rules' hits.
	slices.SortFunc(kept, func(x, y pendingHit) int {
		return cmp.Or(cmp.Compare(x.pos, y.pos), cmp.Compare(x.c.rule.ID, y.c.rule.ID), cmp.Compare(x.k.group, y.k.group), cmp.Compare(x.k.value, y.k.value))
	})
	for _, p := range kept {
		b.addHit(p.c, p.k.group, p.k.value, p.ev)
		if p.c.light {
			b.keepWeak(p.pos, p.ev.ID)
		}
	}
	b.ends = nil
}

// keepEnds returns, of hits (one group's, sorted by time and ID, no
// repeats), the first and the last of each value in each slot of c, in
// order: what dropRepeats stores of them. Applied to any set of hits that
// holds these and is part of the group's, it gives these.
func keepEnds(hits []iamwatch.Hit, c *compiled) []iamwatch.Hit {
	type vs struct {
		value string
		slot  time.Time
	}
	first := make(map[vs]int, len(hits))
	last := make(map[vs]int, len(hits))
	for j, h := range hits {
		k := vs{h.Value, slotOf(h.Time, c)}
		if _, ok := first[k]; !ok {
			first[k] = j
		}
		last[k] = j
	}
	out := hits[:0:0]
	for j, h := range hits {
		k := vs{h.Value, slotOf(h.Time, c)}
		if first[k] == j || last[k] == j {
			out = append(out, h)
		}
	}
	return out
}

// repeatsBetween returns the hits of all (sorted, as keepEnds takes them)
// that ends (keepEnds of all) left out, before to: the last instant of a
// range from Hits may open a slot whose later hits the range does not
// hold, so its hits there are not known to be repeats.
func repeatsBetween(all, ends []iamwatch.Hit, to time.Time) []iamwatch.Hit {
	if len(all) == len(ends) {
		return nil
	}
	kept := make(map[string]bool, len(ends))
	for _, h := range ends {
		kept[h.EventID] = true
	}
	var out []iamwatch.Hit
	for _, h := range all {
		if !kept[h.EventID] && h.Time.Before(to) {
			out = append(out, h)
		}
	}
	return out
}

// allowed reports whether an allow-list hides ev from c: the rule's own,
// or the global one when it is capped by a severity (an uncapped global
// list hides the event from every rule before matching).
func (e *Engine) allowed(c *compiled, ev *iamwatch.Event) bool {
	return c.allow.allowsRule(ev, c.top) || e.allow != nil && e.allow.max != nil && e.allow.allowsRule(ev, c.top)
}

// matchLight matches ev, the batch's i-th event, for the light rules among
// its candidates (see compiled), deciding their patterns on the decoded
// fields: a first-seen rule observes it; a threshold rule's condition and
// group are evaluated without the record, and its hit is added (or left
// for dropRepeats), ev kept (Keep) and listed as matched. A light rule is
// not superseded by other rules. The error is as Match's.
func (b *Batch) matchLight(ctx context.Context, buckets [5][]*compiled, ev *iamwatch.Event, i int) error {
	var done []*compiled
	for _, list := range buckets {
		for _, c := range list {
			if !c.light {
				continue
			}
			if c.multi {
				if slices.Contains(done, c) {
					continue
				}
				done = append(done, c)
			}
			if !c.observesLight(ev) || b.eng.allowed(c, ev) {
				continue
			}
			if c.rule.Baseline != nil {
				b.observe(c, ev, i)
				continue
			}
			k, ok, err := b.matchLightRule(ctx, c, ev)
			if ok, err = b.noteError(c, ev, i, ok, err); err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			if c.ignoreRepeats {
				b.pend(pendingHit{c, k, ev, i})
				continue
			}
			b.addHit(c, k.group, k.value, ev)
			b.keep(i, ev.ID)
		}
	}
	return nil
}

// lightKey is the values of the fields a light threshold rule's
// expressions read (compiled.lightFields), for one event.
type lightKey struct {
	c    *compiled
	vals [4]string
}

// lightResult is what a light threshold rule's expressions gave for one
// lightKey: whether it matches, and the group.
type lightResult struct {
	ok    bool
	group string
}

// matchLightRule is matchRule for a light threshold rule c whose pattern ev
// matches, evaluating its expressions once a batch for each lightKey: they
// read nothing else, so an application repeating a call costs one
// evaluation a batch. A failed evaluation is not remembered (each event's
// failure is reported).
func (b *Batch) matchLightRule(ctx context.Context, c *compiled, ev *iamwatch.Event) (hitKey, bool, error) {
	if c.distinctExpr != nil || c.steps != nil || len(c.lightFields) > len(lightKey{}.vals) {
		return b.eng.matchRule(ctx, c, ev, nil) // the value (a step) depends on more than the fields
	}
	key := lightKey{c: c}
	for j, f := range c.lightFields {
		key.vals[j] = fieldValue(ev, f)
	}
	r, seen := b.light[key]
	if !seen {
		k, ok, err := b.eng.matchRule(ctx, c, ev, nil)
		if err != nil {
			return k, ok, err
		}
		r = lightResult{ok, k.group}
		if b.light == nil {
			b.light = map[lightKey]lightResult{}
		}
		b.light[key] = r
	}
	if !r.ok {
		return hitKey{}, false, nil
	}
	k := hitKey{group: r.group}
	if c.distinct {
		k.value = encodeValues([]string{fieldValue(ev, c.distinctField)})
	}
	return k, true, nil
}

// listMatched lists the event id, the batch's pos-th, as matched (its
// first position when the batch repeats it).
func (b *Batch) listMatched(pos int, id string) {
	if _, ok := b.index[id]; !ok {
		b.index[id] = pos
	}
}

// keep keeps the batch's pos-th event, id, and lists it as matched.
func (b *Batch) keep(pos int, id string) {
	b.Keep[pos] = true
	b.listMatched(pos, id)
}

// Superseded returns the IDs of the events Resolve found superseded: of
// hits it dropped as repeats (a view that is an iamwatch.HitDropper), and
// first events of baseline values an earlier event replaced. A Weak event
// among them may be named by nothing any more (see Weak). Call it after
// Resolve.
func (b *Batch) Superseded() []string { return b.superseded }

// keepWeak keeps the batch's pos-th event, id, and lists it as matched;
// it is Weak unless already kept otherwise. Every other keep comes first
// (Match's loop, then dropRepeats, then KeepFirsts).
func (b *Batch) keepWeak(pos int, id string) {
	if !b.Keep[pos] {
		b.Weak[pos] = true
	}
	b.keep(pos, id)
}

// listFirsts lists as matched, of the events light first-seen rules
// observed, the batch's first of each (identity, value) that may alert:
// the event a first-seen alert would name. KeepFirsts decides which of
// them are stored. The others are neither kept nor listed: the baseline
// entries keep their times and IDs.
func (b *Batch) listFirsts() {
	for k, m := range b.obs {
		if !k.c.light {
			continue
		}
		for v, o := range m {
			if v != "" && k.c.rule.Baseline.alerts(v) {
				b.listMatched(o.pos, o.first.ID)
			}
		}
	}
}

// KeepFirsts keeps (Keep) each event listFirsts listed that comes before
// the first event st holds for its (rule, identity, value), or whose value
// st does not hold: an event a first-seen alert may name, now or when a
// later batch decides it (see firstSeenAlert). Any other such event is
// stored already, or a stored one comes first and is named instead. So the
// stored events do not depend on batching, nor on order as long as each
// value's events come oldest first (a trail, a live source): they are the
// first event of each value. An event kept as the first so far, before an
// older one came, stays stored. A stale read of st keeps more, never less.
// Call it after Match and before storing the kept events: CommitAlerts
// merges the batch into st, with the Resolve of the same batch.
func (b *Batch) KeepFirsts(ctx context.Context, st iamwatch.BaselineStore) error {
	for k, m := range b.obs {
		if !k.c.light {
			continue
		}
		var firsts map[string]iamwatch.BaselineEntry // st's, read for the first value that may alert
		for v, o := range m {
			if v == "" || !k.c.rule.Baseline.alerts(v) {
				continue
			}
			if firsts == nil {
				stored, err := st.Baseline(ctx, k.c.rule.ID, k.identity)
				if err != nil {
					return fmt.Errorf("detect: rule %s: baseline of %q: %w", k.c.rule.ID, k.identity, err)
				}
				firsts = make(map[string]iamwatch.BaselineEntry, len(stored))
				for _, e := range stored {
					firsts[e.Value] = e
				}
			}
			if e, ok := firsts[v]; !ok || e.Earlier(o.entry.First, o.entry.FirstEvent) {
				b.keepWeak(o.pos, o.first.ID)
			}
		}
	}
	return nil
}

// locate fills in the Geo of events from g, looking each distinct source
// IP up once.
func locate(g iamwatch.GeoLocator, events []iamwatch.Event) {
	var cache map[string]iamwatch.Geo
	for i := range events {
		ev := &events[i]
		if ev.SourceIP == "" || !ev.Geo.IsZero() || !looksLikeIP(ev.SourceIP) {
			continue
		}
		if geo, ok := cache[ev.SourceIP]; ok {
			ev.Geo = geo
			continue
		}
		var geo iamwatch.Geo
		if ip, err := netip.ParseAddr(ev.SourceIP); err == nil {
			geo, _ = g.Locate(ip)
		}
		if cache == nil {
			cache = make(map[string]iamwatch.Geo, 64)
		}
		cache[ev.SourceIP] = geo
		ev.Geo = geo
	}
}

// looksLikeIP rejects service names (iam.amazonaws.com, AWS Internal)
// without parsing: an address starts with a digit, or holds a colon.
func looksLikeIP(s string) bool {
	c := s[0]
	return c >= '0' && c <= '9' || strings.IndexByte(s, ':') >= 0
}

// superseded reports whether another rule matched on the same event names c.
func superseded(c *compiled, matched []*compiled) bool {
	for _, o := range matched {
		if o != c && slices.Contains(o.rule.Supersedes, c.rule.ID) {
			return true
		}
	}
	return false
}

// Matched returns the IDs of the events some rule matched, sorted.
func (b *Batch) Matched() []string {
	return slices.Sorted(maps.Keys(b.index))
}

// HasAlerts reports whether some single-event or first-seen rule matched
// (a first-seen rule's observations are merged by Resolve).
func (b *Batch) HasAlerts() bool { return len(b.singles) > 0 || len(b.obs) > 0 }

func (b *Batch) addHit(c *compiled, group, value string, ev *iamwatch.Event) {
	if b.groups == nil {
		b.groups, b.byID = map[groupKey][]iamwatch.Hit{}, map[string]*iamwatch.Event{}
	}
	h := iamwatch.Hit{Rule: c.rule.ID, Group: group, EventID: ev.ID, Time: ev.Time, Value: value}
	b.Hits = append(b.Hits, h)
	b.byID[ev.ID] = ev
	p := periodOf(ev.Time, c.period)
	k := groupKey{c, group, p}
	b.groups[k] = append(b.groups[k], h)
	// A window opened late in the previous period may reach this hit.
	if q := periodOf(ev.Time.Add(-c.within), c.period); !q.Equal(p) {
		k := groupKey{c, group, q}
		b.groups[k] = append(b.groups[k], iamwatch.Hit{}) // not this period's: never the cheap path
	}
}

// Resolve returns the alerts the batch belongs to: its single-event alerts
// and, for each period of each group it added hits to, the period's alert
// if the hits view shows reach the rule's count. It is an
// iamwatch.Resolver: call it after the batch's hits are recorded.
func (b *Batch) Resolve(ctx context.Context, view iamwatch.StateView) ([]iamwatch.Alert, error) {
	out := make([]iamwatch.Alert, 0, len(b.singles)+len(b.groups))
	pos := make(map[string]int, cap(out)) // by key: where the raising event came
	for _, a := range b.singles {
		if _, seen := pos[a.DedupKey]; !seen { // the same event twice in one batch
			pos[a.DedupKey] = b.position(a.EventIDs[0])
			out = append(out, a)
		}
	}
	keys := make([]groupKey, 0, len(b.groups))
	for k := range b.groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y groupKey) int {
		return cmp.Or(cmp.Compare(x.c.rule.ID, y.c.rule.ID), cmp.Compare(x.group, y.group), x.period.Compare(y.period))
	})
	for _, k := range keys {
		if a, ok, err := b.eng.grow(ctx, k, b.groups[k], b.byID, view); err != nil {
			return nil, err
		} else if ok {
			pos[a.DedupKey] = b.position(a.EventID)
			out = append(out, a)
			continue
		}
		from, to := hitsRange(k.period, k.c.period, k.c.within)
		hits, err := view.Hits(ctx, k.c.rule.ID, k.group, from, to)
		if err != nil {
			return nil, fmt.Errorf("detect: rule %s: %w", k.c.rule.ID, err)
		}
		if k.c.ignoreRepeats {
			sortHits(hits)
			all := slices.CompactFunc(hits, func(a, b iamwatch.Hit) bool { return a.EventID == b.EventID })
			hits = keepEnds(all, k.c)
			if d, ok := view.(iamwatch.HitDropper); ok {
				repeats := repeatsBetween(all, hits, to)
				if err := d.DropHits(ctx, repeats); err != nil {
					return nil, fmt.Errorf("detect: rule %s: %w", k.c.rule.ID, err)
				}
				for _, h := range repeats {
					b.superseded = append(b.superseded, h.EventID)
				}
			}
		}
		inc, ok := evalIncident(hits, k.period, k.c.period, k.c.count, k.c.within, k.c.distinct)
		if !ok {
			continue
		}
		a, err := b.eng.grouped(ctx, k, inc, b.byID, view)
		if err != nil {
			return nil, err
		}
		pos[a.DedupKey] = b.position(inc.raised.EventID)
		out = append(out, a)
	}
	var late []iamwatch.Alert
	if len(b.obs) > 0 {
		as, err := b.resolveBaselines(ctx, view)
		if err != nil {
			return nil, err
		}
		late = append(late, as...)
	}
	if len(b.trips) > 0 {
		as, err := b.resolveTravel(ctx, view)
		if err != nil {
			return nil, err
		}
		late = append(late, as...)
	}
	for _, a := range late {
		if _, seen := pos[a.DedupKey]; !seen {
			pos[a.DedupKey] = b.position(a.EventID)
			out = append(out, a)
		}
	}
	// In the order of the events that raised them, as they came: alerts
	// raised by an earlier batch's event first.
	slices.SortStableFunc(out, func(x, y iamwatch.Alert) int { return cmp.Compare(pos[x.DedupKey], pos[y.DedupKey]) })
	return out, nil
}

// position is where in the batch the event with id came, -1 for an event
// of an earlier batch.
func (b *Batch) position(id string) int {
	if i, ok := b.index[id]; ok {
		return i
	}
	return -1
}

// State is what Evaluate runs against: a store, or a MemoryState.
type State interface {
	iamwatch.EventStore
	iamwatch.AlertStore
	iamwatch.BaselineStore
}

// Evaluate runs events through detection as the pipeline does, as one
// batch: it matches them, stores the kept events, commits the hits and
// claims the alerts in st, and returns the claims.
func (e *Engine) Evaluate(ctx context.Context, st State, events ...iamwatch.Event) ([]iamwatch.Claim, error) {
	b, err := e.Match(ctx, events)
	if err != nil {
		return nil, err
	}
	if len(b.Unevaluated) > 0 {
		return nil, errors.Join(b.Unevaluated...)
	}
	if err := b.KeepFirsts(ctx, st); err != nil {
		return nil, err
	}
	var keep []iamwatch.Event
	for i, m := range b.Keep {
		if m {
			keep = append(keep, events[i])
		}
	}
	if len(keep) > 0 {
		if _, err := st.PutEvents(ctx, keep); err != nil {
			return nil, err
		}
	}
	return st.CommitAlerts(ctx, b.Hits, b.Resolve)
}

// hitKey is where a grouped rule's match counts: its group and, under a
// distinct threshold, its value (Hit.Value).
type hitKey struct{ group, value string }

// matchRule reports whether c matches ev and, for a grouped rule, the
// group ev falls in and its value. The error is errOverBudget or ctx's (see
// evalError), or a ruleFailure.
func (e *Engine) matchRule(ctx context.Context, c *compiled, ev *iamwatch.Event, rec *record) (k hitKey, ok bool, err error) {
	if c.rule.ignoresActor(ev) { // services: (service.go); an ignored event does not count either
		return k, false, nil
	}
	if rec == nil { // a light rule: observesLight decided the pattern and the allow-lists
		if !c.light {
			return k, false, errors.New("detect: a rule that reads the record matched without it")
		}
	} else if !c.pattern.matchRecord(rec) || e.allowed(c, ev) {
		return k, false, nil
	}
	var act *activation
	if c.cond != nil || c.group != nil || c.distinctExpr != nil || c.steps != nil {
		act = &activation{ev: ev, rec: rec, trusted: e.trusted, admin: e.admin}
	}
	if c.cond != nil {
		if ok, err := evalBool(ctx, c.cond, act, "condition"); err != nil || !ok {
			return k, false, err
		}
	}
	if c.steps != nil {
		if k.value, ok, err = stepOf(ctx, c, rec, act); err != nil || !ok {
			return k, false, err
		}
	}
	if !c.grouped() {
		return k, true, nil
	}
	if k.group, ok, err = e.groupOf(ctx, c, ev, act); err != nil || !ok {
		return k, false, err
	}
	if c.steps == nil && c.distinct {
		if k.value, err = distinctValue(ctx, c, ev, act); err != nil {
			return k, false, err
		}
	}
	return k, true, nil
}

// evalBool evaluates a boolean program (a condition); what names it in errors.
func evalBool(ctx context.Context, prg cel.Program, act *activation, what string) (bool, error) {
	v, _, err := prg.ContextEval(ctx, act)
	if err != nil {
		if err := evalError(ctx, err); err != nil {
			return false, err
		}
		return false, ruleFailure{fmt.Errorf("%s: %w", what, err)}
	}
	b, isBool := v.Value().(bool)
	return isBool && b, nil
}

// stepOf returns the name of the first step of sequence rule c that the
// record matches (a light rule's steps: the event's decoded fields, rec
// nil); ok is false when it matches none.
func stepOf(ctx context.Context, c *compiled, rec *record, act *activation) (string, bool, error) {
	for i := range c.steps {
		st := &c.steps[i]
		if rec == nil && !st.pattern.matchDecoded(act.ev) || rec != nil && !st.pattern.matchRecord(rec) {
			continue
		}
		if st.cond != nil {
			ok, err := evalBool(ctx, st.cond, act, "step "+st.name+" condition")
			if err != nil {
				return "", false, err
			}
			if !ok {
				continue
			}
		}
		return st.name, true, nil
	}
	return "", false, nil
}

// distinctValue returns the Hit.Value of ev under c's distinct expression.
func distinctValue(ctx context.Context, c *compiled, ev *iamwatch.Event, act *activation) (string, error) {
	if c.distinctField != "" {
		return encodeValues([]string{fieldValue(ev, c.distinctField)}), nil
	}
	v, _, err := c.distinctExpr.ContextEval(ctx, act)
	if err != nil {
		if err := evalError(ctx, err); err != nil {
			return "", err
		}
		return "", ruleFailure{fmt.Errorf("distinct: %w", err)}
	}
	switch x := v.Value().(type) {
	case string:
		return encodeValues([]string{x}), nil
	}
	list, err := toStrings(v)
	if err != nil {
		return "", ruleFailure{fmt.Errorf("distinct: a %T, not a string or a list of strings", v.Value())}
	}
	return encodeValues(list), nil
}

// groupOf returns the group of ev under a grouped rule. The error is as
// matchRule's.
func (e *Engine) groupOf(ctx context.Context, c *compiled, ev *iamwatch.Event, act *activation) (string, bool, error) {
	if f := c.groupFields; f != nil {
		if v := fieldValue(ev, f[0]); v != "" || len(f) == 1 {
			return v, true, nil
		}
		return fieldValue(ev, f[1]), true, nil
	}
	if c.group != nil {
		v, _, err := c.group.ContextEval(ctx, act)
		if err != nil {
			if err := evalError(ctx, err); err != nil {
				return "", false, err
			}
			return "", false, ruleFailure{fmt.Errorf("group: %w", err)}
		}
		s, ok := v.Value().(string)
		if !ok {
			return "", false, ruleFailure{fmt.Errorf("group: a %T, not a string", v.Value())}
		}
		return s, true, nil
	}
	vals := make([]string, len(c.by))
	for i, f := range c.by {
		vals[i] = fieldValue(ev, f)
	}
	return strings.Join(vals, "/"), true, nil
}

// newAlert returns the alert of rule c raised by ev, without summary.
func newAlert(c *compiled, ev *iamwatch.Event) iamwatch.Alert {
	r := c.rule
	return iamwatch.Alert{
		Rule:       r.ID,
		Severity:   r.Severity,
		Title:      r.Title,
		Action:     r.Action,
		Time:       ev.Time,
		AccountID:  ev.AccountID,
		Region:     ev.Region,
		UserName:   ev.UserName,
		SourceIP:   ev.SourceIP,
		Country:    ev.Geo.Country,
		ASN:        ev.Geo.ASNText(),
		ASOrg:      ev.Geo.ASOrg,
		EventName:  ev.Name,
		Count:      1,
		FirstSeen:  ev.Time,
		LastSeen:   ev.Time,
		EventIDs:   []string{ev.ID},
		Tags:       r.Tags,
		References: r.References,
	}
}

// single returns the alert of a single-event rule, keyed by rule and event.
func (e *Engine) single(c *compiled, ev *iamwatch.Event, rec map[string]any) iamwatch.Alert {
	a := newAlert(c, ev)
	a.DedupKey, a.EventID = c.rule.ID+"/"+ev.ID, ev.ID
	a.Summary = e.summary(c, ev, rec, map[string]any{"count": "1", "first_seen": ev.Time.UTC().Format(iamwatch.TimeFormat),
		"last_seen": ev.Time.UTC().Format(iamwatch.TimeFormat)})
	return a
}

// grouped returns the alert of one period of a group. Its event is the
// one that raised it: from the batch, or else read from the store.
func (e *Engine) grouped(ctx context.Context, k groupKey, inc incident, batch map[string]*iamwatch.Event, view iamwatch.StateView) (iamwatch.Alert, error) {
	ev, rec, err := raisingEvent(ctx, inc.raised.EventID, inc.raised.Time, batch, view)
	if err != nil {
		return iamwatch.Alert{}, fmt.Errorf("detect: rule %s: %w", k.c.rule.ID, err)
	}
	a := newAlert(k.c, ev)
	a.Time, a.EventID = inc.raised.Time, inc.raised.EventID
	a.DedupKey = k.dedupKey()
	a.Group = k.group
	a.Count, a.FirstSeen, a.LastSeen, a.EventIDs = inc.count, inc.first, inc.last, inc.sample
	a.Severity = k.c.rule.SeverityAt(a.Count)
	if k.c.count > 1 {
		a.WindowStart = inc.windowStart.UTC()
		a.WindowEnd = inc.windowStart.Add(k.c.within).UTC()
	}
	a.Summary = e.groupSummary(k, &a, inc.windowCount, inc.window, ev, rec)
	return a, nil
}

func (k groupKey) dedupKey() string {
	return fmt.Sprintf("%s/%s/%s", k.c.rule.ID, k.period.Format(time.RFC3339), shortHash(k.group))
}

// groupSummary renders the summary of a grouped alert a raised by ev.
func (e *Engine) groupSummary(k groupKey, a *iamwatch.Alert, windowCount int, window distinctSeen, ev *iamwatch.Event, rec map[string]any) string {
	extra := map[string]any{
		"count":      fmt.Sprint(a.Count),
		"group":      sanitize(k.group, maxValueRunes),
		"first_seen": a.FirstSeen.UTC().Format(iamwatch.TimeFormat),
		"last_seen":  a.LastSeen.UTC().Format(iamwatch.TimeFormat),
	}
	if k.c.count > 1 {
		extra["window_start"] = a.WindowStart.Format(iamwatch.TimeFormat)
		extra["window_end"] = a.WindowEnd.Format(iamwatch.TimeFormat)
		extra["window_count"] = fmt.Sprint(windowCount)
		extra["within"] = durationText(k.c.within)
	}
	if k.c.distinct {
		extra["window_distinct"] = fmt.Sprint(window.n)
		extra["distinct_values"], extra["distinct_timeline"] = window.text()
	}
	return e.summary(k.c, ev, rec, extra)
}

// raisingEvent returns the event with id (from the batch, else the store)
// and its parsed record; an event no longer stored (pruned) is described
// by its ID and time alone.
func raisingEvent(ctx context.Context, id string, t time.Time, batch map[string]*iamwatch.Event, view iamwatch.StateView) (*iamwatch.Event, map[string]any, error) {
	ev := batch[id]
	if ev == nil {
		stored, ok, err := view.Event(ctx, id, t)
		if err != nil {
			return nil, nil, fmt.Errorf("detect: event %s: %w", id, err)
		}
		if !ok {
			stored = iamwatch.Event{ID: id, Time: t}
		}
		ev = &stored
	}
	var rec map[string]any
	if len(ev.Raw) > 0 {
		rec, _ = parseRecord(ev) // a record that was matched parses; if not, fields alone
	}
	if rec == nil {
		rec = synthRecord(ev)
	}
	return ev, rec, nil
}

// grow is the cheap path of Resolve for the common live case: the period
// already has its alert and every hit this batch added to it is later than
// every event the alert counts (or, growOutOfOrder, later than its
// window). Then the window and the raising event stand (threshold.go:
// later hits cannot move them), and only the count, the last event and
// the sample grow: the alert a full recompute would give, with bounded
// reads (the first window's hits) instead of the whole period so far. ok
// is false when the path does not apply.
func (e *Engine) grow(ctx context.Context, k groupKey, hits []iamwatch.Hit, batch map[string]*iamwatch.Event, view iamwatch.StateView) (iamwatch.Alert, bool, error) {
	if k.c.ignoreRepeats {
		return iamwatch.Alert{}, false, nil // a later hit may replace the last of its slot: recompute
	}
	var added []iamwatch.Hit
	for _, h := range hits {
		if h.EventID == "" { // touched from the next period
			return iamwatch.Alert{}, false, nil
		}
		isNew, known := view.Added(h.Rule, h.EventID)
		if !known {
			return iamwatch.Alert{}, false, nil
		}
		if isNew {
			added = append(added, h)
		}
	}
	// The same event twice in one batch: one hit (equal IDs have equal times, so they sort together).
	sortHits(added)
	added = slices.CompactFunc(added, func(x, y iamwatch.Hit) bool { return x.EventID == y.EventID })
	a, ok, err := view.Alert(ctx, k.dedupKey())
	if err != nil || !ok || a.EventID == "" {
		return iamwatch.Alert{}, false, err
	}
	if len(added) == 0 {
		return a, true, nil // a replay: nothing changes
	}
	// Later than every event the alert counts, and than the one that
	// raised it, which may come after them (in the next period).
	inOrder := true
	for _, h := range added {
		inOrder = inOrder && h.Time.After(a.LastSeen) && h.Time.After(a.Time)
	}
	var head []string
	last := added[len(added)-1]
	if inOrder {
		head = slices.Clone(a.EventIDs[:min(len(a.EventIDs), iamwatch.MaxSampleIDs, a.Count)])
		for _, h := range added {
			if len(head) < iamwatch.MaxSampleIDs {
				head = append(head, h.EventID)
			}
		}
	} else {
		var grown bool
		if head, grown, err = growOutOfOrder(ctx, k, &a, added, view); err != nil || !grown {
			return iamwatch.Alert{}, false, err
		}
		if prev := a.EventIDs[len(a.EventIDs)-1]; !hitBefore(a.LastSeen, prev, last.Time, last.EventID) {
			last = iamwatch.Hit{EventID: prev, Time: a.LastSeen}
		}
	}
	a.Count += len(added)
	a.Severity = k.c.rule.SeverityAt(a.Count)
	if a.Count > iamwatch.MaxSampleIDs {
		head = append(head, last.EventID)
	}
	a.EventIDs, a.LastSeen = head, last.Time
	windowCount, window := 0, distinctSeen{}
	if k.c.count > 1 {
		ws, err := view.Hits(ctx, k.c.rule.ID, k.group, a.WindowStart, a.WindowEnd)
		if err != nil {
			return iamwatch.Alert{}, false, fmt.Errorf("detect: rule %s: %w", k.c.rule.ID, err)
		}
		sortHits(ws)
		ws = slices.CompactFunc(ws, func(x, y iamwatch.Hit) bool { return x.EventID == y.EventID })
		windowCount = len(ws)
		if k.c.distinct {
			window = seenIn(ws)
		}
	}
	ev, rec, err := raisingEvent(ctx, a.EventID, a.Time, batch, view)
	if err != nil {
		return iamwatch.Alert{}, false, err
	}
	a.Summary = e.groupSummary(k, &a, windowCount, window, ev, rec)
	return a, true, nil
}

// growOutOfOrder is grow's path when some of the added hits are not later
// than every event the alert counts, as when two readers deliver one day
// of a group's hits from two files. The window that raised the alert and
// its event still stand when every added hit is later than the window and
// the window ends inside the period (so the period's hits are all the
// alert's): then only the sample's head may change, and it is read back
// alone, the first MaxSampleIDs hits of the period, instead of the period
// whole (the first hit stays: it is no later than the window). ok is
// false when the path does not apply (or the view cannot read only the
// first hits).
func growOutOfOrder(ctx context.Context, k groupKey, a *iamwatch.Alert, added []iamwatch.Hit, view iamwatch.StateView) (head []string, ok bool, err error) {
	fh, can := view.(iamwatch.FirstHitsStore)
	end := k.period.Add(k.c.period)
	if !can || k.c.count <= 1 || a.WindowEnd.IsZero() || !a.WindowEnd.Before(end) {
		return nil, false, nil
	}
	for _, h := range added {
		if !h.Time.After(a.WindowEnd) {
			return nil, false, nil
		}
	}
	first, err := fh.FirstHits(ctx, k.c.rule.ID, k.group, k.period, end.Add(-time.Nanosecond), iamwatch.MaxSampleIDs)
	if err != nil || len(first) == 0 {
		return nil, false, err
	}
	for _, h := range first {
		head = append(head, h.EventID)
	}
	return head, true, nil
}

// summary renders c's summary for ev; extra keys missing are "".
func (e *Engine) summary(c *compiled, ev *iamwatch.Event, rec map[string]any, extra map[string]any) string {
	for _, k := range summaryExtras {
		if _, ok := extra[k]; !ok {
			extra[k] = ""
		}
	}
	s, err := renderSummary(c.summary, ev, rec, extra)
	if err != nil {
		e.summaryErrors.Add(1)
		s = sanitize(fmt.Sprintf("%s by %s from %s (%s, %s)", ev.Name, ev.UserName, ev.SourceIP, ev.AccountID, ev.Region), maxSummaryRunes)
	}
	return s
}

// QuietParts returns the keys of the alerts among claimed that a sequence
// alert among them supersedes: an alert raised (EventID) by one of the
// sequence's step events, no more severe than the sequence, and not a
// sequence itself. Their notifications say nothing the sequence's does not
// (it lists its steps with their times); the alerts stay stored. Only
// alerts resolved together are compared: a part raised in an earlier batch
// was notified then. A part new in this batch whose sequence alert is not
// (a step event that joined it later: the sequence's message went out
// without it, and claiming it again sends nothing) is not quiet; a part
// claimed again with its sequence (the same batch again) stays quiet.
func (b *Batch) QuietParts(claimed []iamwatch.Claim) map[string]bool {
	sequences := map[string]bool{}
	for _, c := range b.eng.rules {
		if c.rule.Sequence != nil {
			sequences[c.rule.ID] = true
		}
	}
	isSeq := func(rule string) bool { return sequences[rule] }
	type seq struct {
		events   []string
		severity iamwatch.Severity
		isNew    bool
	}
	var seqs []seq
	for _, c := range claimed {
		if a := c.Alert; isSeq(a.Rule) {
			seqs = append(seqs, seq{append([]string{a.EventID}, a.EventIDs...), a.Severity, c.New})
		}
	}
	if len(seqs) == 0 {
		return nil
	}
	quiet := map[string]bool{}
	for _, c := range claimed {
		a := c.Alert
		if a.EventID == "" || isSeq(a.Rule) {
			continue
		}
		for _, s := range seqs {
			if a.Severity <= s.severity && (s.isNew || !c.New) && slices.Contains(s.events, a.EventID) {
				quiet[a.DedupKey] = true
				break
			}
		}
	}
	return quiet
}
