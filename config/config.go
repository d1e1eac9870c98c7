package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/notify"
)

// Config is the whole configuration file, shared by every command: scan
// and the rules commands read its detection, filter and notify sections,
// run needs at least one source as well (the daemon checks). Parse fills
// defaults for what is left out.
type Config struct {
	DB        string        `yaml:"db"`   // SQLite file; "" leaves the choice to the command.
	Log       Log           `yaml:"log"`  // how the daemon logs.
	Keep      string        `yaml:"keep"` // identity (default) or all.
	Filter    Filter        `yaml:"filter"`
	Rules     []string      `yaml:"rules"` // folders of extra rule files.
	Detection detect.Config `yaml:"detection"`
	Notify    notify.Config `yaml:"notify"`
	Sources   Sources       `yaml:"sources"`
	Retention Retention     `yaml:"retention"`
	Server    Server        `yaml:"server"`

	file string     // the name Parse was given
	root *yaml.Node // the parsed file, for ErrorAt's lines; nil when built in code
}

// ErrorAt returns err as a mistake at path (dot-separated keys and list
// indexes, as in the file) of the file c was parsed from, with its line.
func (c *Config) ErrorAt(path string, err error) *Error {
	return &Error{File: c.file, Line: lineOf(c.root, path), Path: path, Msg: err.Error()}
}

// Log configures the daemon's structured logs.
type Log struct {
	Format string `yaml:"format"` // json (default) or text.
	Level  string `yaml:"level"`  // debug, info (default), warn, error.
}

// Filter is what is stored besides what raises alerts (pipeline.Filter).
type Filter struct {
	KeepServiceEvents bool     `yaml:"keep_service_events"`
	IgnoreRoles       []string `yaml:"ignore_roles"`
}

// Sources lists the live inputs; any combination, at least one.
type Sources struct {
	Lookup *Lookup `yaml:"lookup"`
	S3     *S3     `yaml:"s3"`
	SQS    *SQS    `yaml:"sqs"`
}

// Account is an account reached by assuming a role.
type Account struct {
	RoleARN    string `yaml:"role_arn"`
	ExternalID string `yaml:"external_id"`
}

// Lookup configures the LookupEvents poller.
type Lookup struct {
	Accounts     []Account `yaml:"accounts"` // none: the credentials' own account.
	Regions      []string  `yaml:"regions"`  // STS events are polled in each; default [us-east-1]; [all]: every enabled region.
	SSORegion    string    `yaml:"sso_region"`
	BackfillDays int       `yaml:"backfill_days"` // first run; at most 90.
	Interval     Duration  `yaml:"interval"`      // default 1m.
	Delay        Duration  `yaml:"delay"`         // default 5m.
}

// S3 configures the trail bucket reader.
type S3 struct {
	Bucket    string   `yaml:"bucket"`
	Prefix    string   `yaml:"prefix"`     // the trail's S3 key prefix, if any.
	OrgID     string   `yaml:"org_id"`     // organisation trail: o-xxxxxxxxxx.
	Accounts  []string `yaml:"accounts"`   // account IDs under the trail prefix.
	Regions   []string `yaml:"regions"`    // default [us-east-1].
	Workers   int      `yaml:"workers"`    // objects downloaded at once; default 8.
	Interval  Duration `yaml:"interval"`   // default 5m.
	StartDays int      `yaml:"start_days"` // first run: days back to start from; default 1.
	PathStyle bool     `yaml:"path_style"` // path-style addressing, for S3-compatible servers.
}

// SQS configures the queue consumer.
type SQS struct {
	QueueURL   string   `yaml:"queue_url"`
	Workers    int      `yaml:"workers"`    // messages handled at once; default 4.
	Visibility Duration `yaml:"visibility"` // visibility timeout kept while a message is handled; default 5m.
	// MaxReceives is the receive count from which a failing message is
	// reported as poison (left to the queue's redrive policy); default 5.
	MaxReceives int `yaml:"max_receives"`
}

// Retention says how long history is kept.
type Retention struct {
	Events Duration `yaml:"events"` // e.g. 365d; zero (the default) keeps every event.
	Alerts Duration `yaml:"alerts"` // alert history; default 30d.
	Every  Duration `yaml:"every"`  // how often to prune; default 24h.
}

// Server is the health and metrics listener.
type Server struct {
	Listen string `yaml:"listen"` // host:port; "" for none.
	// Token, when set, is required of every request as "Authorization:
	// Bearer TOKEN": a secret reference (env:NAME, file:PATH, ssm:…,
	// secretsmanager:…) or the value itself.
	Token string `yaml:"token"`
}

