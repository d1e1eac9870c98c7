package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect"
)

// Detector matches a batch of events against the rules. detect.Engine
// implements it.
type Detector interface {
	// Match evaluates the rules on events, reading no state; the store
	// then records the batch's hits and resolves its alerts.
	Match(ctx context.Context, events []iamwatch.Event) (*detect.Batch, error)
}

// Store is what the pipeline needs of a store: the baselines are read
// before a batch's events are stored (detect.Batch.KeepFirsts).
type Store interface {
	iamwatch.EventStore
	iamwatch.AlertStore
	iamwatch.BaselineStore
}

// Pipeline runs batches through detection and into the store. It holds no
// per-batch state, only the events it has processed (so that their
// repeats go no further: repeats.go), and is safe for concurrent use when
// its Store and Detector are; sources usually call it from one goroutine
// so batches are committed in order.
type Pipeline struct {
	store   Store
	detect  Detector // nil: no detection.
	filter  Filter
	enqueue func(context.Context, iamwatch.Alert) error
	onNew   func(iamwatch.Alert)
	repeats *repeatSet // the events processed so far (repeats.go)
	// tidy is the store as a weakStore when it is one and detection is
	// on: what a read or Process stored only weakly and later found
	// superseded is removed through it. Nil otherwise.
	tidy weakStore
	live liveWeak // Process's weakly kept events
}

// Options configure a Pipeline.
type Options struct {
	Filter   Filter
	Detector Detector // optional.
	// Enqueue is called for every alert matched, new or not, after it is
	// claimed; it must be idempotent (iamwatch.Outbox.Enqueue is), because a
	// batch that failed after a claim is retried and must still deliver.
	Enqueue func(context.Context, iamwatch.Alert) error
	// OnNew is told of each alert claimed for the first time (to print it).
	OnNew func(iamwatch.Alert)
}

// New returns a Pipeline over store.
func New(store Store, opt Options) (*Pipeline, error) {
	if err := opt.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if opt.Filter.Keep == "" {
		opt.Filter.Keep = KeepIdentity
	}
	p := &Pipeline{store: store, detect: opt.Detector, filter: opt.Filter, enqueue: opt.Enqueue, onNew: opt.OnNew, repeats: newRepeatSet()}
	if ws, ok := store.(weakStore); ok && opt.Detector != nil {
		p.tidy = ws
	}
	return p, nil
}

// Result counts what one batch did.
type Result struct {
	Events     int `json:"events"`     // events in the batch.
	Kept       int `json:"kept"`       // events the filter (or an alert) kept.
	Stored     int `json:"stored"`     // events newly stored.
	Duplicates int `json:"duplicates"` // kept events already stored.
	Alerts     int `json:"alerts"`     // alerts the batch belongs to (new or not), once each; a repeat of a processed event adds none.
	NewAlerts  int `json:"new_alerts"` // alerts claimed for the first time.
	// Superseded counts alerts stored but not passed to Enqueue: parts of
	// a sequence alert resolved in the same batch, whose notification
	// lists them (detect.Batch.QuietParts).
	Superseded int `json:"superseded,omitempty"`
	// Unevaluated counts events stored but not evaluated by the rules
	// (their record did not parse), and once more for each rule that
	// could not evaluate an event (its condition ran over detect.MaxCost);
	// FirstUnevaluated says which and why.
	Unevaluated      int    `json:"unevaluated"`
	FirstUnevaluated string `json:"first_unevaluated,omitempty"`
	// Conflicts counts records whose eventID was already taken by a
	// different record (earlier in the batch, or stored): the first one
	// stays, for the store and for detection alike; the later one is
	// neither stored nor evaluated. FirstConflict names the first.
	Conflicts     int    `json:"conflicts"`
	FirstConflict string `json:"first_conflict,omitempty"`
	// Removed counts events earlier batches stored only for a light rule
	// that this one superseded, removed from the store (Process; a read
	// takes them out of Stored instead: Report.Unstored).
	Removed int `json:"removed,omitempty"`
	// RuleErrors counts, by rule, the events whose condition or group
	// expression failed to evaluate (the rule did not match them), in rule
	// order.
	RuleErrors []RuleErrors `json:"rule_errors,omitempty"`
}

