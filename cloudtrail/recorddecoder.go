package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/iamwatch/iamwatch"
)

// The record decoder reads a record in two steps. It parses the bytes where
// they are (in the stream's buffer, or the caller's slice), keeping offsets
// (text, span) and never allocating, except for strings with escapes. Once
// the record has parsed, its bytes are copied once into Raw and once into a
// string whose substrings become the string fields (resolve). A record so
// costs three allocations and no copy of bytes it does not keep.

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

// errUnwanted is finish's answer for a record recordDecoder.want refused.
var errUnwanted = errors.New("not wanted")

// finish normalises the parsed record raw[:d.p.i] into ev. When d.want is
// set, it first fills ev from the record where it lies and asks want:
// a record it refuses costs no copy, and finish returns errUnwanted.
func (d *recordDecoder) finish(raw []byte, ev *iamwatch.Event) (string, error) {
	rec := raw[:d.p.i]
	if d.want != nil {
		id, err := d.fill(unsafe.String(unsafe.SliceData(rec), len(rec)), rec, ev)
		if err != nil {
			return strings.Clone(id), err // the report keeps it
		}
		if !d.want(ev) {
			*ev = iamwatch.Event{} // it points into raw
			return id, errUnwanted
		}
	}
	// The only copy: Raw. RequestParameters and ResponseElements are
	// slices of it, and every string field is a substring of base, which
	// shares its memory (half the memory of an event in flight, one copy
	// less per record): Raw must be treated as read-only (Event says so).
	own := bytes.Clone(rec)
	return d.fill(unsafe.String(unsafe.SliceData(own), len(own)), own, ev)
}

