package detect

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
)

// DefaultAdminPolicies are the AWS managed policies that make a principal an
// administrator of the account or of IAM Identity Center.
var DefaultAdminPolicies = []string{
	"AdministratorAccess", "IAMFullAccess", "PowerUserAccess",
	"AWSSSOMasterAccountAdministrator", "AWSIdentityCenterFullAccess",
	"AWSSSOMemberAccountAdministrator",
}

// Config tunes detection. The daemon's configuration file embeds it under
// `detection:`; the zero value is valid (every rule on, nothing allowed,
// the default admin policies).
//
//	detection:
//	  disabled: [console-signin-failed]
//	  trusted_accounts: ["111122223333"]
//	  admin_policies: [AdministratorAccess, MyBreakGlass]
//	  allow:
//	    principals: ["arn:aws:iam::111122223333:role/github-deploy"]
//	    max_severity: medium      # the list never hides a high or critical alert
//	    source_ips: ["10.0.0.0/8"]
//	  rules:
//	    console-signin-failures:
//	      threshold: {count: 6, within: 30m}
//	    root-api-activity:
//	      allow: {accounts: ["444455556666"]}
type Config struct {
	// Disabled lists rule ids that never raise alerts.
	Disabled []string `yaml:"disabled" json:"disabled,omitempty"`
	// Allow suppresses matching events for every rule.
	Allow AllowList `yaml:"allow" json:"allow,omitzero"`
	// TrustedAccounts are accounts that are not "external" besides the
	// event's own (role-trust-policy-external).
	TrustedAccounts []string `yaml:"trusted_accounts" json:"trusted_accounts,omitempty"`
	// AdminPolicies are policy names (or full ARNs) that count as admin; nil
	// means DefaultAdminPolicies.
	AdminPolicies []string `yaml:"admin_policies" json:"admin_policies,omitempty"`
	// Rules holds per-rule settings by rule id.
	Rules map[string]RuleConfig `yaml:"rules" json:"rules,omitempty"`

	// GeoIP names MaxMind-format databases (.mmdb: GeoLite2 Country and
	// ASN, DB-IP Lite, ip-location-db) that cmd opens into Geo.
	GeoIP []string `yaml:"geoip" json:"geoip,omitempty"`

	// Geo locates source IPs (country, ASN); nil means no GeoIP database:
	// events are not located, and baseline rules over country or ASN are
	// off (Engine.Skipped says so). Set by the caller (the configuration
	// file names the database as geoip:, opened in cmd), never read from YAML.
	Geo iamwatch.GeoLocator `yaml:"-" json:"-"`
}

// RuleConfig is the per-rule part of Config.
type RuleConfig struct {
	Disabled bool      `yaml:"disabled" json:"disabled,omitempty"`
	Allow    AllowList `yaml:"allow" json:"allow,omitzero"`
	// Threshold overrides the rule's count and/or window (threshold rules only).
	Threshold *ThresholdOverride `yaml:"threshold" json:"threshold,omitempty"`
}

// ThresholdOverride replaces a threshold rule's count and window; zero
// fields keep the rule's value.
type ThresholdOverride struct {
	Count  int           `yaml:"count" json:"count,omitempty"`
	Within time.Duration `yaml:"within" json:"within,omitempty"`
}

// AllowList suppresses events from known-good actors. An event is allowed
// (raises nothing) when any entry of any list matches it. Users, roles,
// principals and user agents are wildcards ("*" any run, "?" one
// character, compared ignoring case); accounts are exact; source IPs are
// addresses or CIDR blocks.
//
// With MaxSeverity set, the list allows an event only for rules that never
// raise above it (the rule's severity and its escalation steps): a CI role
// allowed up to medium still raises every high and critical alert (an admin
// policy attached, CloudTrail stopped), because a stolen CI credential is
// a favourite way in. Without it the list allows the event for every rule.
type AllowList struct {
	Users []string `yaml:"users" json:"users,omitempty"` // Event.UserName
	Roles []string `yaml:"roles" json:"roles,omitempty"` // the actor's role name (assumed-role ARN)
	// Principals are principal ARNs (Event.PrincipalARN); an assumed-role
	// session also matches as its role, arn:aws:iam::ACCOUNT:role/NAME,
	// and an exact role ARN with a path (role/PATH/NAME, as IAM shows it)
	// matches that role's sessions, whose ARNs carry no path.
	Principals []string `yaml:"principals" json:"principals,omitempty"`
	Accounts   []string `yaml:"accounts" json:"accounts,omitempty"`     // Event.AccountID
	SourceIPs  []string `yaml:"source_ips" json:"source_ips,omitempty"` // Event.SourceIP
	UserAgents []string `yaml:"user_agents" json:"user_agents,omitempty"`
	// MaxSeverity, when set, limits the list to rules that never raise
	// above it; it must be below critical.
	MaxSeverity *iamwatch.Severity `yaml:"max_severity" json:"max_severity,omitempty"`
}

