package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/iamwatch/iamwatch/detect"
)

// IdentitySources are the EventBridge sources of the identity event types
// (iam, sts, signin, sso): with StoreIdentityHistory on, the template
// delivers all their write events, not only those the catalog matches.
var IdentitySources = []string{"aws.iam", "aws.identitystore", "aws.signin", "aws.sso", "aws.sso-directory", "aws.sts"}

// EventRule is one AWS::Events::Rule of the template.
type EventRule struct {
	LogicalID string
	Pattern   map[string]any
	RuleIDs   []string // the catalog rules it delivers events for.
	Identity  bool     // its source is one of IdentitySources.
	// State is the rule's EventBridge state: StateAllManagementEvents for a
	// rule that names its events (or names no source: root activity,
	// denied calls), so read-only calls (ListUsers, DescribeInstances,
	// AssumeRole) reach it too; StateEnabled for one matching any event of
	// a source, where every read of that service would flood it.
	State string
}

// EventBridge rule states. A rule in StateEnabled never sees read-only
// management events delivered through CloudTrail (EventBridge UG,
// "Receiving read-only management events from AWS services").
const (
	StateEnabled             = "ENABLED"
	StateAllManagementEvents = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
)

// EventRules derives the template's EventBridge rules from the catalog:
// one per source, matching the union of the event names its rules match
// (a superset: conditions, error codes and thresholds are the engine's to
// decide), and one per rule that names no source, with its own pattern.
func EventRules(rules []*detect.Rule) []EventRule {
	type acc struct {
		types, names, sources map[string]bool
		anyName               bool
		ids                   []string
	}
	bySource := map[string]*acc{}
	var out []EventRule
	for _, r := range rules {
		if TrailOnly(r) {
			continue
		}
		p := r.EventBridgePattern()
		srcs, ok := p["source"].([]any)
		if !ok {
			out = append(out, EventRule{LogicalID: "EventRule" + camel(r.ID), Pattern: p, RuleIDs: []string{r.ID}, State: StateAllManagementEvents})
			continue
		}
		detail, _ := p["detail"].(map[string]any)
		for _, s := range srcs {
			src := s.(string)
			a := bySource[src]
			if a == nil {
				a = &acc{types: map[string]bool{}, names: map[string]bool{}, sources: map[string]bool{}}
				bySource[src] = a
			}
			a.ids = append(a.ids, r.ID)
			for _, t := range p["detail-type"].([]any) {
				a.types[t.(string)] = true
			}
			a.sources[strings.TrimPrefix(src, "aws.")+".amazonaws.com"] = true
			names, exact := exactList(detail["eventName"])
			if !exact {
				a.anyName = true
			}
			for _, n := range names {
				a.names[n] = true
			}
		}
	}
	for _, src := range slices.Sorted(maps.Keys(bySource)) {
		a := bySource[src]
		pattern := func(names []any) map[string]any {
			d := map[string]any{"eventSource": toAny(slices.Sorted(maps.Keys(a.sources)))}
			if names != nil {
				d["eventName"] = names
			}
			return map[string]any{
				"source":      []any{src},
				"detail-type": toAny(slices.Sorted(maps.Keys(a.types))),
				"detail":      d,
			}
		}
		id := "EventRule" + camel(strings.TrimPrefix(src, "aws."))
		rule := EventRule{RuleIDs: a.ids, Identity: slices.Contains(IdentitySources, src)}
		if a.anyName {
			rule.LogicalID, rule.Pattern, rule.State = id, pattern(nil), StateEnabled
			out = append(out, rule)
			continue
		}
		parts := splitNames(toAny(slices.Sorted(maps.Keys(a.names))), pattern)
		for i, part := range parts {
			rule.LogicalID, rule.Pattern, rule.State = id, pattern(part), StateAllManagementEvents
			if len(parts) > 1 {
				rule.LogicalID = fmt.Sprintf("%s%d", id, i+1)
			}
			out = append(out, rule)
		}
	}
	slices.SortFunc(out, func(a, b EventRule) int { return strings.Compare(a.LogicalID, b.LogicalID) })
	return dropCovered(out)
}

