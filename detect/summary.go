package detect

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/untrusted"
)

// Summaries are Go text/template templates (https://pkg.go.dev/text/template)
// executed with a map holding every normalised field by name (see Fields),
// and summaryExtras: count (the events the alert stands for: 1, or for a
// threshold or dedup rule every event of the group in the dedup period),
// group, first_seen and last_seen; for threshold rules window_start,
// window_end, window_count (events in the first window that reached the
// count) and within (the window length, e.g. "1h"); for distinct
// thresholds and sequences window_distinct (the distinct values, or steps,
// in that window), distinct_values (the first 8 of them by first
// appearance, "a, b, and 3 more") and distinct_timeline (the same, each
// with the time it first appeared: "a (at 2025-03-04T10:00:01Z), …");
// for first-seen rules
// (baseline.go) baseline_value (the new value), baseline_seen (the values
// the identity had before, "US since 2026-01-02, …", or "none"),
// baseline_since (the day its history starts) and learning (e.g. "14d");
// for impossible-travel rules (travel.go) travel_from and travel_to (the
// two places, "Amsterdam, NL"), travel_from_ip, travel_from_time and
// travel_to_time, travel_gap ("1h05m"), travel_km ("5,862"), travel_speed
// ("5,025 km/h") and travel_pairs (the impossible pairs the later sign-in
// is in):
//
//	Root account logged in from IP: {{.source_ip}}{{if eq .mfa_used "yes"}} with MFA{{end}}
//
// and these functions:
//
//   - get "requestParameters.userName": a value of the record by dotted
//     path, as text, "" when absent (objects and lists as JSON);
//   - req "userName", resp "x", additional "MFAUsed": shorthands for get
//     "requestParameters.…", "responseElements.…", "additionalEventData.…";
//   - default "fallback" VALUE: VALUE, or fallback when VALUE is "";
//   - first A B …: the first argument that is not "";
//   - arn_name ARN, role_name ARN: as in conditions;
//   - external_principals DOC ACCOUNT: the external principals of a trust
//     policy, comma-separated (trusted accounts from the Config);
//   - policy_actions DOC: the actions an Allow statement grants, comma-separated;
//   - resource_policy_external DOC ACCOUNT, outside_accounts VALUE ACCOUNT:
//     as in conditions, comma-separated (VALUE as text: a value, or the JSON
//     of a list or object, as req gives it);
//   - internet_ingress REQUEST: the permissions of a security-group ingress
//     request (JSON text, as get "requestParameters" gives it) open to the
//     internet, comma-separated ("tcp 22 from 0.0.0.0/0").
//
// Naming a field that does not exist is an error when the rule is loaded.
// Every value a template reads is untrusted text: fields are cut to 256
// characters, and control and hidden characters of the rendered summary are
// made visible (untrusted.Terminal: \x1b, \u202e) and the summary cut to
// 1,024 characters; sinks escape it again for their medium.
var summaryExtras = []string{"count", "group", "first_seen", "last_seen", "window_start", "window_end", "window_count", "within",
	"window_distinct", "distinct_values", "distinct_timeline",
	"baseline_value", "baseline_seen", "baseline_since", "learning",
	"travel_from", "travel_from_ip", "travel_from_time", "travel_to", "travel_to_time", "travel_gap", "travel_km", "travel_speed", "travel_pairs"}

const (
	maxValueRunes   = 256
	maxSummaryRunes = 1024
)

func parseSummary(id, text string, cfg Config) (*template.Template, error) {
	trusted := cfg.TrustedAccounts
	funcs := template.FuncMap{
		"get":        func(path string) string { return "" },
		"req":        func(key string) string { return "" },
		"resp":       func(key string) string { return "" },
		"additional": func(key string) string { return "" },
		"default": func(def, v string) string {
			if v == "" {
				return def
			}
			return v
		},
		"first": func(vals ...string) string {
			for _, v := range vals {
				if v != "" {
					return v
				}
			}
			return ""
		},
		"arn_name":  func(arn string) string { return lastSegment(arn) },
		"role_name": RoleName,
		"external_principals": func(doc, account string) string {
			p, err := ParsePolicy(doc)
			if err != nil {
				return ""
			}
			return untrusted.Truncate(strings.Join(p.ExternalPrincipals(account, trusted), ", "), maxValueRunes)
		},
		"resource_policy_external": func(doc, account string) string {
			p, err := ParsePolicy(doc)
			if err != nil {
				return ""
			}
			return untrusted.Truncate(strings.Join(p.ExternalGrantees(account, trusted), ", "), maxValueRunes)
		},
		"outside_accounts": func(v, account string) string {
			return untrusted.Truncate(strings.Join(OutsideAccounts(v, account, trusted), ", "), maxValueRunes)
		},
		"internet_ingress": func(req string) string {
			var parts []string
			for _, in := range InternetIngress(req) {
				parts = append(parts, in.String())
			}
			return untrusted.Truncate(strings.Join(parts, ", "), maxValueRunes)
		},
		"policy_actions": func(doc string) string {
			p, err := ParsePolicy(doc)
			if err != nil {
				return ""
			}
			var acts []string
			for _, st := range p.Statements {
				if !st.allows() {
					continue
				}
				if st.NotAction {
					for _, a := range st.NotActions {
						acts = append(acts, "all but "+a)
					}
					continue
				}
				acts = append(acts, st.Actions...)
			}
			return untrusted.Truncate(strings.Join(acts, ", "), maxValueRunes)
		},
	}
	t, err := template.New(id).Option("missingkey=error").Funcs(funcs).Parse(text)
	if err != nil {
		return nil, err
	}
	// Execute once against an empty event: catches unknown fields.
	extra := map[string]any{}
	for _, k := range summaryExtras {
		extra[k] = ""
	}
	if _, err := renderSummary(t, &iamwatch.Event{}, map[string]any{}, extra); err != nil {
		return nil, err
	}
	return t, nil
}

// renderSummary executes t for one event. rec is the parsed record.
// extra holds the threshold values (count, group, window_start, window_end, within).
func renderSummary(t *template.Template, ev *iamwatch.Event, rec map[string]any, extra map[string]any) (string, error) {
	data := make(map[string]any, len(Fields)+len(extra))
	for k, v := range extra {
		data[k] = v
	}
	for _, f := range Fields {
		data[f] = untrusted.Truncate(fieldValue(ev, f), maxValueRunes)
	}
	get := func(path string) string { return lookupText(rec, path) }
	t, err := t.Clone()
	if err != nil {
		return "", err
	}
	t.Funcs(template.FuncMap{
		"get":        get,
		"req":        func(k string) string { return get("requestParameters." + k) },
		"resp":       func(k string) string { return get("responseElements." + k) },
		"additional": func(k string) string { return get("additionalEventData." + k) },
	})
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return sanitize(b.String(), maxSummaryRunes), nil
}

// lookupText returns the value at a dotted path of rec as text.
func lookupText(rec map[string]any, path string) string {
	var cur any = rec
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		if cur, ok = m[part]; !ok {
			return ""
		}
	}
	return textOf(cur)
}

func textOf(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64, bool:
		return fmt.Sprint(v)
	default:
		b, err := jsonMarshal(v)
		if err != nil {
			return ""
		}
		return string(b)
	}
}

// sanitize makes s visible text (untrusted.Terminal: control characters as
// \xNN, hidden characters as \uNNNN) cut to max runes. A summary is stored
// in this form, so every medium shows it as the scan's details line does.
func sanitize(s string, max int) string { return untrusted.Truncate(untrusted.Terminal(s), max) }