// IsZero reports whether the list allows nothing.
func (a AllowList) IsZero() bool {
	return len(a.Users)+len(a.Roles)+len(a.Principals)+len(a.Accounts)+len(a.SourceIPs)+len(a.UserAgents) == 0
}

// allowList is a compiled AllowList.
type allowList struct {
	users, roles, principals, agents []string
	// rolesNoPath are the exact role ARNs among principals that have a
	// path, without it: a session's ARN names its role without the path,
	// and a role name is unique in its account whatever its path.
	rolesNoPath []string
	accounts    []string
	prefixes    []netip.Prefix
	max         *iamwatch.Severity // nil: every rule
}

func compileAllow(a AllowList) (*allowList, error) {
	if a.MaxSeverity != nil && *a.MaxSeverity >= iamwatch.SeverityCritical {
		return nil, fmt.Errorf("allow.max_severity: %s: an allow-list never hides critical alerts (at most high)", *a.MaxSeverity)
	}
	if a.IsZero() {
		return nil, nil
	}
	c := &allowList{users: a.Users, roles: a.Roles, principals: a.Principals, agents: a.UserAgents, accounts: a.Accounts, max: a.MaxSeverity}
	for _, acct := range a.Accounts {
		if !isAccountID(acct) {
			return nil, fmt.Errorf("allow.accounts: %q is not a 12-digit account ID", acct)
		}
	}
	for _, s := range a.SourceIPs {
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("allow.source_ips: %w", err)
			}
			c.prefixes = append(c.prefixes, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("allow.source_ips: %w", err)
		}
		c.prefixes = append(c.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
	}
	for _, p := range a.Principals {
		head, path, ok := strings.Cut(p, ":role/")
		if i := strings.LastIndexByte(path, '/'); ok && i >= 0 && !strings.ContainsAny(p, "*?") {
			c.rolesNoPath = append(c.rolesNoPath, head+":role/"+path[i+1:])
		}
	}
	for _, list := range [][]string{a.Users, a.Roles, a.Principals, a.UserAgents} {
		for _, p := range list {
			if p == "" {
				return nil, fmt.Errorf("allow: empty pattern")
			}
		}
	}
	return c, nil
}

// allowsAll reports whether ev is allowed for every rule. c may be nil.
func (c *allowList) allowsAll(ev *iamwatch.Event) bool {
	return c != nil && c.max == nil && c.allows(ev)
}

// allowsRule reports whether ev is allowed for a rule whose alerts reach
// top at most. c may be nil.
func (c *allowList) allowsRule(ev *iamwatch.Event, top iamwatch.Severity) bool {
	return c != nil && (c.max == nil || top <= *c.max) && c.allows(ev)
}

