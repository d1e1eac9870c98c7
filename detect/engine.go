package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"text/template"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/iamwatch/iamwatch"
)

// Engine evaluates rules against events. It is built once by New (which
// validates the rules and the Config) and is safe for concurrent use.
//
// Matching does not loop over every rule: rules are indexed by the exact
// eventName values of their pattern; rules without one by the exact
// userIdentity.type values; rules without either that require errorCode are
// consulted only for failed events; the rest (none in the built-in catalog)
// are consulted for every event. A rule whose pattern is a $or of
// indexable alternatives is filed under each. Before the record is parsed,
// a candidate that constrains what the decoded fields or the raw record's
// keys can rule out (a user agent, the request member an S3 rule's
// condition reads) is checked on them (mayMatchEvent); a light rule (first-seen,
// threshold or sequence, see compiled) is decided on the decoded fields
// alone and never causes a parse.
// The record is read only when some other rule is a candidate for the
// event, and then only the members the candidates read are parsed (see
// record).
type Engine struct {
	rules      []*compiled
	names      nameFilter // a cheap pre-check before byName is hashed
	byName     map[string][]*compiled
	byIdentity map[string][]*compiled
	identities []identityBucket // byIdentity as a slice: a handful of types, compared directly
	// sources holds rules that name their event sources but not their
	// event names exactly (Lambda's versioned names, matched by prefix):
	// a handful of sources, compared directly.
	sources []identityBucket
	onError []*compiled
	always  []*compiled
	light   bool // some rule is light (see compiled)

	allow   *allowList
	trusted []string
	admin   []string
	geo     iamwatch.GeoLocator // nil: events are not located

	skipped map[string]string // rule ID → why it is off (a first-seen rule over GeoIP without a database)

	conditionErrors atomic.Int64
	summaryErrors   atomic.Int64
}

// compiled is a rule as the Engine runs it.
type compiled struct {
	rule    *Rule
	pattern *Pattern
	cond    cel.Program
	group   cel.Program
	// groupFields, when set, is what group reads, evaluated without CEL:
	// one decoded field, or two where the first is taken unless empty
	// (fieldChoice).
	groupFields []string
	summary     *template.Template
	allow       *allowList
	top         iamwatch.Severity // the highest severity its alerts reach (escalation included)
	// Grouped rules (threshold or dedup): an alert per group and period,
	// once count hits fall within one window (see threshold.go).
	count  int
	within time.Duration
	period time.Duration
	by     []string // group fields, when group is nil
	// Distinct thresholds and sequences count distinct values (Hit.Value):
	// a field's, distinctExpr's, or the name of the step an event matches.
	distinct      bool
	distinctField string
	distinctExpr  cel.Program
	steps         []compiledStep
	// ignoreRepeats: threshold.repeats is ignore; a batch drops the
	// repeated hits (see Batch.dropRepeats), and Resolve the stored ones,
	// per slot of slot (within, aligned on the period).
	ignoreRepeats bool
	slot          time.Duration
	// precheck: mayMatchEvent rules out events the index files c for.
	// multi: c is filed under several buckets (a $or), so an event may
	// find it twice. light: a rule that the decoded fields decide, which
	// never makes the engine parse an event (see Batch.matchLight): a
	// first-seen rule without condition whose pattern is decodedOnly (the
	// pipeline keeps only the first event of each value it observes), or a
	// threshold or sequence rule whose pattern (and every step's, without
	// step conditions) is decodedOnly and whose condition, group and
	// distinct expressions read no record variable (the pipeline keeps
	// only the events of its hits), that neither supersedes nor is
	// superseded.
	precheck, multi, light bool
	// lightFields: of a light threshold rule, the fields its condition,
	// group (or by) and distinct expressions read: their results depend on
	// these alone (see Batch.matchLightRule).
	lightFields []string
	// identityOfActor: a first-seen rule keyed by actorFields only.
	identityOfActor bool
}

