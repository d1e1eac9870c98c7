package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/untrusted"
)

// MaxDigest bounds how many alerts one digest message lists.
const MaxDigest = 50

// Field is one labelled value of a message, already made safe with untrusted.Text
// but not escaped for any medium.
type Field struct {
	Label string
	Value string
}

// Message is the one format every sink shows: a subject line, a summary, the
// key fields, the action to take and a link to the event in the CloudTrail
// console. Its strings are plain text, cleaned of control characters and
// bounded, but not escaped: each sink escapes them for its medium.
//
// A digest (several alerts in one message) has Items, one Message per alert,
// and Fields empty.
type Message struct {
	Severity   iamwatch.Severity
	Subject    string // "[CRITICAL] IAM Alert: Root Account Login": the severity and the title.
	Title      string // the alert title alone: "IAM Alert: Root Account Login" (the rule's title names the kind of alert)
	Summary    string
	Fields     []Field
	Action     string // "Action required: …"
	ConsoleURL string // the event in the CloudTrail console, or "" when unknown.
	Items      []Message
}

// DefaultAction is the action line of alerts whose rule gives none.
const DefaultAction = "review this activity in CloudTrail now."

// Format builds the message for alerts: the message of the alert when there
// is one, a digest listing at most [MaxDigest] of them otherwise. The digest
// takes the highest severity of its alerts.
func Format(alerts []iamwatch.Alert) Message {
	if len(alerts) == 1 {
		return formatOne(&alerts[0])
	}
	m := Message{}
	for i := range alerts {
		m.Severity = max(m.Severity, alerts[i].Severity)
		if i < MaxDigest {
			m.Items = append(m.Items, formatOne(&alerts[i]))
		}
	}
	m.Title = fmt.Sprintf("%d alerts", len(alerts))
	if len(alerts) == 0 {
		m.Subject = fmt.Sprintf("[%s] IAM Alert digest: %s", strings.ToUpper(m.Severity.String()), m.Title)
		m.Action = "Action required: review these activities in CloudTrail now."
		return m
	}
	// One actor's alerts (an actor digest, a burst of one rule, or a
	// rate-limited run of one actor) name the actor: "3 alerts by
	// terraform-ci"; one rule's name it too.
	actor := untrusted.Text(alerts[0].UserName, MaxValue)
	rule := alerts[0].Rule
	for i := range alerts {
		if actorKey(&alerts[i]) != actorKey(&alerts[0]) {
			actor = ""
		}
		if alerts[i].Rule != rule {
			rule = ""
		}
	}
	if rule != "" && actor != "" {
		m.Title = fmt.Sprintf("%s ×%d", m.Items[0].Title, len(alerts))
	}
	if actor != "" {
		m.Title += " by " + actor
	}
	m.Subject = fmt.Sprintf("[%s] IAM Alert digest: %s", strings.ToUpper(m.Severity.String()), m.Title)
	if len(alerts) > 0 {
		first, last := alerts[0].Time, alerts[0].Time
		for _, a := range alerts[1:] {
			if a.Time.Before(first) {
				first = a.Time
			}
			if a.Time.After(last) {
				last = a.Time
			}
		}
		switch {
		case actor != "" && rule != "":
			m.Summary = fmt.Sprintf("%d alerts of one rule by %s in account %s with event times from %s to %s, sent as one message because they were found together.",
				len(alerts), actor, untrusted.Text(alerts[0].AccountID, MaxValue), formatTime(first), formatTime(last))
		case actor != "":
			m.Summary = fmt.Sprintf("%d alerts by %s in account %s with event times from %s to %s, sent as one message: a digest of this actor's low-severity alerts, or this destination's rate limit was reached.",
				len(alerts), actor, untrusted.Text(alerts[0].AccountID, MaxValue), formatTime(first), formatTime(last))
		default:
			m.Summary = fmt.Sprintf("%d alerts with event times from %s to %s, sent as one message because this destination's rate limit was reached.",
				len(alerts), formatTime(first), formatTime(last))
		}
	}
	if len(alerts) > MaxDigest {
		m.Summary += fmt.Sprintf(" The first %d are listed; see `iamwatch alerts` for all.", MaxDigest)
	}
	m.Action = "Action required: review these activities in CloudTrail now."
	return m
}

