package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/iamwatch/iamwatch"
)

// Reasons a record or a file is not decoded. Errors returned by this package
// wrap one of them; test with errors.Is.
var (
	// ErrSkipped marks input that is recognised and deliberately not decoded:
	// digest files, Insights files and records. Count it as skipped, not
	// rejected.
	ErrSkipped = errors.New("skipped")
	// ErrTooLarge marks a record longer than Options.MaxRecordBytes or an
	// input that inflates past Options.MaxDecompressedBytes.
	ErrTooLarge = errors.New("too large")
	// ErrInvalidJSON marks bytes that are not JSON.
	ErrInvalidJSON = errors.New("invalid JSON")
	// ErrUnknownShape marks JSON that is neither a record nor any known
	// envelope of one (or not the shape a forced Format expects).
	ErrUnknownShape = errors.New("unknown shape")
	// ErrMissingField marks a record without eventID or eventTime.
	ErrMissingField = errors.New("missing required field")
	// ErrBadTime marks an eventTime that is not RFC 3339.
	ErrBadTime = errors.New("bad eventTime")
)

// wireRecord is the part of a CloudTrail record the normalised event needs.
// Fields whose shape varies in the wild (additionalEventData,
// serviceEventDetails) are kept raw and read only when needed.
type wireRecord struct {
	EventID             string     `json:"eventID"`
	EventTime           string     `json:"eventTime"`
	EventSource         string     `json:"eventSource"`
	EventName           string     `json:"eventName"`
	EventType           string     `json:"eventType"`
	EventCategory       string     `json:"eventCategory"`
	AWSRegion           string     `json:"awsRegion"`
	SourceIPAddress     string     `json:"sourceIPAddress"`
	UserAgent           string     `json:"userAgent"`
	ErrorCode           string     `json:"errorCode"`
	ErrorMessage        string     `json:"errorMessage"`
	RecipientAccountID  string     `json:"recipientAccountId"`
	ReadOnly            flexString `json:"readOnly"`
	UserIdentity        *Identity  `json:"userIdentity"`
	RequestParameters   rawValue   `json:"requestParameters"`
	ResponseElements    rawValue   `json:"responseElements"`
	AdditionalEventData rawValue   `json:"additionalEventData"`
	ServiceEventDetails rawValue   `json:"serviceEventDetails"`
	InsightDetails      rawValue   `json:"insightDetails"`
}

// DecodeRecord normalises one CloudTrail record, a JSON object. The event
// keeps a copy of raw (Event.Raw); the caller may reuse raw afterwards.
//
// It fails with ErrInvalidJSON, ErrMissingField (no eventID or eventTime) or
// ErrBadTime, naming the event ID when the record has one, and with
// ErrSkipped for an Insights record.
func DecodeRecord(raw []byte) (iamwatch.Event, error) {
	var ev iamwatch.Event
	if err := decodeRecord(raw, &ev); err != nil {
		return iamwatch.Event{}, fmt.Errorf("cloudtrail: decode record: %w", err)
	}
	return ev, nil
}

// decodeRecord fills ev from raw; errors name the event ID when known.
func decodeRecord(raw []byte, ev *iamwatch.Event) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("%w: a record is a JSON object", ErrInvalidJSON)
	}
	own := bytes.Clone(raw)
	var w wireRecord
	if err := json.UnmarshalNoEscape(own, &w); err != nil {
		if id := peekEventID(own); id != "" {
			return fmt.Errorf("event %q: %w: %v", id, ErrInvalidJSON, err)
		}
		return fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	switch {
	case w.EventID == "":
		return fmt.Errorf("%w: eventID", ErrMissingField)
	case w.EventTime == "":
		return fmt.Errorf("event %q: %w: eventTime", w.EventID, ErrMissingField)
	case w.EventCategory == "Insight" || w.InsightDetails != nil:
		return fmt.Errorf("event %q: %w: insight record", w.EventID, ErrSkipped)
	}
	t, err := time.Parse(time.RFC3339, w.EventTime)
	if err != nil {
		return fmt.Errorf("event %q: %w: %q", w.EventID, ErrBadTime, w.EventTime)
	}
	extra := readAdditional(w.AdditionalEventData)

	*ev = iamwatch.Event{
		ID:                w.EventID,
		Time:              t.UTC(),
		Source:            w.EventSource,
		Name:              w.EventName,
		Type:              TypeOf(w.EventSource),
		Category:          w.EventType,
		UserName:          w.UserIdentity.Actor(w.EventSource, extra.UserName),
		AccountID:         w.RecipientAccountID,
		Region:            w.AWSRegion,
		SourceIP:          w.SourceIPAddress,
		UserAgent:         w.UserAgent,
		RequestParameters: []byte(w.RequestParameters),
		ResponseElements:  []byte(w.ResponseElements),
		ErrorCode:         w.ErrorCode,
		ErrorMessage:      w.ErrorMessage,
		MFAUsed:           yesNo(string(extra.MFAUsed)),
		ReadOnly:          trueFalse(string(w.ReadOnly)),
		Raw:               own,
	}
	if id := w.UserIdentity; id != nil {
		ev.IdentityType = id.Type
		ev.PrincipalARN = id.ARN
		ev.InvokedBy = id.InvokedBy
		if ev.AccountID == "" {
			ev.AccountID = id.AccountID
		}
		if ev.MFAUsed == "" && id.SessionContext != nil && id.SessionContext.Attributes != nil {
			ev.MFAUsed = yesNo(string(id.SessionContext.Attributes.MFAAuthenticated))
		}
	}
	if isAssumeRole(w.EventName) && w.RequestParameters != nil {
		ev.TargetRole = readString(w.RequestParameters, "roleArn")
	}
	if ev.ErrorCode == "" && signInFailed(&w) {
		ev.ErrorCode = "Failure"
	}
	return nil
}

