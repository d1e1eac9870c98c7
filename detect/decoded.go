package detect

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/iamwatch/iamwatch"
)

// The decoder carries a few record fields decoded in iamwatch.Event. A
// pattern over those alone can be decided, or ruled out, without parsing
// the record: that is what keeps a rule over every call of an identity (a
// first-seen rule) or over a kind of session (an instance's credentials)
// from making the engine parse, and the pipeline keep, every event.

// mayMatchEvent reports whether p could match ev's record, judging only the
// fields ev carries decoded (eventName, eventSource, userAgent and
// userIdentity's type and arn) and whether its record holds the keys p needs (keysIn), with
// one alternative of each $or passing both. It never rejects a record p
// matches; a field ev has empty is not judged (it may be absent from the
// record), nor are keys in a record with \u escapes.
func (p *Pattern) mayMatchEvent(ev *iamwatch.Event) bool {
	if p.mayMatch(ev, true) {
		return true
	}
	return bytes.Contains(ev.Raw, []byte(`\u`)) && p.mayMatch(ev, false)
}

// mayMatch is mayMatchEvent, looking for keys in the record when keys.
func (p *Pattern) mayMatch(ev *iamwatch.Event, keys bool) bool {
	for i := range p.fields {
		f := &p.fields[i]
		switch {
		case f.sub == nil && f.key == "eventName":
			if !p.mayMatchString("eventName", ev.Name) {
				return false
			}
		case f.sub == nil && f.key == "eventSource":
			if !p.mayMatchString("eventSource", ev.Source) {
				return false
			}
		case f.sub == nil && f.key == "userAgent":
			if ev.UserAgent != "" && !p.mayMatchString("userAgent", ev.UserAgent) {
				return false
			}
		case f.sub != nil && f.key == "userIdentity":
			if ev.IdentityType != "" && !f.sub.mayMatchString("type", ev.IdentityType) {
				return false
			}
			if ev.PrincipalARN != "" && !f.sub.mayMatchString("arn", ev.PrincipalARN) {
				return false
			}
		}
		if keys && !f.keysIn(ev.Raw) {
			return false
		}
	}
	for _, alts := range p.ors {
		if !slices.ContainsFunc(alts, func(a *Pattern) bool { return a.mayMatch(ev, keys) }) {
			return false
		}
	}
	return true
}

// keysIn reports whether raw could hold the keys f needs present: a leaf
// whose matchers all need a value, a nested object one of whose keys is so
// needed (and its $or alternatives likewise). A key is looked for as a
// JSON string anywhere in raw, so a record f matches is never ruled out,
// as long as its keys are not written with \u escapes.
func (f *fieldPattern) keysIn(raw []byte) bool {
	if f.sub != nil {
		return f.sub.keysIn(raw)
	}
	if slices.Contains(commonKeys, f.key) {
		return true // in nearly every record: not worth a search
	}
	return slices.ContainsFunc(f.matchers, func(m matcher) bool { return m.kind == mExists && !m.b }) || bytes.Contains(raw, f.quoted)
}

// commonKeys are keys nearly every record holds, or that the decoded
// fields judge: keysIn does not look for them.
var commonKeys = []string{"eventName", "eventSource", "awsRegion", "sourceIPAddress", "eventTime", "eventID", "userAgent",
	"type", "arn", "accountId", "principalId", "readOnly", "eventType", "recipientAccountId"}

func (p *Pattern) keysIn(raw []byte) bool {
	for i := range p.fields {
		if !p.fields[i].keysIn(raw) {
			return false
		}
	}
	for _, alts := range p.ors {
		if !slices.ContainsFunc(alts, func(a *Pattern) bool { return a.keysIn(raw) }) {
			return false
		}
	}
	return true
}

// quoteKey is key as a JSON string without its opening quote (searched
// for, a leading quote would stop bytes.Index at every string of the record).
func quoteKey(key string) []byte {
	b, _ := json.Marshal(key)
	return b[1:]
}

// prechecks reports whether mayMatchEvent can rule out events the index
// does not: p constrains userIdentity.arn or userAgent, has a $or, or
// needs a key present inside an object other than userIdentity (an S3
// object written with a customer key: requestParameters'
// x-amz-server-side-encryption-customer-algorithm), which keysIn looks
// for in the record.
func (p *Pattern) prechecks() bool {
	if len(p.ors) > 0 || slices.ContainsFunc(p.fields, func(f fieldPattern) bool {
		return f.sub == nil && f.key == "userAgent" || f.sub != nil && f.key != "userIdentity" && f.sub.needsKey()
	}) {
		return true
	}
	uid := p.sub("userIdentity")
	return uid != nil && slices.ContainsFunc(uid.fields, func(f fieldPattern) bool { return f.key == "arn" })
}

// needsKey reports whether keysIn can find a record wanting for p: p
// needs a key present that is not one of commonKeys.
func (p *Pattern) needsKey() bool {
	return slices.ContainsFunc(p.fields, func(f fieldPattern) bool {
		if f.sub != nil {
			return f.sub.needsKey()
		}
		return !slices.Contains(commonKeys, f.key) && !slices.ContainsFunc(f.matchers, func(m matcher) bool { return m.kind == mExists && !m.b })
	})
}