// compiledStep is one step of a sequence rule.
type compiledStep struct {
	name    string
	pattern *Pattern
	cond    cel.Program
}

// grouped reports whether c's matches are counted as hits.
func (c *compiled) grouped() bool { return c.count > 0 }

// Stats counts failures that do not stop evaluation.
type Stats struct {
	ConditionErrors int64 // conditions or group expressions that failed to evaluate (counted as no match)
	SummaryErrors   int64 // summaries that failed to render (a plain summary was used)
}

// New compiles rules under cfg. Rules disabled by cfg are left out. It
// fails when a rule or the Config is invalid: duplicate rule IDs, unknown
// rule IDs in cfg, bad allow-lists, a threshold
// override on a rule without a threshold. The Engine holds no detection
// state: hits and alerts live in the store (see Batch). A rule may
// supersede a rule that is not loaded (rule tests load one rule alone).
func New(rules []*Rule, cfg Config) (*Engine, error) {
	e := &Engine{
		byName:     map[string][]*compiled{},
		byIdentity: map[string][]*compiled{},
		trusted:    cfg.TrustedAccounts,
		admin:      cfg.adminPolicies(),
		geo:        cfg.Geo,
	}
	ids := map[string]*Rule{}
	for _, r := range rules {
		if r == nil || r.pattern == nil {
			return nil, errors.New("detect: new engine: a rule was not loaded by ParseRule/LoadFS")
		}
		if prev, dup := ids[r.ID]; dup {
			return nil, fmt.Errorf("detect: new engine: rule %q defined twice (%s, %s)", r.ID, prev.File, r.File)
		}
		ids[r.ID] = r
	}
	if err := cfg.Check(rules); err != nil {
		return nil, fmt.Errorf("detect: new engine: %w", err)
	}
	disabled := map[string]bool{}
	for _, id := range cfg.Disabled {
		disabled[id] = true
	}
	for id, rc := range cfg.Rules {
		if rc.Disabled {
			disabled[id] = true
		}
	}
	var err error
	if e.allow, err = compileAllow(cfg.Allow); err != nil {
		return nil, fmt.Errorf("detect: new engine: %w", err)
	}
	env, err := newCELEnv(cfg)
	if err != nil {
		return nil, fmt.Errorf("detect: new engine: %w", err)
	}
	var pre []*prechecked // the folders' PrecheckedFiles
	for _, r := range rules {
		if r.prechecked != nil && !slices.Contains(pre, r.prechecked) {
			pre = append(pre, r.prechecked)
		}
	}
	for i, p := range pre {
		if i == 0 {
			env.pre = p.exprs
			continue
		}
		if i == 1 {
			env.pre = maps.Clone(env.pre)
		}
		maps.Copy(env.pre, p.exprs)
	}
	var enabled []*Rule
	for _, r := range rules {
		if disabled[r.ID] {
			continue
		}
		if r.NeedsGeo() && cfg.Geo == nil {
			if e.skipped == nil {
				e.skipped = map[string]string{}
			}
			e.skipped[r.ID] = SkipNoGeoIP
			continue
		}
		enabled = append(enabled, r)
	}
	// Compiled on GOMAXPROCS goroutines (see forEach); the first error in
	// rule order is the one reported.
	e.rules = make([]*compiled, len(enabled))
	errs := make([]error, len(enabled))
	forEach(len(enabled), func(i int) {
		e.rules[i], errs[i] = compileRule(enabled[i], cfg, env)
	})
	for i, err := range errs {
		if err != nil {
			r := enabled[i]
			return nil, fmt.Errorf("detect: new engine: rule %s (%s): %w", r.ID, r.File, err)
		}
	}
	for _, c := range e.rules {
		// Light rules are matched apart from the others: one another
		// supersedes (or that supersedes another) is not.
		if c.light && c.rule.Threshold != nil && (len(c.rule.Supersedes) > 0 || slices.ContainsFunc(e.rules, func(o *compiled) bool {
			return slices.Contains(o.rule.Supersedes, c.rule.ID)
		})) {
			c.light = false
		}
		e.index(c)
		e.light = e.light || c.light
	}
	return e, nil
}