// TypeOf returns the event type of an eventSource: iam, sts, signin, sso
// (IAM Identity Center: sso, sso-directory, identitystore, sso-oauth) or
// other.
func TypeOf(eventSource string) iamwatch.EventType {
	switch eventSource {
	case "iam.amazonaws.com":
		return iamwatch.TypeIAM
	case "sts.amazonaws.com":
		return iamwatch.TypeSTS
	case "signin.amazonaws.com":
		return iamwatch.TypeSignin
	case "sso.amazonaws.com", "sso-directory.amazonaws.com", "identitystore.amazonaws.com", "sso-oauth.amazonaws.com":
		return iamwatch.TypeSSO
	}
	return iamwatch.TypeOther
}

func isAssumeRole(name string) bool {
	switch name {
	case "AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity":
		return true
	}
	return false
}

// signInFailed reports a failed sign-in that CloudTrail did not give an
// errorCode: a ConsoleLogin whose responseElements.ConsoleLogin is "Failure",
// or an Identity Center sign-in step (CredentialVerification,
// UserAuthentication, …) whose serviceEventDetails.<eventName> is "Failure".
func signInFailed(w *wireRecord) bool {
	if w.EventSource != "signin.amazonaws.com" {
		return false
	}
	if w.ResponseElements != nil && readString(w.ResponseElements, "ConsoleLogin") == "Failure" {
		return true
	}
	return w.ServiceEventDetails != nil && w.EventName != "" &&
		readString(w.ServiceEventDetails, w.EventName) == "Failure"
}

// additional is the part of additionalEventData iamwatch reads.
type additional struct {
	MFAUsed  flexString `json:"MFAUsed"`
	UserName string     `json:"UserName"`
}

// readAdditional reads additionalEventData leniently: any shape other than
// an object with these fields yields zero values, never an error.
func readAdditional(raw rawValue) additional {
	var a additional
	if raw == nil || raw[0] != '{' || (!bytes.Contains(raw, []byte(`"MFAUsed"`)) && !bytes.Contains(raw, []byte(`"UserName"`))) {
		return a
	}
	if json.Unmarshal(raw, &a) != nil {
		return additional{}
	}
	return a
}

// readString returns the string field key of the JSON object raw, or "".
func readString(raw rawValue, key string) string {
	if raw == nil || raw[0] != '{' || !bytes.Contains(raw, []byte(key)) {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	v, ok := m[key]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

// yesNo normalises MFAUsed ("Yes", "YES", "no") and mfaAuthenticated
// ("true", "false") to "yes", "no" or "".
func yesNo(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "true":
		return "yes"
	case "no", "false":
		return "no"
	}
	return ""
}

func trueFalse(s string) string {
	switch strings.ToLower(s) {
	case "true":
		return "true"
	case "false":
		return "false"
	}
	return ""
}

// peekEventID finds `"eventID":"…"` in bytes that may not be JSON, so that a
// bad record can still be named. It returns "" when there is none.
func peekEventID(b []byte) string {
	const key = `"eventID"`
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(b[i+len(key):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 || end > 128 {
		return ""
	}
	return string(rest[1 : 1+end])
}

// flexString decodes a JSON string, boolean or number as its text, and null
// as "": CloudTrail writes readOnly as a boolean, mfaAuthenticated as a
// string, and both forms occur in the wild.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case string(b) == "null":
		*f = ""
	default:
		*f = flexString(b)
	}
	return nil
}

// rawValue keeps a JSON value's bytes (a copy), and nil for null.
type rawValue []byte

func (r *rawValue) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*r = nil
		return nil
	}
	*r = bytes.Clone(b)
	return nil
}
