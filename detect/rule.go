package detect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"gopkg.in/yaml.v3"

	"github.com/iamwatch/iamwatch"
)

// Rule is one detection rule, as read from its YAML file. A Rule is not
// modified after loading and may be shared; the Engine compiles its own
// copy of everything it needs.
//
// The file format (one rule per file, rules/<id>.yaml):
//
//	id: root-console-signin             # lower-case letters, digits and dashes
//	title: "IAM Alert: Root Account Login"  # sinks prefix it with [SEVERITY]
//	severity: critical                  # critical|high|medium|low|info
//	description: …
//	references: [CIS AWS Foundations 1.7, MITRE ATT&CK T1078.004]
//	tags: [root, signin]                # the tag geoip: the condition reads country, asn or as_org,
//	                                    # and the rule is off without a GeoIP database
//	match:                              # EventBridge event pattern over the record
//	  eventSource: [signin.amazonaws.com]
//	  eventName: [ConsoleLogin]
//	  userIdentity: {type: [Root]}
//	condition: 'is_admin_policy(request.policyArn)'   # optional CEL, see cel.go
//	threshold: {count: 4, within: 1h, by: [user_name]} # optional; or group: <CEL string>
//	                                    # distinct: <field or CEL> counts distinct values, not events:
//	                                    # the window fires at count distinct values (see threshold.go);
//	                                    # the expression gives a string or a list of strings
//	sequence:                           # optional, instead of threshold: the steps of one group's
//	  within: 1h                        # attack, in any order, within a window (see threshold.go)
//	  group: 'principal_arn'            # or by: [...]
//	  repeats: ignore                   # optional: a step's repeats within a slot of within are not
//	                                    # hits (as threshold.repeats; the default: count)
//	  steps:                            # each event counts as the first step it matches,
//	  - name: user created              # within the rule's match (which must cover every step)
//	    match: {eventName: [CreateUser]}
//	  - name: admin policy attached
//	    match: {eventName: [AttachUserPolicy]}
//	    condition: 'is_admin_policy(request.policyArn)'
//	dedup: {fields: [account_id, source_ip], period: 1h} # optional; a threshold rule takes period alone (default 24h)
//	baseline:                           # optional: a first-seen rule (baseline.go): alert on the
//	  by: [account_id, user_name]       # first event of an identity (these fields) with a value
//	  value: country                    # (this field) it never had before, once the identity's
//	  learning: 14d                     # history is longer than learning (h, m or d)
//	  values: [bedrock.amazonaws.com]   # optional: only these new values alert (wildcards);
//	                                    # the others are learnt silently
//	travel:                             # optional: an impossible-travel rule (travel.go): alert on
//	  by: [account_id, user_name]       # an event of an identity too far from an earlier one to
//	  speed: 1000                       # get there below speed (km/h, default 1000), ignoring
//	  min_distance: 500                 # pairs nearer than min_distance (km, default 500)
//	supersedes: [iam-policy-changed]    # optional: rules this one silences on the same event
//	services: exclude                   # optional: exclude (the default) skips events whose actor is
//	                                    # an AWS service (userIdentity.type AWSService, or only invokedBy);
//	                                    # exclude-invoked also skips calls a service made with a
//	                                    # principal's credentials (invokedBy set); include evaluates
//	                                    # every event. See service.go.
//	delivery: realtime                  # optional, the serverless shape: realtime (an EventBridge
//	                                    # rule delivers its events as they happen) or trail (only
//	                                    # the events read from the trail files); the default is
//	                                    # deploy.TrailOnly's (trail for a threshold that ignores
//	                                    # repeats and for a first-seen rule naming no source or
//	                                    # event, realtime otherwise)
//	summary: 'Root account logged in from IP: {{.source_ip}}'  # see summary.go
//	action: Confirm with the account owner …
//	tests:
//	  - name: root signs in with MFA
//	    expect: alert                   # or none
//	    summary_contains: with MFA
//	    event: {…the CloudTrail record, YAML or a JSON string…}
//	  - name: a burst                   # threshold rules: a sequence
//	    expect: alert                   # the verdict on the last event
//	    repeat: {count: 4, every: 5m}   # the event 4 times, ids -1…-4, 5 minutes apart;
//	                                    # vary: [requestParameters.secretId] suffixes those
//	                                    # strings -1…-4 too (distinct values)
//	    event: {…}
//	  - name: explicit sequence
//	    expect: none
//	    events: [{…}, {…}]
type Rule struct {
	ID          string
	Title       string
	Severity    iamwatch.Severity
	Description string
	References  []string
	Tags        []string
	// Match is the event pattern as written (JSON-shaped: maps, lists,
	// strings, json.Number, bool, nil).
	Match     map[string]any
	Condition string
	// Threshold is the rule's threshold; for a sequence rule, the one its
	// Sequence amounts to (count: the number of steps, distinct: the step).
	Threshold *Threshold
	Sequence  *Sequence
	Dedup     *Dedup
	// Baseline makes the rule a first-seen rule (see baseline.go).
	Baseline *Baseline
	// Travel makes the rule an impossible-travel rule (see travel.go).
	Travel *Travel
	// Escalate raises an incident's severity as it grows (threshold and
	// dedup rules): the alert takes the severity of the last step whose
	// Count it reached, and each sink is told again once per step.
	Escalate []Escalation
	// Supersedes names rules that stay silent on an event this rule matches
	// (a specific rule over the generic one).
	Supersedes []string
	Summary    string
	Action     string
	Tests      []RuleTest

	// Services says whether events made by AWS services are evaluated
	// (see service.go); "" is ServicesExclude.
	Services Services

	// Delivery says which events of the serverless shape the rule runs
	// on; "" leaves it to deploy.TrailOnly.
	Delivery Delivery

	// File is where the rule was read from ("builtin:rules/x.yaml" or a path).
	File string

	pattern *Pattern
	// prechecked are its folder's expressions checked in advance
	// (PrecheckedFile), shared by the folder's rules; nil without.
	prechecked *prechecked
}