func compileRule(r *Rule, cfg Config, env *celEnv) (*compiled, error) {
	c := &compiled{rule: r, pattern: r.pattern}
	var err error
	if r.Condition != "" {
		if c.cond, err = env.compile(r.Condition, cel.BoolType); err != nil {
			return nil, fmt.Errorf("condition: %w", err)
		}
	}
	if d := r.Dedup; d != nil {
		c.count, c.period, c.by = 1, d.Period, d.Fields
	}
	if t := r.Threshold; t != nil {
		c.count, c.within, c.by = t.Count, t.Within, t.By
		if c.period == 0 {
			c.period = max(DefaultPeriod, c.within)
		}
		if o := cfg.Rules[r.ID].Threshold; o != nil {
			if o.Count != 0 {
				c.count = o.Count
			}
			if o.Within != 0 {
				c.within = o.Within
			}
		}
		// A sequence's threshold carries its repeats too (its steps are
		// the values).
		c.ignoreRepeats, c.slot = t.Repeats == RepeatsIgnore, c.within
		if t.Group != "" {
			if c.group, err = env.compile(t.Group, cel.StringType); err != nil {
				return nil, fmt.Errorf("threshold.group: %w", err)
			}
			c.groupFields = env.fieldChoice(t.Group)
		}
		switch {
		case t.Distinct == "":
		case knownField(t.Distinct):
			c.distinct, c.distinctField = true, t.Distinct
		default:
			c.distinct = true
			if c.distinctExpr, err = env.compileDistinct(t.Distinct); err != nil {
				return nil, fmt.Errorf("threshold.distinct: %w", err)
			}
		}
	}
	if q := r.Sequence; q != nil {
		if o := cfg.Rules[r.ID].Threshold; o != nil && o.Count != 0 {
			return nil, fmt.Errorf("rules.%s.threshold.count: a sequence counts its %d steps; override within alone", r.ID, len(q.Steps))
		}
		c.distinct, c.count = true, len(q.Steps)
		for i, st := range q.Steps {
			cs := compiledStep{name: st.Name, pattern: st.pattern}
			if st.Condition != "" {
				if cs.cond, err = env.compile(st.Condition, cel.BoolType); err != nil {
					return nil, fmt.Errorf("sequence.steps[%d].condition: %w", i, err)
				}
			}
			c.steps = append(c.steps, cs)
		}
	}
	if t := r.Threshold; t != nil {
		distinct := ""
		if c.distinctExpr != nil {
			distinct = t.Distinct
		}
		var fieldsOnly bool
		c.lightFields, fieldsOnly = env.fieldsOnly(r.Condition, t.Group, distinct)
		c.light = fieldsOnly && c.pattern.decodedOnly()
		if q := r.Sequence; q != nil {
			// A sequence's value is its step: each step decided on the
			// decoded fields too.
			c.light = c.light && !slices.ContainsFunc(q.Steps, func(st Step) bool { return st.Condition != "" || !st.pattern.decodedOnly() })
		}
		for _, f := range c.by {
			if !slices.Contains(c.lightFields, f) {
				c.lightFields = append(c.lightFields, f)
			}
		}
	}
	if r.Baseline != nil {
		c.light = r.Condition == "" && c.pattern.decodedOnly()
	}
	c.identityOfActor = r.Baseline != nil && !slices.ContainsFunc(r.Baseline.By, func(f string) bool { return !slices.Contains(actorFields, f) })
	if c.summary, err = parseSummary(r.ID, r.Summary, cfg); err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	if c.allow, err = compileAllow(cfg.Rules[r.ID].Allow); err != nil {
		return nil, fmt.Errorf("rules.%s.%w", r.ID, err)
	}
	c.top = r.Severity
	for _, st := range r.Escalate {
		c.top = max(c.top, st.Severity)
	}
	return c, nil
}

