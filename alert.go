package iamwatch

import (
	"slices"
	"time"
)

// Alert is what a rule raises. DedupKey identifies it: the same key twice is
// the same alert, so it is stored and notified once.
//
// The JSON form (json tags) is the documented alert line of `--output json`.
type Alert struct {
	DedupKey string   `json:"dedup_key"`
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Summary  string   `json:"summary"`
	Action   string   `json:"action,omitempty"` // one line: what to do now.

	// Time is the event time of the event that raised the alert (for a
	// threshold, the event that crossed it), never the time it was noticed.
	Time      time.Time `json:"time"`
	AccountID string    `json:"account_id"`
	Region    string    `json:"region"`
	UserName  string    `json:"user_name"`
	SourceIP  string    `json:"source_ip"`
	// Country, ASN ("AS64496") and ASOrg locate SourceIP (Event.Geo); ""
	// when no GeoIP database is configured or it does not know the address.
	Country   string `json:"country,omitempty"`
	ASN       string `json:"asn,omitempty"`
	ASOrg     string `json:"as_org,omitempty"`
	EventName string `json:"event_name"`
	// EventID is the event that raised the alert (for a threshold, the one
	// that reached the count); the fields above are its.
	EventID string `json:"event_id,omitempty"`

	// Count is how many events the alert stands for: 1 for a single-event
	// rule; for a threshold or dedup rule every matching event of the group
	// in the dedup period, FirstSeen to LastSeen (event times).
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// EventIDs is a bounded sample: the first MaxSampleIDs events (by event
	// time, then ID) and the latest. Every event of a grouped alert is a
	// threshold hit of (Rule, Group) between FirstSeen and LastSeen.
	EventIDs []string `json:"event_ids"`

	// Group is the threshold or dedup group value (e.g. the user name),
	// empty for single-event rules. WindowStart/WindowEnd is the first
	// event-time window in which a threshold rule reached its count.
	Group       string    `json:"group,omitempty"`
	WindowStart time.Time `json:"window_start,omitzero"`
	WindowEnd   time.Time `json:"window_end,omitzero"`

	Tags       []string `json:"tags,omitempty"`       // from the rule: e.g. "cis", "sso".
	References []string `json:"references,omitempty"` // CIS controls, MITRE techniques.
}

// WithdrawnTag marks a first-seen alert withdrawn: its value turned out to
// have been seen within the identity's learning period (an older event came
// late). It is kept, at severity info, until a still older event moves the
// learning period back and the value is new again (Merge).
const WithdrawnTag = "withdrawn"

// Withdrawn reports whether a is tagged WithdrawnTag.
func (a Alert) Withdrawn() bool { return slices.Contains(a.Tags, WithdrawnTag) }

// MaxSampleIDs is how many of its first events an alert names in EventIDs
// (the latest is named too).
const MaxSampleIDs = 20