// Threshold makes a rule fire on the Count-th matching event of one group
// within a sliding window of event time (see threshold.go).
type Threshold struct {
	Count  int
	Within time.Duration
	// By names the normalised fields (see Fields) whose values, joined with
	// "/", form the group; Group is a CEL string expression instead.
	By    []string
	Group string
	// Distinct, when set, makes the rule count distinct values rather than
	// events: a field name (see Fields) or a CEL expression giving a string
	// or a list of strings. An event whose value is "" (or an empty list)
	// is counted in the incident but adds no value.
	Distinct string
	// Repeats, with Distinct, says what a value a group repeats counts for:
	// RepeatsCount (the default), every event; RepeatsIgnore, only the
	// first and the last event of the group holding that value in each
	// slot of Within (slots aligned on the dedup period). The rule fires
	// exactly when it would counting every event (threshold.go), but the
	// count, the sample and the events kept for it are of those events
	// alone: a tool polling one call all day makes two hits a slot, not one
	// a call, and leaves the rest of its calls unkept.
	Repeats string
}

// Delivery is which events a rule runs on in the serverless shape, where
// EventBridge delivers events one by one as they happen and the trail
// files bring them in batches minutes later.
type Delivery string

// The values of `delivery:`.
const (
	// DeliveryRealtime: an EventBridge rule delivers the rule's events as
	// they happen (one an invocation), besides the trail files.
	DeliveryRealtime Delivery = "realtime"
	// DeliveryTrail: the rule runs only on the events read from the trail
	// files, whose batches drop a threshold's repeats.
	DeliveryTrail Delivery = "trail"
)

// Threshold.Repeats values.
const (
	RepeatsCount  = "count"
	RepeatsIgnore = "ignore"
)

// Sequence makes a rule fire when one group's events complete every step
// (in any order) within a window: a Threshold of len(Steps) distinct step
// names. An event counts as the first step it matches; one that matches
// the rule but no step does not match.
type Sequence struct {
	Within time.Duration
	By     []string
	Group  string
	Steps  []Step
	// Repeats is Threshold.Repeats, the steps being the values: with
	// RepeatsIgnore, of a step a group repeats only the first and the last
	// event of each slot of Within count (a step that is routine traffic,
	// such as an instance's own calls, is then two hits an hour, not one a
	// call), and the sequence completes exactly as it would counting every
	// event.
	Repeats string
}

// Step is one step of a Sequence: a pattern and an optional condition,
// evaluated after the rule's own match and condition.
type Step struct {
	Name      string
	Match     map[string]any
	Condition string

	pattern *Pattern
}

// Escalation is one step of Rule.Escalate: from Count events on, the
// incident's alert has Severity.
type Escalation struct {
	Count    int
	Severity iamwatch.Severity
}