// The buckets of the index (see Engine and candidates).
const (
	bucketName = iota
	bucketIdentity
	bucketError
	bucketAlways
	bucketSource
)

// bucketOf returns where a pattern is indexed and under which keys: its
// exact eventName values, else its exact eventSource values, else its
// exact userIdentity.type values, else on errors when it requires
// errorCode, else always.
func bucketOf(p *Pattern) (int, []string) {
	if names, ok := p.exactStrings("eventName"); ok {
		return bucketName, slices.Compact(slices.Sorted(slices.Values(names)))
	}
	if srcs, ok := p.exactStrings("eventSource"); ok {
		return bucketSource, slices.Compact(slices.Sorted(slices.Values(srcs)))
	}
	if uid := p.sub("userIdentity"); uid != nil {
		if types, ok := uid.exactStrings("type"); ok {
			return bucketIdentity, slices.Compact(slices.Sorted(slices.Values(types)))
		}
	}
	if p.requiresPresent("errorCode") {
		return bucketError, nil
	}
	return bucketAlways, nil
}

// index files c under its pattern's bucket. A pattern the index cannot
// place but whose one $or has alternatives it can (a sequence whose steps
// are different calls) is filed under each alternative's bucket instead:
// c.multi, evaluated once however many of its buckets an event finds.
func (e *Engine) index(c *compiled) {
	c.precheck = c.pattern.prechecks()
	kind, keys := bucketOf(c.pattern)
	if kind == bucketAlways && len(c.pattern.ors) == 1 {
		alts := c.pattern.ors[0]
		kinds := make([]int, len(alts))
		altKeys := make([][]string, len(alts))
		ok := true
		for i, a := range alts {
			kinds[i], altKeys[i] = bucketOf(a)
			ok = ok && (kinds[i] == bucketName || kinds[i] == bucketSource || kinds[i] == bucketIdentity)
		}
		if ok {
			c.multi = true
			for i := range alts {
				e.file(c, kinds[i], altKeys[i])
			}
			return
		}
	}
	e.file(c, kind, keys)
}

// file adds c to one bucket of the index, once per key.
func (e *Engine) file(c *compiled, kind int, keys []string) {
	switch kind {
	case bucketName:
		for _, n := range keys {
			if !slices.Contains(e.byName[n], c) {
				e.byName[n] = append(e.byName[n], c)
			}
			e.names.add(n)
		}
	case bucketSource:
		// Source-indexed rules match names by an operator (Lambda's
		// prefixes): check the name before keeping or parsing the event,
		// or every read of that service (ListFunctions) would be kept.
		c.precheck = true
		e.sources = addToBucket(e.sources, keys, c)
	case bucketIdentity:
		for _, t := range keys {
			if !slices.Contains(e.byIdentity[t], c) {
				e.byIdentity[t] = append(e.byIdentity[t], c)
			}
		}
		e.identities = addToBucket(e.identities, keys, c)
	case bucketError:
		e.onError = append(e.onError, c)
	default:
		e.always = append(e.always, c)
	}
}

// addToBucket adds c to the buckets of keys in bs, creating them.
func addToBucket(bs []identityBucket, keys []string, c *compiled) []identityBucket {
	for _, k := range keys {
		i := slices.IndexFunc(bs, func(b identityBucket) bool { return b.typ == k })
		if i < 0 {
			bs = append(bs, identityBucket{typ: k})
			i = len(bs) - 1
		}
		if !slices.Contains(bs[i].rules, c) {
			bs[i].rules = append(bs[i].rules, c)
		}
	}
	return bs
}

// Rules returns the IDs of the enabled rules, in the order given to New.
func (e *Engine) Rules() []string {
	out := make([]string, len(e.rules))
	for i, c := range e.rules {
		out[i] = c.rule.ID
	}
	return out
}

