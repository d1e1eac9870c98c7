package cloudtrail

import "slices"

// envKind is what a JSON object found in a stream is.
type envKind int

const (
	envUnknown     envKind = iota
	envRecord              // a CloudTrail record
	envEventBridge         // an EventBridge event; inner is its detail
	envLookup              // a LookupEvents event; inner is its CloudTrailEvent, unquoted
	envContainer           // {"Records":[…]}, {"Events":[…]}, {"events":[…]} or {"logEvents":[…]}; inner is the array
	envDigest              // a CloudTrail digest file
	envLogEvent            // a CloudWatch Logs log event; inner is its message, unquoted
	envLogControl          // a CloudWatch Logs subscription's CONTROL_MESSAGE (no log data)
)

// containerKeys are the keys whose array holds records or envelopes:
// a trail file's, a LookupEvents page's, filter-log-events' output's and a
// CloudWatch Logs subscription payload's.
var containerKeys = [...]string{"Records", "Events", "events", "logEvents"}

// isContainerKey reports whether k is one of containerKeys.
func isContainerKey(k string) bool { return slices.Contains(containerKeys[:], k) }

// envelope is a classified object.
type envelope struct {
	kind         envKind
	inner        []byte
	id           string // the envelope's own event ID (EventBridge id, LookupEvents EventId)
	detailType   string
	containerKey string
}

// classify validates the JSON object raw and says what it is, by its keys:
//
//   - "CloudTrailEvent" (a string): a LookupEvents event;
//   - "detail-type" and "detail": an EventBridge event;
//   - "message" (a string) with "timestamp", "ingestionTime" or
//     "logStreamName": a CloudWatch Logs log event;
//   - "Records", "Events", "events" or "logEvents" (an array): a trail
//     file, a LookupEvents page, filter-log-events' output or a CloudWatch
//     Logs subscription payload;
//   - "messageType" "CONTROL_MESSAGE": a subscription's control message;
//   - digestStartTime, digestEndTime or digestPublicKeyFingerprint: a digest file;
//   - eventID, eventTime, eventVersion or userIdentity: a record.
func classify(raw []byte) (envelope, error) {
	var (
		e                               envelope
		p                               = parser{b: raw}
		detail, ctEvent, message        []byte
		list                            []byte // the first container key's array
		ctEsc, msgEsc, hasDetailType    bool
		control                         bool
		recordKeys, digestKeys, logKeys int
	)
	err := p.object(0, func(key []byte) error {
		start := p.i
		switch string(key) {
		case "CloudTrailEvent":
			if p.peek() == '"' {
				s, end, esc, err := p.str()
				ctEvent, ctEsc = raw[s:end], esc
				return err
			}
		case "detail-type":
			hasDetailType = true
			if p.peek() == '"' {
				s, end, esc, err := p.str()
				e.detailType = string(raw[s:end])
				if esc {
					e.detailType = string(unescape(raw[s:end]))
				}
				return err
			}
		case "detail":
			err := p.skip(1)
			detail = raw[start:p.i]
			return err
		case "Records", "Events", "events", "logEvents":
			err := p.skip(1)
			if len(raw) > start && raw[start] == '[' && list == nil {
				list, e.containerKey = raw[start:p.i], string(key)
			}
			return err
		case "message":
			if p.peek() == '"' {
				s, end, esc, err := p.str()
				message, msgEsc = raw[s:end], esc
				return err
			}
		case "timestamp", "ingestionTime", "logStreamName":
			logKeys++
		case "messageType":
			if p.peek() == '"' {
				s, end, _, err := p.str()
				control = string(raw[s:end]) == "CONTROL_MESSAGE"
				return err
			}
		case "id", "EventId", "eventId":
			if p.peek() == '"' {
				s, end, _, err := p.str()
				e.id = string(raw[s:end])
				return err
			}
		case "digestStartTime", "digestEndTime", "digestPublicKeyFingerprint", "digestSignatureAlgorithm":
			digestKeys++
		case "eventID", "eventTime", "eventVersion", "userIdentity", "eventSource":
			recordKeys++
		}
		return p.skip(1)
	})
	if err == nil && p.peek() != 0 {
		err = p.errorf("data after the object")
	}
	if err != nil {
		return envelope{}, err
	}
	switch {
	case ctEvent != nil:
		e.kind = envLookup
		e.inner = ctEvent
		if ctEsc {
			e.inner = unescape(ctEvent)
		}
	case message != nil && logKeys > 0:
		e.kind = envLogEvent
		e.inner = message
		if msgEsc {
			e.inner = unescape(message)
		}
	case hasDetailType && detail != nil:
		e.kind = envEventBridge
		e.inner = detail
	case control: // its logEvents say only that the destination is reachable
		e.kind = envLogControl
	case list != nil:
		e.kind, e.inner = envContainer, list
	case digestKeys > 0:
		e.kind = envDigest
	case recordKeys > 0:
		e.kind = envRecord
	}
	return e, nil
}