// Duration is a time.Duration written as Go writes it ("90s", "1h30m") or
// in days ("90d").
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ParseDuration reads "90d" or a Go duration.
func ParseDuration(s string) (Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return Duration(time.Duration(days) * 24 * time.Hour), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want e.g. 30s, 5m, 1h or 90d)", s)
	}
	return Duration(v), nil
}

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := ParseDuration(s)
	if err != nil {
		// A TypeError lets the decoder go on and report every mistake.
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration as Go does.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Error is one mistake in a configuration file.
type Error struct {
	File string
	Line int    // 1-based; 0 when unknown.
	Path string // e.g. sources.lookup.backfill_days.
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// MaxBackfillDays is how far back LookupEvents reaches.
const MaxBackfillDays = 90

// Parse reads a configuration file (name is for messages), rejects unknown
// keys and wrong types, fills defaults and validates it. Every mistake is
// an *Error naming its line; several are joined (errors.Join).
func Parse(r io.Reader, name string) (*Config, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", name, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, yamlErrors(name, err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	var typeErr error
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, yamlErrors(name, err)
		}
		// Decoding went on past unknown keys and wrong types: check the
		// rest too, so one run names every mistake.
		typeErr = yamlErrors(name, err)
	}
	c.setDefaults()
	if err := sortByLine(errors.Join(typeErr, c.validate(name, &root))); err != nil {
		return nil, err
	}
	c.file, c.root = name, &root
	return &c, nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+): (.*)`)

// yamlErrors turns yaml.v3's messages ("yaml: unmarshal errors:\n  line 3:
// field x not found in type …") into Errors with lines.
func yamlErrors(name string, err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var errs []error
	for _, m := range msgs {
		e := &Error{File: name, Msg: strings.TrimPrefix(m, "yaml: ")}
		if sm := yamlLineRE.FindStringSubmatch(m); sm != nil {
			e.Line, _ = strconv.Atoi(sm[1])
			e.Msg = sm[2]
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

func (c *Config) setDefaults() {
	if c.Log.Format == "" {
		c.Log.Format = "json"
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Keep == "" {
		c.Keep = "identity"
	}
	if l := c.Sources.Lookup; l != nil {
		if len(l.Regions) == 0 {
			l.Regions = []string{"us-east-1"}
		}
		if l.Interval == 0 {
			l.Interval = Duration(time.Minute)
		}
		if l.Delay == 0 {
			l.Delay = Duration(5 * time.Minute)
		}
	}
	if s := c.Sources.S3; s != nil {
		if len(s.Regions) == 0 {
			s.Regions = []string{"us-east-1"}
		}
		if s.Workers == 0 {
			s.Workers = 8
		}
		if s.Interval == 0 {
			s.Interval = Duration(5 * time.Minute)
		}
		if s.StartDays == 0 {
			s.StartDays = 1
		}
	}
	if q := c.Sources.SQS; q != nil {
		if q.Workers == 0 {
			q.Workers = 4
		}
		if q.Visibility == 0 {
			q.Visibility = Duration(5 * time.Minute)
		}
		if q.MaxReceives == 0 {
			q.MaxReceives = 5
		}
	}
	if c.Notify.Digest == nil {
		// Low alerts go out as one message per actor and hour unless the
		// file says otherwise (notify.digest: {off: true}).
		c.Notify.Digest = &notify.ActorDigest{}
	}
	if c.Retention.Alerts == 0 {
		c.Retention.Alerts = Duration(30 * 24 * time.Hour)
	}
	if c.Retention.Every == 0 {
		c.Retention.Every = Duration(24 * time.Hour)
	}
}

var (
	accountRE = regexp.MustCompile(`^\d{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	orgRE     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	roleRE    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/.+$`)
)

// Validate checks a Config built in code (Parse validates by itself).
func (c *Config) Validate() error { return c.validate("", nil) }

// validate checks c; root, when not nil, gives the lines.
func (c *Config) validate(name string, root *yaml.Node) error {
	var errs []error
	bad := func(path string, format string, a ...any) {
		errs = append(errs, &Error{File: name, Line: lineOf(root, path), Path: path, Msg: fmt.Sprintf(format, a...)})
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		bad("log.format", "%q is not json or text", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	if c.Keep != "identity" && c.Keep != "all" {
		bad("keep", "%q is not identity or all", c.Keep)
	}
	if err := c.Notify.Validate(); err != nil {
		for _, e := range unjoin(err) {
			bad("notify", "%v", e)
		}
	}
	if l := c.Sources.Lookup; l != nil {
		for i, a := range l.Accounts {
			if !roleRE.MatchString(a.RoleARN) {
				bad(fmt.Sprintf("sources.lookup.accounts.%d.role_arn", i), "%q is not an IAM role ARN", a.RoleARN)
			}
		}
		for i, r := range l.Regions {
			switch {
			case r == "all" && len(l.Regions) > 1:
				bad(fmt.Sprintf("sources.lookup.regions.%d", i), `"all" (every enabled region) stands alone`)
			case r != "all" && !regionRE.MatchString(r):
				bad(fmt.Sprintf("sources.lookup.regions.%d", i), "%q is not a region name (or all)", r)
			}
		}
		if l.SSORegion != "" && !regionRE.MatchString(l.SSORegion) {
			bad("sources.lookup.sso_region", "%q is not a region name", l.SSORegion)
		}
		if l.BackfillDays < 0 || l.BackfillDays > MaxBackfillDays {
			bad("sources.lookup.backfill_days", "%d is outside 0–%d (LookupEvents keeps 90 days)", l.BackfillDays, MaxBackfillDays)
		}
		if l.Interval.D() < time.Second {
			bad("sources.lookup.interval", "%s is shorter than a second", l.Interval.D())
		}
		if l.Delay.D() < 0 {
			bad("sources.lookup.delay", "negative")
		}
	}
	if s := c.Sources.S3; s != nil {
		if s.Bucket == "" {
			bad("sources.s3.bucket", "required")
		}
		if s.OrgID != "" && !orgRE.MatchString(s.OrgID) {
			bad("sources.s3.org_id", "%q is not an organization ID (o-…)", s.OrgID)
		}
		if len(s.Accounts) == 0 {
			bad("sources.s3.accounts", "list the account IDs whose logs the bucket holds")
		}
		for i, a := range s.Accounts {
			if !accountRE.MatchString(a) {
				bad(fmt.Sprintf("sources.s3.accounts.%d", i), "%q is not a 12-digit account ID", a)
			}
		}
		for i, r := range s.Regions {
			if !regionRE.MatchString(r) {
				bad(fmt.Sprintf("sources.s3.regions.%d", i), "%q is not a region name", r)
			}
		}
		if s.Workers < 1 || s.Workers > 256 {
			bad("sources.s3.workers", "%d is outside 1–256", s.Workers)
		}
		if s.StartDays < 0 || s.StartDays > 3650 {
			bad("sources.s3.start_days", "%d is outside 0–3650", s.StartDays)
		}
	}
	if q := c.Sources.SQS; q != nil {
		if u, err := url.Parse(q.QueueURL); q.QueueURL == "" || err != nil || u.Scheme == "" || u.Host == "" {
			bad("sources.sqs.queue_url", "%q is not a queue URL", q.QueueURL)
		}
		if q.Workers < 1 || q.Workers > 256 {
			bad("sources.sqs.workers", "%d is outside 1–256", q.Workers)
		}
		if v := q.Visibility.D(); v < 10*time.Second || v > 12*time.Hour {
			bad("sources.sqs.visibility", "%s is outside 10s–12h", v)
		}
	}
	if c.Retention.Events.D() < 0 || c.Retention.Alerts.D() < 0 {
		bad("retention", "negative retention")
	}
	if c.Server.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
			bad("server.listen", "%q is not host:port", c.Server.Listen)
		}
	}
	return sortByLine(errors.Join(errs...))
}

// sortByLine orders joined Errors by line.
func sortByLine(err error) error {
	if err == nil {
		return nil
	}
	errs := unjoin(err)
	var flat []error
	for _, e := range errs {
		flat = append(flat, unjoin(e)...)
	}
	sort.SliceStable(flat, func(i, j int) bool { return lineOfErr(flat[i]) < lineOfErr(flat[j]) })
	return errors.Join(flat...)
}

func lineOfErr(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Line
	}
	return 0
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// lineOf returns the line of the value at path (dot-separated keys and list
// indexes) in root, or of the deepest part of it present; 0 without root.
func lineOf(root *yaml.Node, path string) int {
	if root == nil {
		return 0
	}
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, part := range strings.Split(path, ".") {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part {
					next = n.Content[i+1]
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(part); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
			}
		}
		if next == nil {
			return line
		}
		n, line = next, next.Line
	}
	return line
}

// ApplyEnv overrides settings from environment variables, read through
// getenv (the command passes its own): IAMWATCH_DB, IAMWATCH_LOG_FORMAT,
// IAMWATCH_LOG_LEVEL, IAMWATCH_KEEP, IAMWATCH_LISTEN, IAMWATCH_S3_BUCKET,
// IAMWATCH_SQS_QUEUE_URL, IAMWATCH_LOOKUP_REGIONS (comma-separated) and
// IAMWATCH_LOOKUP_BACKFILL_DAYS. Call Validate afterwards.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	set := func(dst *string, key string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	set(&c.DB, "IAMWATCH_DB")
	set(&c.Log.Format, "IAMWATCH_LOG_FORMAT")
	set(&c.Log.Level, "IAMWATCH_LOG_LEVEL")
	set(&c.Keep, "IAMWATCH_KEEP")
	set(&c.Server.Listen, "IAMWATCH_LISTEN")
	if v := getenv("IAMWATCH_S3_BUCKET"); v != "" && c.Sources.S3 != nil {
		c.Sources.S3.Bucket = v
	}
	if v := getenv("IAMWATCH_SQS_QUEUE_URL"); v != "" && c.Sources.SQS != nil {
		c.Sources.SQS.QueueURL = v
	}
	if l := c.Sources.Lookup; l != nil {
		if v := getenv("IAMWATCH_LOOKUP_REGIONS"); v != "" {
			l.Regions = strings.Split(v, ",")
		}
		if v := getenv("IAMWATCH_LOOKUP_BACKFILL_DAYS"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("config: IAMWATCH_LOOKUP_BACKFILL_DAYS=%q: not a number", v)
			}
			l.BackfillDays = n
		}
	}
	return nil
}