// SeverityAt is the severity of an incident of count events: the rule's,
// or that of the last escalation step count reached.
func (r *Rule) SeverityAt(count int) iamwatch.Severity {
	s := r.Severity
	for _, e := range r.Escalate {
		if count >= e.Count {
			s = e.Severity
		}
	}
	return s
}

// Dedup makes a single-event rule raise one alert per distinct values of
// Fields per Period (aligned on the zero time, so 24h periods are UTC days)
// instead of one per event. On a threshold rule only Period is allowed: the
// rule raises one alert per group and Period, however long the burst.
type Dedup struct {
	Fields []string
	Period time.Duration
}

// RuleTest is one inline test of a rule.
type RuleTest struct {
	Name string
	// Events are the CloudTrail records, in order (one for a single-event test).
	Events []json.RawMessage
	// Expect is "alert" or "none": the verdict on the last event.
	Expect string
	// SummaryContains, when set, must occur in the alert's summary.
	SummaryContains string
	Line            int
}

// Pattern returns the compiled match pattern.
func (r *Rule) Pattern() *Pattern { return r.pattern }

// FileError is a rule file that cannot be used: where and why.
type FileError struct {
	File string
	Line int // 0 when the error concerns the whole file
	Err  error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// idPattern is compiled on first use: its bounded repeat made it most of
// the package's init (0.5 ms), which every iamwatch command paid, rules or
// none.
var idPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`) })

// maxRuleFileBytes bounds a rule file.
const maxRuleFileBytes = 1 << 20

// ParseRule parses and validates one rule file. file names it in errors. The
// rule's condition, group expression and summary are compiled against the
// default Config to check them; the Engine compiles them again against its own.
func ParseRule(file string, data []byte) (*Rule, error) {
	return parseRuleFile(file, data, false)
}

func parseRuleFile(file string, data []byte, lean bool) (*Rule, error) {
	r, err := parseRule(file, data, lean)
	if err != nil {
		var pe *posError
		if errors.As(err, &pe) {
			return nil, &FileError{File: file, Line: pe.line, Err: errors.New(strings.TrimPrefix(pe.Error(), fmt.Sprintf("line %d: ", pe.line)))}
		}
		return nil, &FileError{File: file, Err: err}
	}
	return r, nil
}

func parseRule(file string, data []byte, lean bool) (*Rule, error) {
	if len(data) > maxRuleFileBytes {
		return nil, fmt.Errorf("file of %d bytes is larger than %d", len(data), maxRuleFileBytes)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, errors.New("empty rule file")
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, errAt(root, "", "a rule must be a mapping")
	}
	r := &Rule{File: file}
	var seen = map[string]*yaml.Node{}
	for i := 0; i < len(root.Content); i += 2 {
		k, v := root.Content[i], resolve(root.Content[i+1])
		if _, dup := seen[k.Value]; dup {
			return nil, errAt(k, "", "duplicate key %q", k.Value)
		}
		seen[k.Value] = v
		var err error
		switch k.Value {
		case "id":
			r.ID, err = str(v, "id")
		case "title":
			r.Title, err = str(v, "title")
		case "severity":
			var s string
			if s, err = str(v, "severity"); err == nil {
				if r.Severity, err = iamwatch.ParseSeverity(s); err != nil {
					err = errAt(v, "severity", "%v", err)
				}
			}
		case "description":
			r.Description, err = str(v, "description")
		case "references":
			r.References, err = strs(v, "references")
		case "tags":
			r.Tags, err = strs(v, "tags")
		case "match":
			if r.pattern, err = compilePattern(v, "match"); err == nil {
				m, _ := nodeValue(v).(map[string]any)
				r.Match = m
			}
		case "condition":
			r.Condition, err = str(v, "condition")
		case "threshold":
			r.Threshold, err = parseThreshold(v)
		case "sequence":
			r.Sequence, err = parseSequence(v)
		case "dedup":
			r.Dedup, err = parseDedup(v)
		case "baseline":
			r.Baseline, err = parseBaseline(v)
		case "travel":
			r.Travel, err = parseTravel(v)
		case "escalate":
			r.Escalate, err = parseEscalate(v)
		case "supersedes":
			r.Supersedes, err = strs(v, "supersedes")
		case "services":
			var s string
			if s, err = str(v, "services"); err == nil {
				if r.Services, err = parseServices(s); err != nil {
					err = errAt(v, "services", "%v", err)
				}
			}
		case "delivery":
			var s string
			if s, err = str(v, "delivery"); err == nil {
				r.Delivery = Delivery(s)
				if r.Delivery != DeliveryRealtime && r.Delivery != DeliveryTrail {
					err = errAt(v, "delivery", "%q: want %s or %s", s, DeliveryRealtime, DeliveryTrail)
				}
			}
		case "summary":
			r.Summary, err = str(v, "summary")
		case "action":
			r.Action, err = str(v, "action")
		case "tests":
			r.Tests, err = parseTests(v)
		default:
			err = errAt(k, "", "unknown key %q (want id, title, severity, description, references, tags, match, condition, threshold, sequence, dedup, baseline, travel, escalate, supersedes, services, delivery, summary, action, tests)", k.Value)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, req := range []string{"id", "title", "severity", "match", "summary"} {
		if seen[req] == nil {
			return nil, errAt(root, "", "missing %q", req)
		}
	}
	if !idPattern().MatchString(r.ID) {
		return nil, errAt(seen["id"], "id", "%q: use lower-case letters, digits and dashes", r.ID)
	}
	if strings.Contains(r.Action, "\n") {
		return nil, errAt(seen["action"], "action", "must be one line")
	}
	if q := r.Sequence; q != nil {
		switch {
		case r.Threshold != nil:
			return nil, errAt(seen["sequence"], "sequence", "give threshold or sequence, not both")
		case len(r.Supersedes) > 0:
			// Supersedes acts per event, when it is matched: on a step, not on
			// a completed sequence, so it would silence the parts of every
			// sequence that never completes.
			return nil, errAt(seen["supersedes"], "supersedes", "a sequence rule cannot supersede: it would silence its steps' rules before the sequence is complete")
		}
		r.Threshold = &Threshold{Count: len(q.Steps), Within: q.Within, By: q.By, Group: q.Group, Repeats: q.Repeats}
	}
	if r.Dedup != nil {
		switch {
		case r.Threshold != nil && len(r.Dedup.Fields) > 0:
			return nil, errAt(seen["dedup"], "dedup.fields", "a threshold rule groups by its threshold; give dedup only a period")
		case r.Threshold == nil && len(r.Dedup.Fields) == 0:
			return nil, errAt(seen["dedup"], "dedup", "needs fields")
		case r.Threshold != nil && r.Dedup.Period < r.Threshold.Within:
			return nil, errAt(seen["dedup"], "dedup.period", "shorter than threshold.within")
		}
	}
	if r.Baseline != nil && (r.Threshold != nil || r.Dedup != nil) {
		return nil, errAt(seen["baseline"], "baseline", "a first-seen rule raises once per identity and value: drop threshold and dedup")
	}
	if r.Travel != nil && (r.Threshold != nil || r.Dedup != nil || r.Baseline != nil) {
		return nil, errAt(seen["travel"], "travel", "an impossible-travel rule raises once per sighting: drop threshold, dedup and baseline")
	}
	if err := r.checkEscalate(seen["escalate"]); err != nil {
		return nil, err
	}
	if slices.Contains(r.Supersedes, r.ID) {
		return nil, errAt(seen["supersedes"], "supersedes", "a rule cannot supersede itself")
	}
	// Check the expressions and the template against the default config
	// (New compiles them again against its own; a lean load leaves them
	// to it).
	if lean {
		return r, nil
	}
	ce, err := newCELEnv(Config{})
	if err != nil {
		return nil, err
	}
	if r.Condition != "" {
		if _, err := ce.compile(r.Condition, cel.BoolType); err != nil {
			return nil, errAt(seen["condition"], "condition", "%v", err)
		}
	}
	if r.Threshold != nil && r.Threshold.Group != "" {
		key := "threshold"
		if r.Sequence != nil {
			key = "sequence"
		}
		if _, err := ce.compile(r.Threshold.Group, cel.StringType); err != nil {
			return nil, errAt(seen[key], key+".group", "%v", err)
		}
	}
	if r.Threshold != nil && r.Threshold.Distinct != "" && !knownField(r.Threshold.Distinct) {
		if _, err := ce.compileDistinct(r.Threshold.Distinct); err != nil {
			return nil, errAt(seen["threshold"], "threshold.distinct", "%v", err)
		}
	}
	if r.Sequence != nil {
		for i, st := range r.Sequence.Steps {
			if st.Condition == "" {
				continue
			}
			if _, err := ce.compile(st.Condition, cel.BoolType); err != nil {
				return nil, errAt(seen["sequence"], fmt.Sprintf("sequence.steps[%d].condition", i), "%v", err)
			}
		}
	}
	// And the template.
	if _, err := parseSummary(r.ID, r.Summary, Config{}); err != nil {
		return nil, errAt(seen["summary"], "summary", "%v", err)
	}
	return r, nil
}

// yamlError turns a yaml.v3 error ("yaml: line 3: …") into a posError.
func yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			if line, perr := strconv.Atoi(n); perr == nil {
				return &posError{line: line, msg: tail}
			}
		}
	}
	return fmt.Errorf("yaml: %s", msg)
}

func str(n *yaml.Node, path string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", errAt(n, path, "must be a string")
	}
	return n.Value, nil
}

func strs(n *yaml.Node, path string) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n, path, "must be a list of strings")
	}
	var out []string
	for _, c := range n.Content {
		s, err := str(resolve(c), path)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func duration(n *yaml.Node, path string) (time.Duration, error) {
	s, err := str(n, path)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errAt(n, path, "%q is not a positive duration such as 10m or 1h", s)
	}
	return d, nil
}

func mapping(n *yaml.Node, path string, keys ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errAt(n, path, "must be a mapping")
	}
	out := map[string]*yaml.Node{}
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(keys, k.Value) {
			return nil, errAt(k, path, "unknown key %q (want %s)", k.Value, strings.Join(keys, ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, errAt(k, path, "duplicate key %q", k.Value)
		}
		out[k.Value] = resolve(n.Content[i+1])
	}
	return out, nil
}

func parseThreshold(n *yaml.Node) (*Threshold, error) {
	m, err := mapping(n, "threshold", "count", "within", "by", "group", "distinct", "repeats")
	if err != nil {
		return nil, err
	}
	t := &Threshold{}
	if m["count"] == nil || m["within"] == nil {
		return nil, errAt(n, "threshold", "needs count and within")
	}
	if err := m["count"].Decode(&t.Count); err != nil || t.Count < 2 {
		return nil, errAt(m["count"], "threshold.count", "must be a whole number of at least 2")
	}
	if t.Within, err = duration(m["within"], "threshold.within"); err != nil {
		return nil, err
	}
	if m["by"] != nil {
		if t.By, err = strs(m["by"], "threshold.by"); err != nil {
			return nil, err
		}
		for _, f := range t.By {
			if !knownField(f) {
				return nil, errAt(m["by"], "threshold.by", "unknown field %q (want one of %s)", f, strings.Join(Fields, ", "))
			}
		}
	}
	if m["group"] != nil {
		if t.Group, err = str(m["group"], "threshold.group"); err != nil {
			return nil, err
		}
	}
	if (len(t.By) == 0) == (t.Group == "") {
		return nil, errAt(n, "threshold", "needs exactly one of by or group")
	}
	if m["distinct"] != nil {
		if t.Distinct, err = str(m["distinct"], "threshold.distinct"); err != nil {
			return nil, err
		}
		if strings.TrimSpace(t.Distinct) == "" {
			return nil, errAt(m["distinct"], "threshold.distinct", "must name a field or be a CEL expression")
		}
	}
	if m["repeats"] != nil {
		if t.Repeats, err = str(m["repeats"], "threshold.repeats"); err != nil {
			return nil, err
		}
		switch {
		case t.Repeats != RepeatsCount && t.Repeats != RepeatsIgnore:
			return nil, errAt(m["repeats"], "threshold.repeats", "must be %s or %s", RepeatsCount, RepeatsIgnore)
		case t.Distinct == "":
			return nil, errAt(m["repeats"], "threshold.repeats", "needs threshold.distinct: a threshold without it counts every event")
		}
	}
	return t, nil
}

// maxSteps bounds a sequence: its steps are distinct values of one window.
const maxSteps = 10

func parseSequence(n *yaml.Node) (*Sequence, error) {
	m, err := mapping(n, "sequence", "within", "by", "group", "steps", "repeats")
	if err != nil {
		return nil, err
	}
	q := &Sequence{}
	if m["within"] == nil || m["steps"] == nil {
		return nil, errAt(n, "sequence", "needs within and steps")
	}
	if q.Within, err = duration(m["within"], "sequence.within"); err != nil {
		return nil, err
	}
	if m["by"] != nil {
		if q.By, err = strs(m["by"], "sequence.by"); err != nil {
			return nil, err
		}
		for _, f := range q.By {
			if !knownField(f) {
				return nil, errAt(m["by"], "sequence.by", "unknown field %q (want one of %s)", f, strings.Join(Fields, ", "))
			}
		}
	}
	if m["group"] != nil {
		if q.Group, err = str(m["group"], "sequence.group"); err != nil {
			return nil, err
		}
	}
	if (len(q.By) == 0) == (q.Group == "") {
		return nil, errAt(n, "sequence", "needs exactly one of by or group")
	}
	if m["repeats"] != nil {
		if q.Repeats, err = str(m["repeats"], "sequence.repeats"); err != nil {
			return nil, err
		}
		if q.Repeats != RepeatsCount && q.Repeats != RepeatsIgnore {
			return nil, errAt(m["repeats"], "sequence.repeats", "must be %s or %s", RepeatsCount, RepeatsIgnore)
		}
	}
	sn := m["steps"]
	if sn.Kind != yaml.SequenceNode || len(sn.Content) < 2 || len(sn.Content) > maxSteps {
		return nil, errAt(sn, "sequence.steps", "must be a list of 2 to %d steps", maxSteps)
	}
	names := map[string]bool{}
	for i, c := range sn.Content {
		path := fmt.Sprintf("sequence.steps[%d]", i)
		sm, err := mapping(resolve(c), path, "name", "match", "condition")
		if err != nil {
			return nil, err
		}
		if sm["name"] == nil || sm["match"] == nil {
			return nil, errAt(c, path, "needs name and match")
		}
		var st Step
		if st.Name, err = str(sm["name"], path+".name"); err != nil {
			return nil, err
		}
		if st.Name == "" || st.Name != sanitize(st.Name, 64) || strings.Contains(st.Name, ",") {
			return nil, errAt(sm["name"], path+".name", "%q: give a name of at most 64 printable characters, without commas", st.Name)
		}
		if names[st.Name] {
			return nil, errAt(sm["name"], path+".name", "duplicate step name %q", st.Name)
		}
		names[st.Name] = true
		if st.pattern, err = compilePattern(sm["match"], path+".match"); err != nil {
			return nil, err
		}
		st.Match, _ = nodeValue(sm["match"]).(map[string]any)
		if sm["condition"] != nil {
			if st.Condition, err = str(sm["condition"], path+".condition"); err != nil {
				return nil, err
			}
		}
		q.Steps = append(q.Steps, st)
	}
	return q, nil
}

// parseEscalate reads escalate: a list of {count, severity} steps.
func parseEscalate(n *yaml.Node) ([]Escalation, error) {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, errAt(n, "escalate", "must be a list of {count, severity}")
	}
	out := make([]Escalation, 0, len(n.Content))
	for i, item := range n.Content {
		path := fmt.Sprintf("escalate[%d]", i)
		m, err := mapping(item, path, "count", "severity")
		if err != nil {
			return nil, err
		}
		if m["count"] == nil || m["severity"] == nil {
			return nil, errAt(item, path, "needs count and severity")
		}
		var e Escalation
		if err := m["count"].Decode(&e.Count); err != nil || e.Count < 2 {
			return nil, errAt(m["count"], path+".count", "must be a whole number of at least 2")
		}
		if e.Severity, err = iamwatch.ParseSeverity(m["severity"].Value); err != nil {
			return nil, errAt(m["severity"], path+".severity", "%v", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// checkEscalate checks the steps against the rule: only incidents grow,
// and each step counts more events and is more severe than the one before.
func (r *Rule) checkEscalate(n *yaml.Node) error {
	if len(r.Escalate) == 0 {
		return nil
	}
	if r.Threshold == nil && r.Dedup == nil {
		return errAt(n, "escalate", "only a threshold or dedup rule grows: add one, or drop escalate")
	}
	minCount, sev := 1, r.Severity
	if r.Threshold != nil {
		minCount = r.Threshold.Count
	}
	for i, e := range r.Escalate {
		if e.Count <= minCount {
			return errAt(n, fmt.Sprintf("escalate[%d].count", i), "%d: must be above %d (the threshold count or the step before)", e.Count, minCount)
		}
		if e.Severity <= sev {
			return errAt(n, fmt.Sprintf("escalate[%d].severity", i), "%s: must be above %s (the rule's severity or the step before)", e.Severity, sev)
		}
		minCount, sev = e.Count, e.Severity
	}
	return nil
}

func parseBaseline(n *yaml.Node) (*Baseline, error) {
	m, err := mapping(n, "baseline", "by", "value", "learning", "values")
	if err != nil {
		return nil, err
	}
	if m["by"] == nil || m["value"] == nil || m["learning"] == nil {
		return nil, errAt(n, "baseline", "needs by, value and learning")
	}
	b := &Baseline{}
	if b.By, err = strs(m["by"], "baseline.by"); err != nil {
		return nil, err
	}
	if len(b.By) == 0 {
		return nil, errAt(m["by"], "baseline.by", "needs at least one field")
	}
	for _, f := range b.By {
		if !knownField(f) {
			return nil, errAt(m["by"], "baseline.by", "unknown field %q (want one of %s)", f, strings.Join(Fields, ", "))
		}
	}
	if b.Value, err = str(m["value"], "baseline.value"); err != nil {
		return nil, err
	}
	if !knownField(b.Value) {
		return nil, errAt(m["value"], "baseline.value", "unknown field %q (want one of %s)", b.Value, strings.Join(Fields, ", "))
	}
	ln := m["learning"]
	if s, ok := strings.CutSuffix(ln.Value, "d"); ok && ln.Kind == yaml.ScalarNode {
		days, err := strconv.Atoi(s)
		if err != nil || days <= 0 {
			return nil, errAt(ln, "baseline.learning", "%q is not a positive duration such as 14d or 72h", ln.Value)
		}
		b.Learning = time.Duration(days) * 24 * time.Hour
	} else if b.Learning, err = duration(ln, "baseline.learning"); err != nil {
		return nil, err
	}
	if m["values"] != nil {
		if b.Values, err = strs(m["values"], "baseline.values"); err != nil {
			return nil, err
		}
		if len(b.Values) == 0 {
			return nil, errAt(m["values"], "baseline.values", "needs at least one value (or leave it out: every value alerts)")
		}
		for _, v := range b.Values {
			g, err := compileGlob(v)
			if err != nil {
				return nil, errAt(m["values"], "baseline.values", "%v", err)
			}
			b.values = append(b.values, g)
		}
	}
	return b, nil
}

func parseDedup(n *yaml.Node) (*Dedup, error) {
	m, err := mapping(n, "dedup", "fields", "period")
	if err != nil {
		return nil, err
	}
	d := &Dedup{}
	if m["period"] == nil {
		return nil, errAt(n, "dedup", "needs a period")
	}
	if m["fields"] != nil {
		if d.Fields, err = strs(m["fields"], "dedup.fields"); err != nil {
			return nil, err
		}
	}
	for _, f := range d.Fields {
		if !knownField(f) {
			return nil, errAt(m["fields"], "dedup.fields", "unknown field %q (want one of %s)", f, strings.Join(Fields, ", "))
		}
	}
	if d.Period, err = duration(m["period"], "dedup.period"); err != nil {
		return nil, err
	}
	return d, nil
}

func parseTests(n *yaml.Node) ([]RuleTest, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n, "tests", "must be a list")
	}
	var out []RuleTest
	names := map[string]bool{}
	for i, c := range n.Content {
		c = resolve(c)
		path := fmt.Sprintf("tests[%d]", i)
		m, err := mapping(c, path, "name", "expect", "summary_contains", "event", "events", "repeat")
		if err != nil {
			return nil, err
		}
		t := RuleTest{Line: c.Line}
		if m["name"] == nil {
			return nil, errAt(c, path, "missing name")
		}
		if t.Name, err = str(m["name"], path+".name"); err != nil {
			return nil, err
		}
		if names[t.Name] {
			return nil, errAt(m["name"], path+".name", "duplicate test name %q", t.Name)
		}
		names[t.Name] = true
		if m["expect"] == nil {
			return nil, errAt(c, path, "missing expect (alert or none)")
		}
		if t.Expect, err = str(m["expect"], path+".expect"); err != nil {
			return nil, err
		}
		if t.Expect != "alert" && t.Expect != "none" {
			return nil, errAt(m["expect"], path+".expect", "%q: want alert or none", t.Expect)
		}
		if m["summary_contains"] != nil {
			if t.SummaryContains, err = str(m["summary_contains"], path+".summary_contains"); err != nil {
				return nil, err
			}
			if t.Expect != "alert" {
				return nil, errAt(m["summary_contains"], path+".summary_contains", "only for expect: alert")
			}
		}
		switch {
		case m["event"] != nil && m["events"] != nil:
			return nil, errAt(c, path, "give event or events, not both")
		case m["event"] != nil:
			ev, err := eventJSON(m["event"], path+".event")
			if err != nil {
				return nil, err
			}
			t.Events = []json.RawMessage{ev}
		case m["events"] != nil:
			if m["events"].Kind != yaml.SequenceNode || len(m["events"].Content) == 0 {
				return nil, errAt(m["events"], path+".events", "must be a non-empty list")
			}
			for j, e := range m["events"].Content {
				ev, err := eventJSON(resolve(e), fmt.Sprintf("%s.events[%d]", path, j))
				if err != nil {
					return nil, err
				}
				t.Events = append(t.Events, ev)
			}
		default:
			return nil, errAt(c, path, "missing event")
		}
		if rn := m["repeat"]; rn != nil {
			if len(t.Events) != 1 {
				return nil, errAt(rn, path+".repeat", "repeat needs a single event")
			}
			evs, err := repeatEvent(rn, path+".repeat", t.Events[0])
			if err != nil {
				return nil, err
			}
			t.Events = evs
		}
		out = append(out, t)
	}
	return out, nil
}

// repeatEvent copies ev count times, the eventID suffixed -1…-count and the
// eventTime advanced by every each time.
func repeatEvent(n *yaml.Node, path string, ev json.RawMessage) ([]json.RawMessage, error) {
	m, err := mapping(n, path, "count", "every", "vary")
	if err != nil {
		return nil, err
	}
	var vary []string
	if m["vary"] != nil {
		if vary, err = strs(m["vary"], path+".vary"); err != nil {
			return nil, err
		}
	}
	var count int
	if m["count"] == nil || m["count"].Decode(&count) != nil || count < 1 || count > 1000 {
		return nil, errAt(n, path+".count", "needs a count from 1 to 1000")
	}
	every := time.Duration(0)
	if m["every"] != nil {
		if every, err = duration(m["every"], path+".every"); err != nil {
			return nil, err
		}
	}
	var rec map[string]any
	if err := json.Unmarshal(ev, &rec); err != nil {
		return nil, errAt(n, path, "%v", err)
	}
	id, _ := rec["eventID"].(string)
	ts, _ := rec["eventTime"].(string)
	t0, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return nil, errAt(n, path, "the event needs an RFC 3339 eventTime to repeat: %v", err)
	}
	orig := make([]string, len(vary))
	for k, p := range vary {
		v, ok := dotted(rec, p).(string)
		if !ok {
			return nil, errAt(m["vary"], path+".vary", "%s is not a string of the event", p)
		}
		orig[k] = v
	}
	out := make([]json.RawMessage, 0, count)
	for i := range count {
		rec["eventID"] = fmt.Sprintf("%s-%d", id, i+1)
		for k, p := range vary {
			setDotted(rec, p, fmt.Sprintf("%s-%d", orig[k], i+1))
		}
		rec["eventTime"] = t0.Add(time.Duration(i) * every).UTC().Format(iamwatch.TimeFormat)
		b, err := json.Marshal(rec)
		if err != nil {
			return nil, errAt(n, path, "%v", err)
		}
		out = append(out, b)
	}
	return out, nil
}

// dotted returns the value at a dotted path of rec (nil when absent).
func dotted(rec map[string]any, path string) any {
	var cur any = rec
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// setDotted sets the value at a dotted path of rec, which exists (dotted).
func setDotted(rec map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	m := rec
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	m[keys[len(keys)-1]] = v
}

// eventJSON returns a test event as JSON: a mapping converted, or a string
// holding JSON.
func eventJSON(n *yaml.Node, path string) (json.RawMessage, error) {
	switch n.Kind {
	case yaml.MappingNode:
		b, err := json.Marshal(nodeValue(n))
		if err != nil {
			return nil, errAt(n, path, "%v", err)
		}
		return b, nil
	case yaml.ScalarNode:
		b := []byte(strings.TrimSpace(n.Value))
		if !json.Valid(b) || !bytes.HasPrefix(b, []byte("{")) {
			return nil, errAt(n, path, "must be a mapping or a JSON object")
		}
		return b, nil
	}
	return nil, errAt(n, path, "must be a mapping or a JSON object")
}

// nodeValue converts a YAML node into JSON-shaped Go values. Numbers become
// json.Number and timestamps stay as written, so a record converts to JSON
// unchanged.
func nodeValue(n *yaml.Node) any {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i < len(n.Content); i += 2 {
			m[n.Content[i].Value] = nodeValue(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			l = append(l, nodeValue(c))
		}
		return l
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool":
			b, _ := strconv.ParseBool(strings.ToLower(n.Value))
			return b
		case "!!int", "!!float":
			if f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err == nil {
				return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
			}
			return n.Value
		}
		return n.Value
	}
	return nil
}
