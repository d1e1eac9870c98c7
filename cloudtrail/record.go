package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

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

// DecodeRecord normalises one CloudTrail record, a JSON object. The event
// keeps a copy of raw (Event.Raw); the caller may reuse raw afterwards.
//
// It fails with ErrInvalidJSON, ErrMissingField (no eventID or eventTime) or
// ErrBadTime, naming the event ID when the record has one, and with
// ErrSkipped for an Insights record.
func DecodeRecord(raw []byte) (iamwatch.Event, error) {
	var ev iamwatch.Event
	if id, err := decodeRecord(raw, &ev); err != nil {
		if id != "" {
			return iamwatch.Event{}, fmt.Errorf("cloudtrail: decode record %q: %w", id, err)
		}
		return iamwatch.Event{}, fmt.Errorf("cloudtrail: decode record: %w", err)
	}
	return ev, nil
}

// decodeRecord fills ev from raw, one record and nothing else. On error it
// returns the event ID when the record has one (the error does not repeat
// it).
func decodeRecord(raw []byte, ev *iamwatch.Event) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return "", fmt.Errorf("%w: a record is a JSON object", ErrInvalidJSON)
	}
	var d recordDecoder
	d.p.b = raw
	err := d.record()
	if err == nil && d.p.peek() != 0 {
		err = d.p.errorf("data after the record")
	}
	if err != nil {
		return peekEventID(raw), fmt.Errorf("%w: %w", ErrInvalidJSON, err)
	}
	return d.finish(raw, ev)
}

// finish normalises the parsed record raw[:d.p.i] into ev.
func (d *recordDecoder) finish(raw []byte, ev *iamwatch.Event) (string, error) {
	// The only copy: Raw. RequestParameters and ResponseElements are
	// slices of it, and every string field is a substring of base, which
	// shares its memory (half the memory of an event in flight, one copy
	// less per record): Raw must be treated as read-only (Event says so).
	own := bytes.Clone(raw[:d.p.i])
	base := unsafe.String(unsafe.SliceData(own), len(own))
	w := &d.w
	eventID := w.eventID.get(base)
	eventTime := w.eventTime.get(base)
	switch {
	case eventID == "":
		return "", fmt.Errorf("%w: eventID", ErrMissingField)
	case eventTime == "":
		return eventID, fmt.Errorf("%w: eventTime", ErrMissingField)
	case w.eventCategory.get(base) == "Insight" || w.insight:
		return eventID, fmt.Errorf("%w: insight record", ErrSkipped)
	}
	t, err := time.Parse(time.RFC3339, eventTime)
	if err != nil {
		return eventID, fmt.Errorf("%w: %q", ErrBadTime, eventTime)
	}
	// Event times are written as RFC 3339 text downstream: keep them to
	// years that text can hold, and that CloudTrail can have written.
	if t = t.UTC(); t.Year() < 1970 || t.Year() > 9999 {
		return eventID, fmt.Errorf("%w: %q is out of range", ErrBadTime, eventTime)
	}
	source, name := w.eventSource.get(base), w.eventName.get(base)
	var id *Identity
	var identity Identity
	if w.hasIdentity {
		identity = w.identity.resolve(base)
		id = &identity
	}
	*ev = iamwatch.Event{
		ID:                eventID,
		Time:              t.UTC(),
		Source:            source,
		Name:              name,
		Type:              TypeOf(source),
		Category:          w.eventType.get(base),
		UserName:          id.Actor(source, w.signInName.get(base)),
		AccountID:         w.recipientAccountID.get(base),
		Region:            w.awsRegion.get(base),
		SourceIP:          w.sourceIP.get(base),
		UserAgent:         w.userAgent.get(base),
		RequestParameters: w.requestParameters.get(own),
		ResponseElements:  w.responseElements.get(own),
		ErrorCode:         w.errorCode.get(base),
		ErrorMessage:      w.errorMessage.get(base),
		MFAUsed:           yesNo(w.mfaUsed.get(base)),
		ReadOnly:          trueFalse(w.readOnly.get(base)),
		Raw:               own,
	}
	if id != nil {
		ev.IdentityType = id.Type
		ev.PrincipalARN = id.ARN
		ev.InvokedBy = id.InvokedBy
		if ev.AccountID == "" {
			ev.AccountID = id.AccountID
		}
		if ev.MFAUsed == "" {
			ev.MFAUsed = yesNo(id.mfaAuthenticated)
		}
	}
	if name == "ConsoleLogin" && ev.MFAUsed != "yes" && federated(ev.IdentityType) {
		ev.MFAUsed = "" // see federated
	}
	if isAssumeRole(name) {
		ev.TargetRole = w.roleARN.get(base)
	}
	if ev.ErrorCode == "" && signInFailed(source, name, w.consoleLogin.get(base), w.serviceEventDetails.get(own)) {
		ev.ErrorCode = "Failure"
	}
	return eventID, nil
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

// federated reports whether a console sign-in of this identity type is a
// federated one: a role session or federated user signing in through SAML
// (additionalEventData.SamlProviderArn), IAM Identity Center, a web identity
// or a federation broker (GetSigninToken). AWS records MFAUsed "No" for all of
// them because it asks for no MFA itself; whether the person used MFA is
// known only to the identity provider. Such a "No" (and a session's
// mfaAuthenticated "false") is therefore not evidence, and mfa_used stays
// empty unless the record says "yes".
func federated(identityType string) bool {
	switch identityType {
	case IdentityAssumedRole, IdentityFederatedUser, IdentitySAMLUser, IdentityWebIdentityUser:
		return true
	}
	return false
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