// SkipNoGeoIP is why a first-seen rule over country or ASN is off.
const SkipNoGeoIP = "off: compares countries or ASNs, and no GeoIP database is configured (detection.geoip)"

// Skipped returns the rules that are enabled but off, with why (a
// first-seen rule over country or ASN without a GeoIP database).
func (e *Engine) Skipped() map[string]string { return maps.Clone(e.skipped) }

// Stats returns the failure counters.
func (e *Engine) Stats() Stats {
	return Stats{ConditionErrors: e.conditionErrors.Load(), SummaryErrors: e.summaryErrors.Load()}
}

// candidates returns the buckets of rules that may match ev.
func (e *Engine) candidates(ev *iamwatch.Event) [5][]*compiled {
	var b [5][]*compiled
	if e.names.mayContain(ev.Name) {
		b[0] = e.byName[ev.Name]
	}
	for i := range e.identities {
		if e.identities[i].typ == ev.IdentityType {
			b[1] = e.identities[i].rules
		}
	}
	if ev.ErrorCode != "" {
		b[2] = e.onError
	}
	b[3] = e.always
	for i := range e.sources {
		if e.sources[i].typ == ev.Source {
			b[4] = e.sources[i].rules
		}
	}
	return b
}

// Interested reports, cheaply (no parsing), whether any rule could match ev:
// a candidate rule that does not ignore ev's actor (services:), or a light
// first-seen rule whose pattern ev matches. The pipeline may drop the
// others before Match (an AWS service's denied calls, which no rule
// counts); of these, Match keeps those a rule matches (Batch.Keep).
func (e *Engine) Interested(ev *iamwatch.Event) bool {
	b := e.candidates(ev)
	return wants(b, ev) || e.light && observesLight(b, ev)
}

// observesLight reports whether a light first-seen rule among the
// candidates would observe ev (see Batch.matchLight, which also applies
// the allow-lists).
func observesLight(buckets [5][]*compiled, ev *iamwatch.Event) bool {
	for _, list := range buckets {
		for _, c := range list {
			if c.observesLight(ev) {
				return true
			}
		}
	}
	return false
}

// observesLight reports whether c is a light rule whose pattern ev's
// decoded fields match and that does not ignore ev's actor (the
// allow-lists aside). matchDecoded decides a light rule's pattern whole:
// mayMatchEvent, which never rejects what it matches, would only repeat
// its work (the instance rules' ARN wildcard) and look for keys in the
// record besides.
func (c *compiled) observesLight(ev *iamwatch.Event) bool {
	return c.light && !c.rule.ignoresActor(ev) && c.pattern.matchDecoded(ev)
}

// wants reports whether some candidate rule that parses the record (not
// a light first-seen rule) could match ev and does not ignore its actor.
func wants(buckets [5][]*compiled, ev *iamwatch.Event) bool {
	for _, list := range buckets {
		for _, c := range list {
			if c.light || c.precheck && !c.pattern.mayMatchEvent(ev) {
				continue
			}
			if !c.rule.ignoresActor(ev) {
				return true
			}
		}
	}
	return false
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// durationText writes d as people do: 1h, 10m, 90s.
func durationText(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// identityBucket is the rules of one identity type (or one event source).
type identityBucket struct {
	typ   string
	rules []*compiled
}

// nameFilter is a one-hash-function Bloom filter over the indexed event
// names, hashed by length and two bytes: most names of noise events (which
// no rule names) are rejected without hashing the whole string.
type nameFilter struct {
	bits [16]uint64
}

func nameBit(s string) uint {
	if s == "" {
		return 0
	}
	return (uint(len(s))*31 + uint(s[0])*7 + uint(s[len(s)-1])*3 + uint(s[len(s)/2])) % 1024
}

func (f *nameFilter) add(s string) { b := nameBit(s); f.bits[b/64] |= 1 << (b % 64) }

func (f *nameFilter) mayContain(s string) bool {
	b := nameBit(s)
	return f.bits[b/64]&(1<<(b%64)) != 0
}