// RuleErrors is how often one rule failed to evaluate, and its first
// failure.
type RuleErrors struct {
	Rule   string `json:"rule"`
	Events int    `json:"events"`
	First  string `json:"first"` // the first failure: the event ID and the error.
}

func (r *Result) addRuleErrors(rule string, n int, first string) {
	i, found := slices.BinarySearchFunc(r.RuleErrors, rule, func(e RuleErrors, id string) int { return cmp.Compare(e.Rule, id) })
	if !found {
		r.RuleErrors = slices.Insert(r.RuleErrors, i, RuleErrors{Rule: rule, First: first})
	}
	r.RuleErrors[i].Events += n
}

// Add accumulates o into r.
func (r *Result) Add(o Result) {
	r.Events += o.Events
	r.Kept += o.Kept
	r.Stored += o.Stored
	r.Duplicates += o.Duplicates
	r.Removed += o.Removed
	r.Alerts += o.Alerts
	r.NewAlerts += o.NewAlerts
	r.Superseded += o.Superseded
	r.Unevaluated += o.Unevaluated
	if r.FirstUnevaluated == "" {
		r.FirstUnevaluated = o.FirstUnevaluated
	}
	for _, e := range o.RuleErrors {
		r.addRuleErrors(e.Rule, e.Events, e.First)
	}
	r.Conflicts += o.Conflicts
	if r.FirstConflict == "" {
		r.FirstConflict = o.FirstConflict
	}
}

// eventReader is a store that reads stored events back (sqlite.Store):
// with it the pipeline checks that an event a rule matched is the record
// stored under its ID.
type eventReader interface {
	// StoredEvents returns, by ID, the stored events with the IDs of
	// events (whose times a store may look them up by); at least the
	// fields sameEvent compares are set.
	StoredEvents(ctx context.Context, events []*iamwatch.Event) (map[string]iamwatch.Event, error)
}

// sameEvent reports whether a and b are the same CloudTrail event, as far
// as an alert can tell: a record delivered twice (by a trail and by
// EventBridge, say) differs in formatting, not in these.
func sameEvent(a, b *iamwatch.Event) bool {
	return a.Time.Truncate(time.Second).Equal(b.Time.Truncate(time.Second)) &&
		a.Source == b.Source && a.Name == b.Name && a.AccountID == b.AccountID && a.Region == b.Region &&
		a.PrincipalARN == b.PrincipalARN && a.UserName == b.UserName && a.SourceIP == b.SourceIP && a.ErrorCode == b.ErrorCode
}

func conflictMsg(id string, kept, dropped *iamwatch.Event, where string) string {
	return fmt.Sprintf("event %q: %s %s by %s is kept; a different record with its ID (%s %s by %s) is not stored or evaluated",
		id, where, kept.Name, kept.UserName, dropped.Time.Format(time.RFC3339), dropped.Name, dropped.UserName)
}

// firstOfEachID drops the records of events whose ID an earlier, different
// record of the batch has, with a message for each, and the repeats of an
// earlier record of the batch (same ID, same bytes), counting them by ID.
// A repeat of the same event in other bytes stays (the store counts it as
// a duplicate).
// When inPlace, events is compacted; else a copy is made when needed.
func firstOfEachID(events []iamwatch.Event, inPlace bool) (_ []iamwatch.Event, msgs []string, repeats map[string]int) {
	var first map[string]int
	var drop []int
	for i := range events {
		if first == nil {
			first = make(map[string]int, len(events))
		}
		j, seen := first[events[i].ID]
		switch {
		case !seen:
			first[events[i].ID] = i
			continue
		case len(events[i].Raw) > 0 && bytes.Equal(events[i].Raw, events[j].Raw):
			if repeats == nil {
				repeats = map[string]int{}
			}
			repeats[events[i].ID]++
		case !sameEvent(&events[j], &events[i]):
			msgs = append(msgs, conflictMsg(events[i].ID, &events[j], &events[i], "the first record, "+events[j].Time.Format(time.RFC3339)))
		default:
			continue
		}
		drop = append(drop, i)
	}
	if len(drop) == 0 {
		return events, msgs, repeats
	}
	var out []iamwatch.Event
	if inPlace {
		out = events[:0]
	} else {
		out = make([]iamwatch.Event, 0, len(events)-len(drop))
	}
	for i := range events {
		if len(drop) > 0 && drop[0] == i {
			drop = drop[1:]
			continue
		}
		out = append(out, events[i])
	}
	if inPlace {
		clear(events[len(out):])
	}
	return out, msgs, repeats
}