// dropCovered removes each rule whose events another rule already delivers
// (see covers; the other's state must deliver read-only calls if this
// one's does) and hands its catalog rule IDs to that rule: EventBridge
// invokes the function once for each rule an event matches, and the
// function runs every catalog rule on whatever it receives. Of two equal
// patterns the first (by logical ID) stays.
func dropCovered(rules []EventRule) []EventRule {
	dropped := make([]bool, len(rules))
	for i := range rules {
		for j := range rules {
			if j == i || dropped[j] {
				continue
			}
			a, b := &rules[j], &rules[i]
			if a.State != StateAllManagementEvents && b.State == StateAllManagementEvents {
				continue
			}
			if !covers(a.Pattern, b.Pattern) || covers(b.Pattern, a.Pattern) && j > i {
				continue
			}
			a.RuleIDs = slices.Concat(a.RuleIDs, b.RuleIDs)
			dropped[i] = true
			break
		}
	}
	out := rules[:0]
	for i, r := range rules {
		if !dropped[i] {
			out = append(out, r)
		}
	}
	return out
}

// TrailOnly reports whether r runs only on events read from the trail
// bucket (TrailBucketName), never on events EventBridge delivers. The
// rule's delivery says so when it is set. Otherwise: a first-seen rule that
// names no source and no event name learns from every call of a principal,
// reads included, and delivering those would invoke the real-time function
// for nearly every management event of the account; a threshold that
// ignores repeats (threshold.repeats, iam-enumeration) counts high-volume
// reads (GetRole), each of which would invoke the function, one event an
// invocation, where a trail file's batch drops the repeats. A rule that
// must alert within the minute and ignores repeats only to store less
// (secrets-read-burst) says delivery: realtime.
func TrailOnly(r *detect.Rule) bool {
	switch r.Delivery {
	case detect.DeliveryRealtime:
		return false
	case detect.DeliveryTrail:
		return true
	}
	if r.Threshold != nil && r.Threshold.Repeats == detect.RepeatsIgnore {
		return true
	}
	if r.Baseline == nil {
		return false
	}
	p := r.EventBridgePattern()
	detail, _ := p["detail"].(map[string]any)
	_, source := p["source"]
	_, names := detail["eventName"]
	return !source && !names
}

// exactList returns the strings of an EventBridge value list, and false
// when it holds anything but plain strings (anything-but, prefix, …).
func exactList(v any) ([]string, bool) {
	l, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, ok := x.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// camel turns "sso-directory" or "root-api-activity" into "SsoDirectory",
// "RootApiActivity" (CloudFormation logical IDs are alphanumeric).
func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// Generated-block markers in template.yaml.
const (
	beginGenerated = "  # BEGIN generated event rules"
	endGenerated   = "  # END generated event rules"
)

// RenderEventRules writes the rules (each with the permission that lets
// EventBridge invoke the real-time function) as the template's generated
// block, markers included.
func RenderEventRules(rules []EventRule) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(beginGenerated + ": `go test ./deploy -run TestEventRules -update` rewrites this block from the rule catalog.\n")
	for _, r := range rules {
		pat, err := json.Marshal(r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("deploy: event rule %s: %w", r.LogicalID, err)
		}
		cond := ""
		if r.Identity {
			cond = "    Condition: CatalogIdentityRules\n"
		}
		fmt.Fprintf(&b, `  %[1]s:
    Type: AWS::Events::Rule
%[2]s    Properties:
      Description: 'iamwatch: CloudTrail events for %[3]s (generated from the rule catalog)'
      State: %[5]s
      EventPattern: %[4]s
      Targets:
        - Id: realtime
          Arn: !GetAtt RealtimeFunction.Arn
          DeadLetterConfig:
            Arn: !GetAtt DeadLetterQueue.Arn
          RetryPolicy:
            MaximumRetryAttempts: 8
            MaximumEventAgeInSeconds: 3600
  %[1]sPermission:
    Type: AWS::Lambda::Permission
%[2]s    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !Ref RealtimeFunction
      Principal: events.amazonaws.com
      SourceArn: !GetAtt %[1]s.Arn
`, r.LogicalID, cond, describe(r.RuleIDs), pat, r.State)
	}
	b.WriteString(endGenerated + "\n")
	return b.Bytes(), nil
}

func describe(ids []string) string {
	s := strings.Join(ids, ", ")
	if len(s) > 300 {
		s = fmt.Sprintf("%d rules", len(ids))
	}
	return s
}

// ReplaceGenerated returns template with its generated block replaced by block.
func ReplaceGenerated(template, block []byte) ([]byte, error) {
	return replaceBlock(template, block, beginGenerated, endGenerated)
}

func replaceBlock(template, block []byte, begin, endMarker string) ([]byte, error) {
	start := bytes.Index(template, []byte(begin))
	end := bytes.Index(template, []byte(endMarker))
	if start < 0 || end < start {
		return nil, fmt.Errorf("deploy: template has no generated block (%q … %q)", begin, endMarker)
	}
	end += len(endMarker)
	if end < len(template) && template[end] == '\n' {
		end++
	}
	out := append([]byte{}, template[:start]...)
	out = append(out, block...)
	return append(out, template[end:]...), nil
}