// fill sets ev from the parsed record own, base being own as a string:
// ev's strings and slices point into own.
func (d *recordDecoder) fill(base string, own []byte, ev *iamwatch.Event) (string, error) {
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
	t, ok := parseEventTime(eventTime)
	if !ok {
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

		SessionFromConsole: w.sessionFromConsole.get(base),
		VPCEndpointID:      w.vpcEndpointID.get(base),
		DataEvent:          dataEvent(w.eventCategory.get(base), w.managementEvent.get(base)),
	}
	if id != nil {
		ev.IdentityType = id.Type
		ev.PrincipalARN = id.ARN
		ev.InvokedBy = id.InvokedBy
		ev.AccessKeyID = id.AccessKeyID
		ev.EC2RoleDelivery = w.identity.ec2RoleDelivery.get(base)
		ev.ServiceLinkedRole = id.Type == IdentityAssumedRole && serviceLinked(id.Issuer.ARN)
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

// text is a string value seen by the parser: an offset range of the record,
// or (for a string with escapes, or a computed one) the value itself.
type text struct {
	off, end int
	v        string
	own      bool // v holds the value
}

// get returns the value; base is the record as a string.
func (t text) get(base string) string {
	if t.own {
		return t.v
	}
	return base[t.off:t.end]
}

// span is a raw JSON value of the record; end == 0 means absent or null.
type span struct{ off, end int }

func (s span) get(own []byte) []byte {
	if s.end == 0 {
		return nil
	}
	return own[s.off:s.end:s.end]
}

// wireRecord is the part of a CloudTrail record the normalised event needs.
type wireRecord struct {
	eventID, eventTime, eventSource, eventName, eventType, eventCategory text
	awsRegion, sourceIP, userAgent, errorCode, errorMessage              text
	recipientAccountID, readOnly                                         text
	sessionFromConsole                                                   text // sessionCredentialFromConsole
	vpcEndpointID, managementEvent                                       text

	identity    wireIdentity
	hasIdentity bool

	requestParameters, responseElements, serviceEventDetails span
	insight                                                  bool // insightDetails present

	roleARN      text // requestParameters.roleArn
	consoleLogin text // responseElements.ConsoleLogin
	mfaUsed      text // additionalEventData.MFAUsed
	signInName   text // additionalEventData.UserName
}

type wireIdentity struct {
	typ, principalID, arn, accountID, userName, invokedBy, identityProvider, credentialID, accessKeyID text
	issuerType, issuerPrincipalID, issuerARN, issuerAccountID, issuerUserName                          text
	onBehalfOfUserID, identityStoreARN, mfaAuthenticated                                               text
	ec2RoleDelivery                                                                                    text // sessionContext.ec2RoleDelivery
}

func (w *wireIdentity) resolve(base string) Identity {
	return Identity{
		Type:             w.typ.get(base),
		PrincipalID:      w.principalID.get(base),
		ARN:              w.arn.get(base),
		AccountID:        w.accountID.get(base),
		UserName:         w.userName.get(base),
		InvokedBy:        w.invokedBy.get(base),
		IdentityProvider: w.identityProvider.get(base),
		CredentialID:     w.credentialID.get(base),
		AccessKeyID:      w.accessKeyID.get(base),
		Issuer: SessionIssuer{
			Type:        w.issuerType.get(base),
			PrincipalID: w.issuerPrincipalID.get(base),
			ARN:         w.issuerARN.get(base),
			AccountID:   w.issuerAccountID.get(base),
			UserName:    w.issuerUserName.get(base),
		},
		OnBehalfOfUserID: w.onBehalfOfUserID.get(base),
		IdentityStoreARN: w.identityStoreARN.get(base),
		mfaAuthenticated: w.mfaAuthenticated.get(base),
	}
}

// recordDecoder parses one record at the start of p.b.
type recordDecoder struct {
	p parser
	w wireRecord
	// want, when set, sees each record before it is copied (Options.Want).
	want func(*iamwatch.Event) bool
}

// str reads the value at p.i as text: a string's contents, a number's or a
// boolean's literal, "" for null. Objects and arrays are validated and give
// "": CloudTrail never puts them where iamwatch wants text.
func (d *recordDecoder) str() (text, error) {
	p := &d.p
	switch c := p.peek(); {
	case c == '"':
		s, e, esc, err := p.str()
		if err != nil {
			return text{}, err
		}
		if esc {
			return text{v: string(unescape(p.b[s:e])), own: true}, nil
		}
		return text{off: s, end: e}, nil
	case c == 'n':
		return text{}, p.lit("null")
	case c == '{' || c == '[':
		return text{}, p.skip(1)
	default:
		start := p.i
		if err := p.skip(1); err != nil {
			return text{}, err
		}
		return text{off: start, end: p.i}, nil
	}
}

// raw reads a value and returns its span (empty for null). If field is not
// nil and the value is an object, field sees its members as in
// parser.object.
func (d *recordDecoder) raw(depth int, field func(key []byte) error) (span, error) {
	p := &d.p
	start := p.i
	var err error
	switch p.peek() {
	case 'n':
		return span{}, p.lit("null")
	case '{':
		if field == nil {
			err = p.skip(depth)
		} else {
			err = p.object(depth, field)
		}
	default:
		err = p.skip(depth)
	}
	if err != nil {
		return span{}, err
	}
	return span{start, p.i}, nil
}

// record parses the record object at p.b[0]; p.i ends just after it.
func (d *recordDecoder) record() error {
	p := &d.p
	w := &d.w
	return p.object(0, func(key []byte) (err error) {
		switch string(key) {
		case "eventID":
			w.eventID, err = d.str()
		case "eventTime":
			w.eventTime, err = d.str()
		case "eventSource":
			w.eventSource, err = d.str()
		case "eventName":
			w.eventName, err = d.str()
		case "eventType":
			w.eventType, err = d.str()
		case "eventCategory":
			w.eventCategory, err = d.str()
		case "awsRegion":
			w.awsRegion, err = d.str()
		case "sourceIPAddress":
			w.sourceIP, err = d.str()
		case "userAgent":
			w.userAgent, err = d.str()
		case "errorCode":
			w.errorCode, err = d.str()
		case "errorMessage":
			w.errorMessage, err = d.str()
		case "recipientAccountId":
			w.recipientAccountID, err = d.str()
		case "readOnly":
			w.readOnly, err = d.str()
		case "sessionCredentialFromConsole":
			w.sessionFromConsole, err = d.str()
		case "vpcEndpointId":
			w.vpcEndpointID, err = d.str()
		case "managementEvent":
			w.managementEvent, err = d.str()
		case "userIdentity":
			w.identity = wireIdentity{}
			w.hasIdentity = p.peek() == '{'
			if w.hasIdentity {
				return d.identity(1, &w.identity)
			}
			return p.skip(1)
		case "requestParameters":
			w.roleARN = text{}
			w.requestParameters, err = d.raw(1, func(k []byte) (err error) {
				if string(k) == "roleArn" {
					w.roleARN, err = d.str()
					return err
				}
				return p.skip(2)
			})
		case "responseElements":
			w.consoleLogin = text{}
			w.responseElements, err = d.raw(1, func(k []byte) (err error) {
				if string(k) == "ConsoleLogin" {
					w.consoleLogin, err = d.str()
					return err
				}
				return p.skip(2)
			})
		case "additionalEventData":
			w.mfaUsed, w.signInName = text{}, text{}
			_, err = d.raw(1, func(k []byte) (err error) {
				switch string(k) {
				case "MFAUsed":
					w.mfaUsed, err = d.str()
				case "UserName":
					w.signInName, err = d.str()
				default:
					err = p.skip(2)
				}
				return err
			})
		case "serviceEventDetails":
			w.serviceEventDetails, err = d.raw(1, nil)
		case "insightDetails":
			var v span
			v, err = d.raw(1, nil)
			w.insight = v.end != 0
		default:
			err = p.skip(1)
		}
		return err
	})
}

// identity reads a userIdentity object.
func (d *recordDecoder) identity(depth int, id *wireIdentity) error {
	p := &d.p
	return p.object(depth, func(key []byte) (err error) {
		switch string(key) {
		case "type":
			id.typ, err = d.str()
		case "principalId":
			id.principalID, err = d.str()
		case "arn":
			id.arn, err = d.str()
		case "accountId":
			id.accountID, err = d.str()
		case "userName":
			id.userName, err = d.str()
		case "invokedBy":
			id.invokedBy, err = d.str()
		case "identityProvider":
			id.identityProvider, err = d.str()
		case "credentialId":
			id.credentialID, err = d.str()
		case "accessKeyId":
			id.accessKeyID, err = d.str()
		case "onBehalfOf":
			id.onBehalfOfUserID, id.identityStoreARN = text{}, text{}
			_, err = d.raw(depth+1, func(k []byte) (err error) {
				switch string(k) {
				case "userId":
					id.onBehalfOfUserID, err = d.str()
				case "identityStoreArn":
					id.identityStoreARN, err = d.str()
				default:
					err = p.skip(depth + 2)
				}
				return err
			})
		case "sessionContext":
			_, err = d.raw(depth+1, func(k []byte) (err error) {
				switch string(k) {
				case "sessionIssuer":
					id.issuerType, id.issuerPrincipalID, id.issuerARN, id.issuerAccountID, id.issuerUserName = text{}, text{}, text{}, text{}, text{}
					_, err = d.raw(depth+2, func(k []byte) (err error) {
						switch string(k) {
						case "type":
							id.issuerType, err = d.str()
						case "principalId":
							id.issuerPrincipalID, err = d.str()
						case "arn":
							id.issuerARN, err = d.str()
						case "accountId":
							id.issuerAccountID, err = d.str()
						case "userName":
							id.issuerUserName, err = d.str()
						default:
							err = p.skip(depth + 3)
						}
						return err
					})
				case "ec2RoleDelivery":
					id.ec2RoleDelivery, err = d.str()
				case "attributes":
					id.mfaAuthenticated = text{}
					_, err = d.raw(depth+2, func(k []byte) (err error) {
						if string(k) == "mfaAuthenticated" {
							id.mfaAuthenticated, err = d.str()
							return err
						}
						return p.skip(depth + 3)
					})
				default:
					err = p.skip(depth + 2)
				}
				return err
			})
		default:
			err = p.skip(depth + 1)
		}
		return err
	})
}

// dataEvent reports whether a record of eventCategory category and
// managementEvent management is not a management event (see
// iamwatch.Event.DataEvent).
func dataEvent(category, management string) bool {
	if category != "" {
		return category != "Management"
	}
	return management == "false"
}

// signInFailed reports a failed sign-in that CloudTrail did not give an
// errorCode: a ConsoleLogin whose responseElements.ConsoleLogin is "Failure",
// or an Identity Center sign-in step (CredentialVerification,
// UserAuthentication, …) whose serviceEventDetails.<eventName> is "Failure".
func signInFailed(source, name, consoleLogin string, serviceEventDetails []byte) bool {
	if source != "signin.amazonaws.com" {
		return false
	}
	if consoleLogin == "Failure" {
		return true
	}
	if serviceEventDetails == nil || serviceEventDetails[0] != '{' || name == "" {
		return false
	}
	var outcome string
	p := parser{b: serviceEventDetails}
	err := p.object(0, func(k []byte) error {
		if string(k) == name && p.peek() == '"' {
			s, e, _, err := p.str()
			outcome = string(p.b[s:e])
			return err
		}
		return p.skip(1)
	})
	return err == nil && outcome == "Failure"
}