// decodedFields are the record fields an Event carries decoded,
// decodedIdentity those under userIdentity and decodedSession those under
// its sessionContext (matchDecoded reads them). As everywhere in the
// decoded fields, a value written null or "" reads as absent: CloudTrail
// writes neither for these.
var (
	decodedFields   = []string{"eventName", "eventSource", "awsRegion", "sourceIPAddress", "userAgent", "readOnly", "errorCode", "vpcEndpointId"}
	decodedIdentity = []string{"type", "arn", "accessKeyId"}
	decodedSession  = []string{"ec2RoleDelivery"}
)

// decodedOnly reports whether p constrains nothing but decodedFields (and
// their $or alternatives likewise), so that matchDecoded decides it. An
// errorCode matcher must be exists: the decoder keeps the code, but also
// marks a failed console sign-in as failed, which its record is not.
func (p *Pattern) decodedOnly() bool {
	for _, f := range p.fields {
		switch {
		case f.key == "userIdentity" && f.sub != nil:
			if !f.sub.decodedOnlyIn(decodedIdentity, "sessionContext", decodedSession) {
				return false
			}
		case f.sub != nil || !slices.Contains(decodedFields, f.key):
			return false
		case f.key == "errorCode" && slices.ContainsFunc(f.matchers, func(m matcher) bool { return m.kind != mExists }):
			return false
		}
	}
	for _, alts := range p.ors {
		if slices.ContainsFunc(alts, func(a *Pattern) bool { return !a.decodedOnly() }) {
			return false
		}
	}
	return true
}

// decodedOnlyIn reports whether the object pattern p constrains only the
// leaves keys and, when sub is not "", the object sub's leaves subKeys,
// without $or.
func (p *Pattern) decodedOnlyIn(keys []string, sub string, subKeys []string) bool {
	if len(p.ors) > 0 {
		return false
	}
	for _, g := range p.fields {
		switch {
		case g.sub == nil && slices.Contains(keys, g.key):
		case g.sub != nil && sub != "" && g.key == sub && g.sub.decodedOnlyIn(subKeys, "", nil):
		default:
			return false
		}
	}
	return true
}

// matchDecoded reports whether the decodedOnly pattern p matches ev's
// record, judged on the decoded fields (as the tests' decodedRecord rebuilds them,
// without building it).
func (p *Pattern) matchDecoded(ev *iamwatch.Event) bool {
	for i := range p.fields {
		f := &p.fields[i]
		if f.sub != nil { // userIdentity: decodedOnly allows no other object
			if !f.sub.matchDecodedIdentity(ev) {
				return false
			}
			continue
		}
		var v any
		var present bool
		switch f.key {
		case "eventName":
			v, present = ev.Name, ev.Name != ""
		case "eventSource":
			v, present = ev.Source, ev.Source != ""
		case "awsRegion":
			v, present = ev.Region, ev.Region != ""
		case "sourceIPAddress":
			v, present = ev.SourceIP, ev.SourceIP != ""
		case "userAgent":
			v, present = ev.UserAgent, ev.UserAgent != ""
		case "errorCode":
			v, present = ev.ErrorCode, ev.ErrorCode != ""
		case "readOnly":
			v, present = ev.ReadOnly == "true", ev.ReadOnly != ""
		case "vpcEndpointId":
			v, present = ev.VPCEndpointID, ev.VPCEndpointID != ""
		}
		if !f.matchLeaf(v, present) {
			return false
		}
	}
	for _, alts := range p.ors {
		if !slices.ContainsFunc(alts, func(a *Pattern) bool { return a.matchDecoded(ev) }) {
			return false
		}
	}
	return true
}

// matchDecodedIdentity is matchDecoded for the userIdentity object. The
// session's fields come first: ec2RoleDelivery is a comparison, the ARN
// beside it in the instance rules a wildcard.
func (p *Pattern) matchDecodedIdentity(ev *iamwatch.Event) bool {
	for i := range p.fields {
		if f := &p.fields[i]; f.sub != nil && !f.sub.matchDecodedSession(ev) { // sessionContext: decodedOnly allows no other object
			return false
		}
	}
	for i := range p.fields {
		f := &p.fields[i]
		if f.sub != nil {
			continue
		}
		var v string
		switch f.key {
		case "type":
			v = ev.IdentityType
		case "arn":
			v = ev.PrincipalARN
		case "accessKeyId":
			v = ev.AccessKeyID
		}
		if !f.matchLeaf(v, v != "") {
			return false
		}
	}
	return true
}

// matchDecodedSession is matchDecoded for userIdentity's sessionContext.
func (p *Pattern) matchDecodedSession(ev *iamwatch.Event) bool {
	for i := range p.fields {
		f := &p.fields[i]
		var v string
		if f.key == "ec2RoleDelivery" {
			v = ev.EC2RoleDelivery
		}
		if !f.matchLeaf(v, v != "") {
			return false
		}
	}
	return true
}
