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
	// Conditions are the statement's Condition block, one entry per
	// operator and key, sorted by operator then key.
	Conditions []Condition
}

// Condition is one operator and key of a statement's Condition block:
// {"StringEquals": {"aws:SourceAccount": ["111122223333"]}} is
// {Operator: "StringEquals", Key: "aws:SourceAccount", Values: […]}. Values
// keep the text of the document (numbers and booleans as JSON text).
type Condition struct {
	Operator string
	Key      string
	Values   []string
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
		if c, ok := lookupFold(sm, "Condition"); ok {
			st.Conditions = conditions(c)
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

// conditions reads a Condition block; entries that are not an operator
// object of keys are skipped.
func conditions(v any) []Condition {
	ops, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	var out []Condition
	for op, keys := range ops {
		km, ok := keys.(map[string]any)
		if !ok {
			continue
		}
		for k, vals := range km {
			out = append(out, Condition{Operator: op, Key: k, Values: conditionValues(vals)})
		}
	}
	slices.SortFunc(out, func(a, b Condition) int {
		if c := strings.Compare(a.Operator, b.Operator); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

func conditionValues(v any) []string {
	switch v := v.(type) {
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, conditionValues(e)...)
		}
		return out
	case string:
		return []string{v}
	case nil:
		return nil
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		return []string{string(b)}
	}
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

// ExternalGrantees returns who outside account and trusted a resource policy
// (a bucket, key, secret, topic, queue or repository policy) lets in: the
// principals of Allow statements, whatever the actions, that are "*" (the
// bare star, {"AWS": "*"} or an ARN with a wildcard account), an account ID
// or ARN of another account, or "NotPrincipal" for an Allow with
// NotPrincipal. Service principals, canonical users and unique IDs are not
// judged.
//
// A "*" principal is narrowed by the statement's conditions (see
// [Statement.scope]): when a condition pins the caller or the source to
// accounts, the outside accounts among them are returned instead of "*"
// (none when all are this account or trusted); when it pins them to an
// organisation, a VPC or a specific resource, nothing is returned. Other
// conditions (aws:SourceIp, dates, TLS) leave "*". Conditions never narrow
// a named external account: they can only restrict what it may do.
func (p *Policy) ExternalGrantees(account string, trusted []string) []string {
	var out []string
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	outside := func(acct string) bool { return acct != account && !slices.Contains(trusted, acct) }
	for _, st := range p.Statements {
		if !st.allows() {
			continue
		}
		if st.NotPrincipal {
			add("NotPrincipal")
			continue
		}
		narrowed, accounts := st.scope()
		for _, pr := range st.Principals {
			if pr.Kind != "*" && pr.Kind != "AWS" && pr.Kind != "Federated" {
				continue
			}
			acct, ok := PrincipalAccount(pr.Value)
			switch {
			case !ok:
			case acct != "*":
				if outside(acct) {
					add(pr.Value)
				}
			case narrowed:
				for _, a := range accounts {
					if outside(a) {
						add(a)
					}
				}
			default:
				add(pr.Value)
			}
		}
	}
	return out
}

// Condition keys that pin the caller or the request's source to accounts
// (their values are account IDs or ARNs), and keys that pin them to an
// organisation, a network or a service. Lower case.
var (
	accountScopeKeys = []string{"aws:sourceaccount", "aws:sourceowner", "aws:principalaccount", "kms:calleraccount", "aws:sourcearn", "aws:principalarn"}
	otherScopeKeys   = []string{"aws:principalorgid", "aws:principalorgpaths", "aws:sourceorgid", "aws:sourceorgpaths", "aws:sourcevpc", "aws:sourcevpce", "aws:principalservicename"}
)

// scope reports whether the statement's conditions narrow a "*" principal,
// and the accounts they narrow it to. Only operators that require a match
// narrow (String/Arn Equals and Like, optionally ForAnyValue: or
// ForAllValues:, never …IfExists, which passes when the key is absent). A
// key with a value of a wildcard account ("arn:aws:sns:*:*:t") does not
// narrow; a value that names a resource but no account (an S3 bucket ARN)
// narrows without naming an account.
func (s *Statement) scope() (narrowed bool, accounts []string) {
	for _, c := range s.Conditions {
		op := strings.ToLower(c.Operator)
		op = strings.TrimPrefix(strings.TrimPrefix(op, "foranyvalue:"), "forallvalues:")
		switch op {
		case "stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike":
		default:
			continue
		}
		key := strings.ToLower(c.Key)
		switch {
		case slices.Contains(otherScopeKeys, key):
			if len(c.Values) > 0 {
				narrowed = true
			}
		case slices.Contains(accountScopeKeys, key):
			var accts []string
			open := len(c.Values) == 0
			for _, v := range c.Values {
				a, ok := PrincipalAccount(v)
				switch {
				case !ok:
				case a == "*":
					open = true
				default:
					accts = append(accts, a)
				}
			}
			if !open {
				narrowed = true
				accounts = append(accounts, accts...)
			}
		}
	}
	return narrowed, accounts
}

// OutsideAccounts returns the values of a share list that name someone
// outside account and trusted: "all" (EC2's group "all", RDS's value "all",
// a public share), "*", and account IDs or ARNs of other accounts. v is a
// string (a value, or the JSON text of a list or object), a list, or an
// object; objects are read for their "userId", "group" and "items" (EC2's
// {"add": {"items": [{"userId": …}, {"group": "all"}]}} shape). Service
// principals (s3.amazonaws.com) and organisation ARNs name no account and
// are not returned.
func OutsideAccounts(v any, account string, trusted []string) []string {
	var out []string
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 8 {
			return
		}
		switch v := v.(type) {
		case string:
			t := strings.TrimSpace(v)
			if strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
				if len(t) > maxPolicyBytes {
					return
				}
				var j any
				if err := json.Unmarshal([]byte(t), &j); err == nil {
					walk(j, depth) // the list or object itself, not a level deeper
				}
				return
			}
			if strings.EqualFold(t, "all") {
				add("all")
				return
			}
			a, ok := PrincipalAccount(t)
			if ok && (a == "*" || (a != account && !slices.Contains(trusted, a))) {
				add(t)
			}
		case []any:
			for _, e := range v {
				walk(e, depth+1)
			}
		case []string:
			for _, e := range v {
				walk(e, depth+1)
			}
		case map[string]any:
			for _, k := range []string{"userId", "group", "items"} {
				if e, ok := lookupFold(v, k); ok {
					walk(e, depth+1)
				}
			}
		}
	}
	walk(v, 0)
	return out
}