func formatOne(a *iamwatch.Alert) Message {
	title := untrusted.Text(a.Title, MaxTitle)
	if title == "" {
		title = untrusted.Text(a.Rule, MaxTitle)
	}
	m := Message{
		Severity: a.Severity,
		Title:    title,
		Subject:  fmt.Sprintf("[%s] %s", strings.ToUpper(a.Severity.String()), title),
		Summary:  untrusted.Text(a.Summary, MaxSummary),
	}
	add := func(label, v string, max int) {
		if v = untrusted.Text(v, max); v != "" {
			m.Fields = append(m.Fields, Field{label, v})
		}
	}
	add("Event", a.EventName, MaxValue)
	add("User", a.UserName, MaxValue)
	add("Source IP", a.SourceIP, MaxValue)
	add("Located", iamwatch.Geo{Country: a.Country, ASN: iamwatch.ParseASN(a.ASN), ASOrg: a.ASOrg}.String(), MaxValue)
	add("Region", a.Region, MaxValue)
	add("Account", a.AccountID, MaxValue)
	eventID := a.EventID // the event the fields above describe
	if eventID == "" && len(a.EventIDs) > 0 {
		eventID = a.EventIDs[0]
	}
	if eventID != "" {
		v := untrusted.Text(eventID, MaxValue)
		// An incident stands for Count events; EventIDs is only a sample of them.
		if n := max(a.Count, len(a.EventIDs)) - 1; n > 0 {
			v += fmt.Sprintf(" (+%d more)", n)
		}
		add("Event ID", v, 0)
	}
	if !a.Time.IsZero() {
		add("Time", formatTime(a.Time), 0)
	}
	if !a.WindowStart.IsZero() && !a.WindowEnd.IsZero() {
		add("Window", formatTime(a.WindowStart)+" – "+formatTime(a.WindowEnd), 0)
	}
	action := untrusted.Text(a.Action, MaxSummary)
	if action == "" {
		action = DefaultAction
	}
	m.Action = "Action required: " + action
	m.ConsoleURL = ConsoleURL(a.Region, eventID)
	return m
}

func formatTime(t time.Time) string { return t.UTC().Format(iamwatch.TimeFormat) }

// Compiled on first use, as sinkNameRE: a bounded repeat compiles to an
// instruction a repetition, which cost every iamwatch command about a
// millisecond at start-up (package init) when compiled up front.
var (
	regionRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`) })
	eventIDRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9-]{1,128}$`) })
)

// ConsoleURL returns the link to the event in the CloudTrail console, or ""
// when region or eventID do not look like a region and an event ID (they
// come from the record, so they are not trusted to build a URL).
func ConsoleURL(region, eventID string) string {
	if !regionRE().MatchString(region) || !eventIDRE().MatchString(eventID) {
		return ""
	}
	return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudtrailv2/home?region=%s#/events/%s",
		region, url.QueryEscape(region), url.PathEscape(eventID))
}

// FieldLine joins the fields with " · ": "Event: ConsoleLogin · User: root · …".
func (m *Message) FieldLine() string {
	parts := make([]string, len(m.Fields))
	for i, f := range m.Fields {
		parts[i] = f.Label + ": " + f.Value
	}
	return strings.Join(parts, " · ")
}

// Text renders the message as plain text, the body of email and SNS:
//
//	[CRITICAL] IAM Alert: Root Account Login
//	Root account logged in from IP: 90.7.221.136
//	Event: ConsoleLogin · User: root · Source IP: 90.7.221.136 · …
//	Action required: review this activity in CloudTrail now.
//	View in CloudTrail: https://…
//
// A digest lists one numbered line per alert between the summary and the
// action. The text holds no control characters but is not escaped.
func (m *Message) Text() string {
	var b strings.Builder
	b.WriteString(m.Subject + "\n")
	if m.Summary != "" {
		b.WriteString(m.Summary + "\n")
	}
	if len(m.Fields) > 0 {
		b.WriteString(m.FieldLine() + "\n")
	}
	for i, it := range m.Items {
		fmt.Fprintf(&b, "%d. %s\n", i+1, it.ItemLine())
	}
	b.WriteString(m.Action + "\n")
	if m.ConsoleURL != "" {
		b.WriteString("View in CloudTrail: " + m.ConsoleURL + "\n")
	}
	return b.String()
}

// ItemLine is the one-line form of a single alert's message, used in
// digests: "[HIGH] Title: summary · Event: … · User: …".
func (m *Message) ItemLine() string {
	s := fmt.Sprintf("[%s] %s", strings.ToUpper(m.Severity.String()), m.Title)
	if m.Summary != "" {
		s += ": " + m.Summary
	}
	if len(m.Fields) > 0 {
		s += " · " + m.FieldLine()
	}
	return s
}

// Digest returns the hex SHA-256 of s: a stable, header-safe identifier for
// keys that may be long or hold any characters.
func Digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// DeliveryID identifies the message for alerts: the hex SHA-256 of their
// dedup keys. A resend of the same alerts has the same ID, so receivers can
// drop repeats.
func DeliveryID(alerts []iamwatch.Alert) string {
	keys := make([]string, len(alerts))
	for i := range alerts {
		keys[i] = alerts[i].DedupKey
	}
	return Digest(strings.Join(keys, "\n"))
}
