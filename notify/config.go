package notify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/iamwatch/iamwatch"
	"gopkg.in/yaml.v3"
)

// Config is the `notify:` section of the configuration file:
//
//	notify:
//	  sinks:
//	    security-slack:
//	      type: slack
//	      rate_limit: 10              # messages a minute, then one digest
//	      webhook_url: env:SLACK_WEBHOOK_URL
//	    pager:
//	      type: pagerduty
//	      routing_key: ssm:/iamwatch/pagerduty
//	  routes:
//	    - sinks: [security-slack]     # everything high and above
//	      min_severity: high
//	    - sinks: [pager]
//	      rules: [root-console-login, cloudtrail-*]
//	      accounts: ["123456789012"]
//	  retry: {max_attempts: 10, base: 30s, max: 1h}
//	  digest: {max_severity: low, period: 1h}  # see Digest
//
// Settings other than type and rate_limit belong to the sink type; secrets
// in them are references resolved by a [Resolver].
type Config struct {
	Sinks  map[string]SinkConfig `yaml:"sinks"`
	Routes []Route               `yaml:"routes"`
	Retry  RetryPolicy           `yaml:"retry"`
	// Lease is how long a delivery being sent is held from other senders
	// (DispatcherOptions.Lease); a process killed mid-send leaves it due
	// again after that. 0: the dispatcher's default.
	Lease time.Duration `yaml:"lease"`
	// Digest sends low alerts as one message per actor per period; nil
	// sends every alert on its own (the configuration file's default is
	// a Digest with its defaults: see config.Parse).
	Digest *ActorDigest `yaml:"digest"`
}

// SinkConfig configures one named sink.
type SinkConfig struct {
	Type string `yaml:"type"` // slack, teams, pagerduty, webhook, email, ses, sns, jsonl, …
	// RateLimit is how many messages a minute the sink sends; when more
	// alerts are due they go out together as one digest. 0: no limit.
	RateLimit int `yaml:"rate_limit"`
	// Settings are the type's own settings, decoded by its Builder.
	Settings Settings `yaml:",inline"`
}

// Settings are a sink type's settings as written in the configuration.
type Settings map[string]any

// Decode decodes the settings into v (a pointer to a yaml-tagged struct),
// rejecting unknown keys so a typo is an error, not a silently ignored line.
func (s Settings) Decode(v any) error {
	b, err := yaml.Marshal(map[string]any(s))
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			// The lines are of the re-encoded settings, not the file's: drop them.
			msgs := make([]string, len(te.Errors))
			for i, m := range te.Errors {
				msgs[i] = settingsLineRE.ReplaceAllString(m, "")
			}
			return fmt.Errorf("settings: %s", strings.Join(msgs, "; "))
		}
		return fmt.Errorf("settings: %w", err)
	}
	return nil
}

var settingsLineRE = regexp.MustCompile(`^line \d+: `)

// Route sends the alerts it matches to its sinks. An alert matches when its
// severity is at least MinSeverity and it satisfies every non-empty list:
// its rule is one of Rules (path.Match patterns such as "cloudtrail-*"), it
// has one of Tags, its account is one of Accounts. An alert goes to the union
// of the sinks of all routes it matches.
type Route struct {
	Sinks       []string          `yaml:"sinks"`
	MinSeverity iamwatch.Severity `yaml:"min_severity"`
	Rules       []string          `yaml:"rules"`
	Tags        []string          `yaml:"tags"`
	Accounts    []string          `yaml:"accounts"`
}

// Match reports whether the route takes a.
func (r *Route) Match(a *iamwatch.Alert) bool {
	if a.Severity < r.MinSeverity {
		return false
	}
	if len(r.Rules) > 0 && !slices.ContainsFunc(r.Rules, func(p string) bool {
		ok, _ := path.Match(p, a.Rule)
		return ok
	}) {
		return false
	}
	if len(r.Tags) > 0 && !slices.ContainsFunc(a.Tags, func(t string) bool { return slices.Contains(r.Tags, t) }) {
		return false
	}
	if len(r.Accounts) > 0 && !slices.Contains(r.Accounts, a.AccountID) {
		return false
	}
	return true
}

// RetryPolicy is how the dispatcher retries retryable failures: attempt n
// waits Base·2^(n-1), at most Max, with jitter (half fixed, half random), and
// after MaxAttempts attempts the delivery is marked failed.
type RetryPolicy struct {
	MaxAttempts int           `yaml:"max_attempts"`
	Base        time.Duration `yaml:"base"`
	Max         time.Duration `yaml:"max"`
}

// The retry defaults: about 11 hours of retries in total.
const (
	DefaultMaxAttempts = 12
	DefaultRetryBase   = 30 * time.Second
	DefaultRetryMax    = time.Hour
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.Base <= 0 {
		p.Base = DefaultRetryBase
	}
	if p.Max <= 0 {
		p.Max = DefaultRetryMax
	}
	p.Max = max(p.Max, p.Base)
	return p
}

// sinkNameRE is compiled on first use (see regionRE).
var sinkNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`) })

// Validate checks the configuration on its own (sink types are checked by
// [BuildSinks], which knows the builders).
func (c *Config) Validate() error {
	var errs []error
	for _, name := range c.SinkNames() {
		s := c.Sinks[name]
		if !sinkNameRE().MatchString(name) {
			errs = append(errs, fmt.Errorf("sink %q: name must be lower-case letters, digits, '.', '_' or '-'", name))
		}
		if s.Type == "" {
			errs = append(errs, fmt.Errorf("sink %q: type is required", name))
		}
		if s.RateLimit < 0 {
			errs = append(errs, fmt.Errorf("sink %q: rate_limit %d is negative", name, s.RateLimit))
		}
	}
	if err := c.Digest.validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Lease < 0 {
		errs = append(errs, fmt.Errorf("lease %s is negative", c.Lease))
	}
	for i, r := range c.Routes {
		if len(r.Sinks) == 0 {
			errs = append(errs, fmt.Errorf("route %d: no sinks", i+1))
		}
		for _, s := range r.Sinks {
			if _, ok := c.Sinks[s]; !ok {
				errs = append(errs, fmt.Errorf("route %d: unknown sink %q", i+1, s))
			}
		}
		for _, p := range r.Rules {
			if _, err := path.Match(p, ""); err != nil {
				errs = append(errs, fmt.Errorf("route %d: rule pattern %q: %w", i+1, p, err))
			}
		}
	}
	if c.Retry.MaxAttempts < 0 || c.Retry.Base < 0 || c.Retry.Max < 0 {
		errs = append(errs, errors.New("retry: values must not be negative"))
	}
	return errors.Join(errs...)
}

// SinkNames returns the configured sink names, sorted.
func (c *Config) SinkNames() []string {
	names := make([]string, 0, len(c.Sinks))
	for n := range c.Sinks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