// MaxPatternChars is EventBridge's default quota on the size of one rule's
// event pattern (adjustable to 4,096 on request; a template must not need
// the request).
const MaxPatternChars = 2048

// Generated-block markers in forwarder.yaml.
const (
	beginForward = "  # BEGIN generated forward rules"
	endForward   = "  # END generated forward rules"
)

// splitNames cuts names, in order, into as few runs as keep pattern(run)
// within MaxPatternChars as JSON (a run holds one name at least).
func splitNames(names []any, pattern func([]any) map[string]any) [][]any {
	size := func(ns []any) int {
		b, _ := json.Marshal(pattern(ns)) // maps of strings and lists: cannot fail.
		return len(b)
	}
	var parts [][]any
	for start := 0; start < len(names); {
		end := len(names)
		for end > start+1 && size(names[start:end]) > MaxPatternChars {
			end--
		}
		parts = append(parts, names[start:end])
		start = end
	}
	return parts
}

// ForwardRules derives the forwarder's per-service rules from the catalog's
// event rules: every source that is not an identity source (those are
// forwarded whole by a rule of their own), with the event names its rules
// match, or the whole source where a rule matches names by prefix. A source
// whose pattern would exceed MaxPatternChars is split into rules of fewer
// names (as EventRules splits the template's).
func ForwardRules(rules []EventRule) []EventRule {
	var out []EventRule
	for _, r := range rules {
		srcs, ok := r.Pattern["source"].([]any)
		if !ok || r.Identity {
			continue // sourceless rules have forwarder twins of their own.
		}
		// The source rule's detail-types: API calls, and service events
		// when a rule of the source names them (none of the catalog's does
		// now; TestForwarder fails if one is not forwarded).
		types, _ := r.Pattern["detail-type"].([]any)
		if len(types) == 0 {
			types = []any{"AWS API Call via CloudTrail"}
		}
		pattern := func(names []any) map[string]any {
			p := map[string]any{"source": srcs, "detail-type": types}
			if names != nil {
				p["detail"] = map[string]any{"eventName": names}
			}
			return p
		}
		detail, _ := r.Pattern["detail"].(map[string]any)
		names, _ := detail["eventName"].([]any)
		if names == nil {
			out = append(out, EventRule{LogicalID: "Forward" + strings.TrimPrefix(r.LogicalID, "EventRule") + "Rule", Pattern: pattern(nil), RuleIDs: r.RuleIDs, State: StateEnabled})
			continue
		}
		parts := splitNames(names, pattern)
		for i, part := range parts {
			// The template's rule of the same names (EventRuleEc21 → ForwardEc21Rule).
			id := "Forward" + strings.TrimPrefix(r.LogicalID, "EventRule") + "Rule"
			if len(parts) > 1 {
				id = fmt.Sprintf("%sPart%d", id, i+1)
			}
			out = append(out, EventRule{LogicalID: id, Pattern: pattern(part), RuleIDs: r.RuleIDs, State: StateAllManagementEvents})
		}
	}
	return out
}

// RenderForwardRules writes the forwarder's generated block, markers included.
func RenderForwardRules(rules []EventRule) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(beginForward + ": `go test ./deploy -run TestForwardRules -update` rewrites this block from the rule catalog.\n")
	for _, r := range rules {
		pat, err := json.Marshal(r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("deploy: forward rule %s: %w", r.LogicalID, err)
		}
		fmt.Fprintf(&b, `  %[1]s:
    Type: AWS::Events::Rule
    Condition: Forward
    Properties:
      Description: 'iamwatch: forward to the home region the events of %[2]s (generated from the rule catalog)'
      State: %[3]s
      EventPattern: %[4]s
      Targets:
        - Id: home-bus
          Arn: !Sub ['arn:${AWS::Partition}:events:${HomeRegion}:${HomeAccount}:event-bus/default', {HomeAccount: !If [OtherAccount, !Ref HomeAccountId, !Ref AWS::AccountId]}]
          RoleArn: !GetAtt ForwardRole.Arn
          DeadLetterConfig:
            Arn: !GetAtt ForwardDeadLetterQueue.Arn
          RetryPolicy:
            MaximumRetryAttempts: 8
            MaximumEventAgeInSeconds: 3600
`, r.LogicalID, describe(r.RuleIDs), r.State, pat)
	}
	b.WriteString(endForward + "\n")
	return b.Bytes(), nil
}

// ReplaceForwardRules returns forwarder with its generated block replaced by block.
func ReplaceForwardRules(forwarder, block []byte) ([]byte, error) {
	return replaceBlock(forwarder, block, beginForward, endForward)
}
