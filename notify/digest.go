package notify

import (
	"fmt"
	"time"

	"github.com/iamwatch/iamwatch"
)

// ActorDigest holds alerts at or below MaxSeverity and sends them as one message
// per actor (account and user name) per Period of event time, instead of
// one message each: an engineer's Terraform run that changes forty route
// tables is one message an hour, not forty. Alerts above MaxSeverity are
// never held.
//
// The held deliveries are ordinary outbox deliveries whose next try is the
// end of their period plus Delay, so the store is the truth: a restart, a
// second dispatcher or a Lambda retry finds them there, and each alert is
// in at most one digest message (at least once: a dispatcher that dies
// mid-send sends it again, with the same delivery ID). An alert that arrives
// after its period's digest went out (CloudTrail later than Delay) goes out
// in a second, smaller digest for the same actor and period. A held alert
// whose incident escalates above MaxSeverity is due at once: the outbox
// makes an escalated pending delivery due at the enqueue time.
//
// With digests on, the dispatcher also sends the alerts of one rule and
// actor that fall due together as one message, and an actor's digests of
// several periods that fall due together as one (see MessageKey).
//
// In the configuration file:
//
//	notify:
//	  digest: {max_severity: low, period: 1h, delay: 10m}   # the defaults
//	  # digest: {off: true}                                 # every alert on its own
type ActorDigest struct {
	// Off sends every alert on its own: no digests, no bursts.
	Off bool `yaml:"off"`
	// MaxSeverity is the highest severity held for the digest (nil: low).
	// It must be below high: high and critical alerts always go out at once.
	MaxSeverity *iamwatch.Severity `yaml:"max_severity"`
	// Period is the event-time span one digest covers (0: one hour).
	Period time.Duration `yaml:"period"`
	// Delay is how long after its period a digest waits for late
	// CloudTrail deliveries before it goes out (0: 10 minutes).
	Delay time.Duration `yaml:"delay"`
}

// The digest defaults.
const (
	DefaultDigestSeverity = iamwatch.SeverityLow
	DefaultDigestPeriod   = time.Hour
	DefaultDigestDelay    = 10 * time.Minute
)

// validate checks d's values.
func (d *ActorDigest) validate() error {
	if d == nil {
		return nil
	}
	if d.MaxSeverity != nil && *d.MaxSeverity >= iamwatch.SeverityHigh {
		return fmt.Errorf("digest: max_severity %s: high and critical alerts are always sent at once (at most medium)", *d.MaxSeverity)
	}
	if d.Period < 0 || d.Period > 0 && d.Period < time.Minute || d.Period > 24*time.Hour {
		return fmt.Errorf("digest: period %s: want 1m to 24h", d.Period)
	}
	if d.Delay < 0 || d.Delay > 24*time.Hour {
		return fmt.Errorf("digest: delay %s: want 0 to 24h", d.Delay)
	}
	return nil
}

// digestPolicy is a Digest with its defaults filled in.
type digestPolicy struct {
	max           iamwatch.Severity
	period, delay time.Duration
}

// policy returns d with defaults, or nil when d is nil or off.
func (d *ActorDigest) policy() *digestPolicy {
	if d == nil || d.Off {
		return nil
	}
	p := &digestPolicy{max: DefaultDigestSeverity, period: d.Period, delay: d.Delay}
	if d.MaxSeverity != nil {
		p.max = *d.MaxSeverity
	}
	if p.period <= 0 {
		p.period = DefaultDigestPeriod
	}
	if p.delay <= 0 {
		p.delay = DefaultDigestDelay
	}
	return p
}

// holds reports whether a goes out in a digest. p may be nil.
func (p *digestPolicy) holds(a *iamwatch.Alert) bool {
	return p != nil && a.Severity <= p.max
}

// periodOf returns the start of the digest period a's event time falls in.
func (p *digestPolicy) periodOf(a *iamwatch.Alert) time.Time {
	return a.Time.UTC().Truncate(p.period)
}

// MaxDigestAhead is how far ahead of the wall clock an alert's event time
// may be and still be held for its own period: a record further ahead
// (a malformed or forged time) is held as if its time were now plus this.
const MaxDigestAhead = 24 * time.Hour

// due returns when a held alert's digest goes out: after its period and
// the delay, never before now, and never later than MaxDigestAhead, one
// period and the delay after now (an event time far ahead of the wall
// clock would otherwise hold the alert until the clock got there: a
// year).
func (p *digestPolicy) due(a *iamwatch.Alert, now time.Time) time.Time {
	t := p.periodOf(a).Add(p.period + p.delay)
	if t.Before(now) {
		return now
	}
	if latest := now.Add(MaxDigestAhead + p.period + p.delay); t.After(latest) {
		return latest
	}
	return t
}

// DigestKey identifies the digest a held alert goes out in: its actor and
// period, stable for every alert of that actor in that period, so a resend
// or a second dispatcher groups the same alerts under the same key.
func DigestKey(a *iamwatch.Alert, period time.Duration) string {
	if period <= 0 {
		period = DefaultDigestPeriod
	}
	return "digest/" + actorKey(a) + "/" + a.Time.UTC().Truncate(period).Format(time.RFC3339)
}

// actorKey names a's actor: its account and user name.
func actorKey(a *iamwatch.Alert) string { return a.AccountID + "/" + a.UserName }

// MessageKey returns the key under which the dispatcher puts a due
// delivery of a into one message with the other deliveries due in the
// same outbox read that share it, or "" when a goes out alone (d nil or
// off). With digests on:
//   - an alert d holds goes with its actor's held alerts
//     ("digest/account/user"): in real time each digest period falls due
//     on its own, one message a period; a scan of a week's history, or a
//     dispatcher catching up, finds every period due at once and sends
//     the actor one digest (of at most MaxDigest alerts), not one an hour;
//   - any other alert goes with the alerts of its rule and actor
//     ("burst/rule/account/user"): Terraform creating three users in one
//     trail file is one message listing them. Nothing is held back for a
//     burst: an alert of the same rule and actor in a later read is a
//     message of its own.
//
// The corpus measurements count messages with it.
func MessageKey(d *ActorDigest, a *iamwatch.Alert) string { return d.policy().messageKey(a) }

// messageKey is MessageKey under p (nil: digests off).
func (p *digestPolicy) messageKey(a *iamwatch.Alert) string {
	switch {
	case p == nil:
		return ""
	case p.holds(a):
		return "digest/" + actorKey(a)
	default:
		return "burst/" + a.Rule + "/" + actorKey(a)
	}
}

// Holds reports whether d (nil: no digests) holds a for a digest, and the
// digest's key. The corpus measurements count messages with it.
func (d *ActorDigest) Holds(a *iamwatch.Alert) (key string, ok bool) {
	p := d.policy()
	if !p.holds(a) {
		return "", false
	}
	return DigestKey(a, p.period), true
}