// allows reports whether ev matches an entry. c may be nil.
func (c *allowList) allows(ev *iamwatch.Event) bool {
	if c == nil {
		return false
	}
	if len(c.principals) > 0 && ev.PrincipalARN != "" {
		role := roleARN(ev.PrincipalARN)
		for _, p := range c.principals {
			if wildFold(p, ev.PrincipalARN) || role != "" && wildFold(p, role) {
				return true
			}
		}
		for _, p := range c.rolesNoPath {
			if role != "" && strings.EqualFold(p, role) {
				return true
			}
		}
	}
	for _, p := range c.users {
		if wildFold(p, ev.UserName) {
			return true
		}
	}
	if len(c.roles) > 0 {
		if role := RoleName(ev.PrincipalARN); role != "" {
			for _, p := range c.roles {
				if wildFold(p, role) {
					return true
				}
			}
		}
	}
	if slices.Contains(c.accounts, ev.AccountID) {
		return true
	}
	if len(c.prefixes) > 0 {
		if ip, err := netip.ParseAddr(ev.SourceIP); err == nil {
			ip = ip.Unmap()
			for _, p := range c.prefixes {
				if p.Contains(ip) {
					return true
				}
			}
		}
	}
	for _, p := range c.agents {
		if wildFold(p, ev.UserAgent) {
			return true
		}
	}
	return false
}

// roleARN returns the role ARN of an assumed-role session ARN
// (arn:aws:sts::111122223333:assumed-role/ci/run-1 →
// arn:aws:iam::111122223333:role/ci), or "".
func roleARN(arn string) string {
	head, rest, ok := strings.Cut(arn, ":assumed-role/")
	if !ok {
		return ""
	}
	role, _, _ := strings.Cut(rest, "/")
	partition, account, ok := strings.Cut(strings.TrimPrefix(head, "arn:"), ":sts::")
	if !ok || role == "" {
		return ""
	}
	return "arn:" + partition + ":iam::" + account + ":role/" + role
}

func (c Config) adminPolicies() []string {
	if c.AdminPolicies == nil {
		return DefaultAdminPolicies
	}
	return c.AdminPolicies
}

// isAdminPolicy reports whether arn (a policy ARN or name) is in list, by
// full ARN or by name, ignoring case.
func isAdminPolicy(list []string, arn string) bool {
	name := lastSegment(arn)
	for _, p := range list {
		if strings.EqualFold(p, arn) || (!strings.Contains(p, "/") && strings.EqualFold(p, name)) {
			return true
		}
	}
	return false
}

// ConfigError is one mistake in a Config, at Path (as in the configuration
// file under detection:, e.g. rules.console-signin-failures.threshold.count).
type ConfigError struct {
	Path string
	Msg  string
}

func (e *ConfigError) Error() string { return e.Path + ": " + e.Msg }

// Check reports every mistake of c over rules (the rules it will run with),
// each a *ConfigError, joined: trusted accounts that are not account IDs,
// unknown rule IDs, threshold overrides on rules without a threshold or
// out of range, bad allow-lists. New runs it; so does every command that
// validates a configuration file.
func (c Config) Check(rules []*Rule) error {
	var errs []error
	bad := func(path, format string, a ...any) {
		errs = append(errs, &ConfigError{Path: path, Msg: fmt.Sprintf(format, a...)})
	}
	ids := map[string]*Rule{}
	for _, r := range rules {
		if r != nil {
			ids[r.ID] = r
		}
	}
	for i, a := range c.TrustedAccounts {
		if !isAccountID(a) {
			bad(fmt.Sprintf("trusted_accounts.%d", i), "%q is not a 12-digit account ID", a)
		}
	}
	for i, id := range c.Disabled {
		if ids[id] == nil {
			bad(fmt.Sprintf("disabled.%d", i), "unknown rule %q", id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.Rules)) {
		rc := c.Rules[id]
		r := ids[id]
		if r == nil {
			bad("rules."+id, "unknown rule %q", id)
			continue
		}
		if rc.Threshold == nil {
			continue
		}
		if r.Threshold == nil {
			bad("rules."+id+".threshold", "the rule has no threshold")
			continue
		}
		if rc.Threshold.Count != 0 && rc.Threshold.Count < 2 {
			bad("rules."+id+".threshold.count", "must be at least 2")
		}
		if rc.Threshold.Within < 0 {
			bad("rules."+id+".threshold.within", "must be positive")
		}
	}
	if _, err := compileAllow(c.Allow); err != nil {
		bad("allow", "%v", err)
	}
	for _, id := range slices.Sorted(maps.Keys(c.Rules)) {
		if _, err := compileAllow(c.Rules[id].Allow); err != nil {
			bad("rules."+id+".allow", "%v", err)
		}
	}
	return errors.Join(errs...)
}