// takenIDs returns, for each of ids whose stored record is a different
// event than the batch's, why.
func takenIDs(ctx context.Context, r eventReader, events []iamwatch.Event, ids []string) (map[string]string, error) {
	byID := make(map[string]*iamwatch.Event, len(ids))
	for i := range events {
		if _, ok := byID[events[i].ID]; !ok {
			byID[events[i].ID] = &events[i]
		}
	}
	look := make([]*iamwatch.Event, 0, len(ids))
	for _, id := range ids {
		if ev := byID[id]; ev != nil {
			look = append(look, ev)
		}
	}
	stored, err := r.StoredEvents(ctx, look)
	if err != nil {
		return nil, fmt.Errorf("read stored events: %w", err)
	}
	var taken map[string]string
	for _, id := range ids {
		st, found := stored[id]
		if ev := byID[id]; found && ev != nil && !sameEvent(&st, ev) {
			if taken == nil {
				taken = map[string]string{}
			}
			taken[id] = conflictMsg(id, &st, ev, "the stored record, "+st.Time.Format(time.RFC3339))
		}
	}
	return taken, nil
}

// Process detects, filters, stores and claims alerts for one batch, in that
// order of durability: events are stored before the batch's threshold hits
// and alerts are committed (one store call: one transaction in SQLite), so a
// crash in between replays to the same state (a first-seen rule keeps the
// events the stored baselines do not precede; the batch's own are merged
// with its alerts, after its events are stored, so a replay keeps the same
// events or finds them stored). It is idempotent: the same batch twice
// stores nothing new and claims no alert twice.
//
// With detection, over a store that can remove events (store/sqlite), it
// removes the events an earlier batch stored only as detect.Batch.Weak
// says once a later one supersedes them and nothing names them
// (Result.Removed): a live source's batches are small, and a file a batch
// left a fifth more events stored than one read of the same files (the
// 25k-record bench trail: 2,178 against 1,796), SSM agents' calls that a
// rule ignoring repeats no longer counts. It then serves one batch at a
// time.
func (p *Pipeline) Process(ctx context.Context, events []iamwatch.Event) (Result, error) {
	l := &p.live
	if p.tidy == nil {
		return p.process(ctx, events, false, nil)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.weak == nil {
		// Only what this Pipeline stores from now on may be removed.
		mark, err := p.tidy.EventsMark(ctx)
		if err != nil {
			return Result{}, fmt.Errorf("pipeline: %w", err)
		}
		l.mark, l.weak = mark, newWeakEvents()
		l.weak.max = liveWeakMax
	}
	res, err := p.process(ctx, events, false, l.weak)
	if err != nil || len(l.weak.superseded) == 0 {
		return res, err
	}
	if l.since.IsZero() {
		l.since = time.Now()
	}
	if len(l.weak.superseded) < liveRemoveAt && time.Since(l.since) < liveRemoveAfter {
		return res, nil
	}
	// The batch is stored whatever becomes of the removal, which the next
	// batch tries again.
	res.Removed, err = p.removeSuperseded(ctx)
	return res, err
}

// RemoveSuperseded removes now what Process would remove later (see
// Process): the events it stored weakly that later batches superseded and
// nothing names. A source calls it when it stops.
func (p *Pipeline) RemoveSuperseded(ctx context.Context) (int, error) {
	l := &p.live
	if p.tidy == nil {
		return 0, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return p.removeSuperseded(ctx)
}

// removeSuperseded is RemoveSuperseded, with p.live.mu held.
func (p *Pipeline) removeSuperseded(ctx context.Context) (int, error) {
	l := &p.live
	if l.weak == nil || len(l.weak.superseded) == 0 {
		return 0, nil
	}
	gone, err := p.tidy.DropUnnamed(ctx, l.mark, l.weak.superseded)
	if err != nil {
		return 0, fmt.Errorf("pipeline: remove superseded events: %w", err)
	}
	clear(l.weak.superseded)
	l.since = time.Time{}
	for _, id := range gone {
		delete(l.weak.stored, id)
	}
	return len(gone), nil
}

// Process removes superseded events once liveRemoveAt wait, or the oldest
// has waited liveRemoveAfter: a removal costs a few milliseconds whatever
// it removes, and after every batch a file a batch took half as long
// again as without (the 25k-record bench trail, 2,702 batches).
const (
	liveRemoveAt    = 256
	liveRemoveAfter = time.Minute
)

// liveWeakMax bounds what Process remembers of the events it stored weakly
// (~100 bytes each): the oldest is forgotten first, and a forgotten event
// superseded later stays stored. A slot of a rule that ignores repeats
// lasts an hour at most; an SSM agent calls every few minutes.
const liveWeakMax = 1 << 16

// liveWeak is Process's weakEvents (when Pipeline.tidy is set).
type liveWeak struct {
	mu    sync.Mutex
	mark  int64
	weak  *weakEvents
	since time.Time // when the oldest superseded event waiting was noted
}

// weakEvents are the events a read stored only as detect.Batch.Weak says
// (the filter does not keep them), and those of them a later batch
// superseded (detect.Batch.Superseded), by ID with their event times:
// ReadList removes, at its end, the superseded ones nothing names then.
type weakEvents struct {
	stored     map[string]*weakEvent
	superseded map[string]time.Time
	// max, when not 0, bounds stored: order holds its IDs oldest first.
	max   int
	order []string
}

// add notes a weakly kept event.
func (w *weakEvents) add(id string, e *weakEvent) {
	if _, ok := w.stored[id]; !ok && w.max > 0 {
		w.order = append(w.order, id)
		for len(w.order) > w.max {
			delete(w.stored, w.order[0])
			w.order = w.order[1:]
		}
	}
	w.stored[id] = e
}

// weakEvent is one of weakEvents.stored: its event time, and how many of
// its repeats were counted as duplicates of it (Result.Duplicates).
type weakEvent struct {
	time    time.Time
	repeats int
}

func newWeakEvents() *weakEvents {
	return &weakEvents{stored: map[string]*weakEvent{}, superseded: map[string]time.Time{}}
}

// unstored takes the events ids, which the store deleted, out of the
// counts of r: not stored, and neither they nor their repeats kept.
func (w *weakEvents) unstored(r *Result, ids []string) {
	for _, id := range ids {
		n := 0
		if e := w.stored[id]; e != nil {
			n = e.repeats
		}
		r.Stored--
		r.Kept -= 1 + n
		r.Duplicates -= n
	}
}

// process is Process; when own, events is the caller's no more and is
// compacted in place rather than copied (a batch is ~500 bytes an event).
// With weak not nil, it notes the batch's weak events in it.
func (p *Pipeline) process(ctx context.Context, events []iamwatch.Event, own bool, weak *weakEvents) (Result, error) {
	res := Result{Events: len(events)}
	// Repeats of events already processed (an earlier batch's, or the
	// batch's own) count as their first copy does, and go no further.
	events, copied, repeatsKept, _, weakRepeats := p.repeats.split(events, own)
	if weak != nil {
		for _, id := range weakRepeats {
			if e := weak.stored[id]; e != nil {
				e.repeats++
			}
		}
	}
	events, conflicts, repeats := firstOfEachID(events, own || copied)
	var batch *detect.Batch
	if p.detect != nil {
		var err error
		if batch, err = p.detect.Match(ctx, events); err != nil {
			return res, fmt.Errorf("pipeline: detect: %w", err)
		}
		if r, ok := p.store.(eventReader); ok && len(batch.Matched()) > 0 {
			// An alert must be about the record the store keeps.
			taken, err := takenIDs(ctx, r, events, batch.Matched())
			if err != nil {
				return res, fmt.Errorf("pipeline: %w", err)
			}
			if len(taken) > 0 {
				events = slices.DeleteFunc(slices.Clone(events), func(ev iamwatch.Event) bool {
					if msg, ok := taken[ev.ID]; ok {
						// Its repeats in the batch are the same record.
						for range 1 + repeats[ev.ID] {
							conflicts = append(conflicts, msg)
						}
						delete(repeats, ev.ID)
						return true
					}
					return false
				})
				if batch, err = p.detect.Match(ctx, events); err != nil {
					return res, fmt.Errorf("pipeline: detect: %w", err)
				}
			}
		}
		if err := batch.KeepFirsts(ctx, p.store); err != nil {
			return res, fmt.Errorf("pipeline: %w", err)
		}
		if res.Unevaluated = len(batch.Unevaluated); res.Unevaluated > 0 {
			res.FirstUnevaluated = batch.Unevaluated[0].Error()
		}
		for _, e := range batch.RuleErrors {
			res.addRuleErrors(e.Rule, 1, fmt.Sprintf("event %q: %v", e.EventID, e.Err))
		}
	}
	if res.Conflicts = len(conflicts); res.Conflicts > 0 {
		res.FirstConflict = conflicts[0]
	}
	keep := make([]iamwatch.Event, 0, len(events))
	kept := make([]bool, len(events))
	for i := range events {
		ev := &events[i]
		if (batch != nil && batch.Keep[i]) || p.filter.Stores(ev) {
			keep = append(keep, *ev)
			kept[i] = true
			// The filter asked again only of the few weak events.
			if weak != nil && batch.Weak[i] && !p.filter.Stores(ev) {
				// Its ID copied: a substring of the record would keep it.
				weak.add(strings.Clone(ev.ID), &weakEvent{time: ev.Time, repeats: repeats[ev.ID]})
			}
		}
	}
	// A repeat is kept, as a duplicate, when its first copy is.
	for i := range events {
		if kept[i] {
			repeatsKept += repeats[events[i].ID]
		}
	}
	res.Kept = len(keep) + repeatsKept
	res.Duplicates = repeatsKept
	if len(keep) > 0 {
		n, err := p.store.PutEvents(ctx, keep)
		if err != nil {
			return res, fmt.Errorf("pipeline: store %d events: %w", len(keep), err)
		}
		res.Stored = n
		res.Duplicates += len(keep) - n
	}
	// Once the batch is committed, its events are known: their repeats
	// in later batches go no further.
	learn := func() {
		p.repeats.learn(events, func(i int) (bool, bool) { return kept[i], kept[i] && batch != nil && batch.Weak[i] })
	}
	if batch == nil || (len(batch.Hits) == 0 && !batch.HasAlerts()) {
		learn()
		return res, nil
	}
	claims, err := p.store.CommitAlerts(ctx, batch.Hits, batch.Resolve)
	if err != nil {
		return res, fmt.Errorf("pipeline: commit alerts: %w", err)
	}
	res.Alerts = len(claims)
	if weak != nil {
		for _, id := range batch.Superseded() {
			if e := weak.stored[id]; e != nil {
				weak.superseded[id] = e.time
			}
		}
	}
	var quiet map[string]bool
	if p.enqueue != nil {
		quiet = batch.QuietParts(claims)
	}
	for _, c := range claims {
		if quiet[c.Alert.DedupKey] {
			res.Superseded++
		} else if p.enqueue != nil {
			if err := p.enqueue(ctx, c.Alert); err != nil {
				return res, fmt.Errorf("pipeline: enqueue alert %s: %w", c.Alert.DedupKey, err)
			}
		}
		if c.New {
			res.NewAlerts++
			if p.onNew != nil {
				p.onNew(c.Alert)
			}
		}
	}
	learn()
	return res, nil
}
