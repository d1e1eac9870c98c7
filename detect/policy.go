package detect

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Policy is an IAM policy document (identity or trust policy), parsed
// leniently: the shapes CloudTrail records and IAM accepts.
type Policy struct {
	Statements []Statement
}

// Statement is one policy statement. Actions and Principals keep the text
// of the document; comparisons are case-insensitive where IAM's are.
type Statement struct {
	Effect       string // "Allow" or "Deny" (as written)
	Actions      []string
	NotActions   []string
	NotAction    bool // the statement uses NotAction
	Principals   []Principal
	NotPrincipal bool // the statement uses NotPrincipal
}

// Principal is one principal of a statement: Kind is "*" (the bare "*"
// principal), "AWS", "Service", "Federated" or "CanonicalUser".
type Principal struct {
	Kind  string
	Value string
}

// maxPolicyBytes bounds the documents parsed (IAM's largest, a managed
// policy, is 6,144 characters; URL-encoding can triple that).
const maxPolicyBytes = 256 << 10

// ParsePolicy parses a policy document given as a JSON string (possibly
// URL-encoded, possibly encoded twice), as []byte, or already decoded into
// map[string]any. Statement may be an object or an array; Action, NotAction,
// Resource and principal values a string or an array.
func ParsePolicy(doc any) (*Policy, error) {
	var raw any
	switch d := doc.(type) {
	case string:
		v, err := decodePolicyText(d)
		if err != nil {
			return nil, err
		}
		raw = v
	case []byte:
		v, err := decodePolicyText(string(d))
		if err != nil {
			return nil, err
		}
		raw = v
	case map[string]any:
		raw = d
	case nil:
		return nil, errors.New("policy: no document")
	default:
		return nil, fmt.Errorf("policy: unexpected %T", doc)
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, errors.New("policy: document is not an object")
	}
	p := &Policy{}
	stmts, ok := lookupFold(m, "Statement")
	if !ok {
		return nil, errors.New("policy: no Statement")
	}
	var list []any
	switch s := stmts.(type) {
	case map[string]any:
		list = []any{s}
	case []any:
		list = s
	default:
		return nil, errors.New("policy: Statement is neither an object nor an array")
	}
	for i, x := range list {
		sm, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("policy: Statement[%d] is not an object", i)
		}
		st := Statement{}
		if e, ok := lookupFold(sm, "Effect"); ok {
			st.Effect, _ = e.(string)
		}
		if a, ok := lookupFold(sm, "Action"); ok {
			st.Actions = stringList(a)
		}
		if a, ok := lookupFold(sm, "NotAction"); ok {
			st.NotAction = true
			st.NotActions = stringList(a)
		}
		if pr, ok := lookupFold(sm, "Principal"); ok {
			st.Principals = principals(pr)
		}
		if pr, ok := lookupFold(sm, "NotPrincipal"); ok {
			st.NotPrincipal = true
			st.Principals = principals(pr)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func decodePolicyText(s string) (any, error) {
	if len(s) > maxPolicyBytes {
		return nil, fmt.Errorf("policy: document of %d bytes is too large", len(s))
	}
	for range 3 {
		s = strings.TrimSpace(s)
		switch {
		case strings.HasPrefix(s, "{"):
			var v any
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				return nil, fmt.Errorf("policy: %w", err)
			}
			return v, nil
		case strings.HasPrefix(s, `"`):
			// A JSON string holding the document.
			var inner string
			if err := json.Unmarshal([]byte(s), &inner); err != nil {
				return nil, fmt.Errorf("policy: %w", err)
			}
			s = inner
		case strings.HasPrefix(s, "%"):
			u, err := url.QueryUnescape(s)
			if err != nil {
				return nil, fmt.Errorf("policy: url-decode: %w", err)
			}
			s = u
		default:
			return nil, errors.New("policy: not a JSON document")
		}
	}
	return nil, errors.New("policy: encoded too many times")
}

// lookupFold finds a key ignoring case (IAM element names are
// case-sensitive in theory, but documents written by hand vary).
func lookupFold(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func principals(v any) []Principal {
	switch v := v.(type) {
	case string:
		if v == "*" {
			return []Principal{{Kind: "*", Value: "*"}}
		}
		return []Principal{{Kind: "AWS", Value: v}}
	case map[string]any:
		var out []Principal
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys) // deterministic order
		for _, k := range keys {
			kind := k
			for _, known := range []string{"AWS", "Service", "Federated", "CanonicalUser"} {
				if strings.EqualFold(k, known) {
					kind = known
				}
			}
			for _, s := range stringList(v[k]) {
				out = append(out, Principal{Kind: kind, Value: s})
			}
		}
		return out
	case []any:
		var out []Principal
		for _, e := range v {
			out = append(out, principals(e)...)
		}
		return out
	}
	return nil
}

func (s *Statement) allows() bool { return strings.EqualFold(s.Effect, "Allow") }

// AllowsAction reports whether the statement grants the whole of target (an
// action or an action family such as "iam:*", taken literally): through
// Action when a pattern covers it, through NotAction when no pattern of it
// covers it. Resource and Condition are not considered.
func (s *Statement) AllowsAction(target string) bool {
	if !s.allows() {
		return false
	}
	if s.NotAction {
		for _, a := range s.NotActions {
			if wildFold(a, target) {
				return false
			}
		}
		return true
	}
	for _, a := range s.Actions {
		if wildFold(a, target) {
			return true
		}
	}
	return false
}

// AllowsAny reports whether an Allow statement grants any of targets (see
// [Statement.AllowsAction]): AllowsAny([]string{"*", "iam:*", "sts:*"}) is
// true for {"Action": "*"}, {"Action": "IAM:*"}, {"NotAction": "s3:*"}.
func (p *Policy) AllowsAny(targets []string) bool {
	for i := range p.Statements {
		for _, t := range targets {
			if p.Statements[i].AllowsAction(t) {
				return true
			}
		}
	}
	return false
}

// assumeActions are the actions a trust policy grants.
var assumeActions = []string{"sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"}

// ExternalPrincipals returns the principals of Allow statements granting an
// sts:AssumeRole* action that lie outside account and trusted: "*" (the bare
// star, {"AWS": "*"} or an ARN with a wildcard account), an account ID or
// ARN of another account, and "NotPrincipal" for an Allow with NotPrincipal
// (it admits everyone else). Service principals and federated providers
// named by domain (accounts.google.com) are not accounts and never
// external; federated providers named by ARN are judged by their account.
func (p *Policy) ExternalPrincipals(account string, trusted []string) []string {
	var out []string
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, st := range p.Statements {
		if !st.allows() {
			continue
		}
		grants := len(st.Actions) == 0 && !st.NotAction
		for _, a := range assumeActions {
			if st.AllowsAction(a) {
				grants = true
			}
		}
		if !grants {
			continue
		}
		if st.NotPrincipal {
			add("NotPrincipal")
			continue
		}
		for _, pr := range st.Principals {
			switch pr.Kind {
			case "*":
				add("*")
			case "AWS", "Federated":
				acct, ok := PrincipalAccount(pr.Value)
				if !ok {
					continue
				}
				if acct == "*" {
					add(pr.Value)
					continue
				}
				if acct != account && !slices.Contains(trusted, acct) {
					add(pr.Value)
				}
			}
		}
	}
	return out
}

// PrincipalAccount returns the account a principal value names: "*" for
// "*" or an ARN whose account has a wildcard, the ID itself for a 12-digit
// account ID, the account field of an ARN (arn:aws:iam::<acct>:root, role,
// user, assumed-role, saml-provider …). It reports false for anything else
// (service names, unique IDs such as AROA…, domains).
func PrincipalAccount(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "*" {
		return "*", true
	}
	if isAccountID(v) {
		return v, true
	}
	if !strings.HasPrefix(v, "arn:") {
		return "", false
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) < 6 {
		return "", false
	}
	acct := parts[4]
	switch {
	case strings.ContainsAny(acct, "*?"):
		return "*", true
	case isAccountID(acct):
		return acct, true
	}
	return "", false
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// wildFold matches s against an IAM-style pattern ("*" any run, "?" one
// character), ignoring case.
func wildFold(pattern, s string) bool {
	p := strings.ToLower(pattern)
	t := strings.ToLower(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
