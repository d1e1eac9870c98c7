package cloudtrail

// envKind is what a JSON object found in a stream is.
type envKind int

const (
	envUnknown     envKind = iota
	envRecord              // a CloudTrail record
	envEventBridge         // an EventBridge event; inner is its detail
	envLookup              // a LookupEvents event; inner is its CloudTrailEvent, unquoted
	envContainer           // {"Records":[…]} or {"Events":[…]}; inner is the array
	envDigest              // a CloudTrail digest file
)

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
//   - "Records" or "Events" (an array): a trail file or a LookupEvents page;
//   - digestStartTime, digestEndTime or digestPublicKeyFingerprint: a digest file;
//   - eventID, eventTime, eventVersion or userIdentity: a record.
func classify(raw []byte) (envelope, error) {
	var (
		e                                envelope
		p                                = parser{b: raw}
		detail, records, events, ctEvent []byte
		ctEsc, hasDetailType             bool
		recordKeys, digestKeys           int
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
		case "Records", "Events":
			err := p.skip(1)
			if len(raw) > start && raw[start] == '[' {
				if string(key) == "Records" {
					records = raw[start:p.i]
				} else {
					events = raw[start:p.i]
				}
			}
			return err
		case "id", "EventId":
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
	case hasDetailType && detail != nil:
		e.kind = envEventBridge
		e.inner = detail
	case records != nil:
		e.kind, e.inner, e.containerKey = envContainer, records, "Records"
	case events != nil:
		e.kind, e.inner, e.containerKey = envContainer, events, "Events"
	case digestKeys > 0:
		e.kind = envDigest
	case recordKeys > 0:
		e.kind = envRecord
	}
	return e, nil
}
