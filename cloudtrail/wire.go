package cloudtrail

// wireRecord is the part of a CloudTrail record the normalised event needs,
// as offsets-turned-substrings of one copy of the record (see recordDecoder).
type wireRecord struct {
	eventID, eventTime, eventSource, eventName, eventType, eventCategory string
	awsRegion, sourceIP, userAgent, errorCode, errorMessage              string
	recipientAccountID, readOnly                                         string

	identity    Identity
	hasIdentity bool

	requestParameters, responseElements []byte // nil when absent or null
	serviceEventDetails                 []byte
	insight                             bool // insightDetails present

	roleARN      string // requestParameters.roleArn
	consoleLogin string // responseElements.ConsoleLogin
	mfaUsed      string // additionalEventData.MFAUsed
	signInName   string // additionalEventData.UserName
}

// recordDecoder reads one record. p reads the bytes; s is the same bytes as
// a string, whose substrings become the string fields.
type recordDecoder struct {
	p parser
	s string
	w wireRecord
}

// str returns the value at p.i as text: a string's contents, a number's or a
// boolean's literal, "" for null. Objects and arrays are validated and give
// "": CloudTrail never puts them where iamwatch wants text.
func (d *recordDecoder) str() (string, error) {
	p := &d.p
	switch c := p.peek(); {
	case c == '"':
		s, e, esc, err := p.str()
		if err != nil {
			return "", err
		}
		if esc {
			return string(unescape(p.b[s:e])), nil
		}
		return d.s[s:e], nil
	case c == 'n':
		return "", p.lit("null")
	case c == '{' || c == '[':
		return "", p.skip(1)
	default:
		start := p.i
		if err := p.skip(1); err != nil {
			return "", err
		}
		return d.s[start:p.i], nil
	}
}

// raw reads a value and returns its bytes (capacity-capped so that an append
// cannot write into Raw), or nil for null. If field is not nil and the value
// is an object, field sees its members as in parser.object.
func (d *recordDecoder) raw(depth int, field func(key []byte) error) ([]byte, error) {
	p := &d.p
	start := p.i
	var err error
	switch p.peek() {
	case 'n':
		return nil, p.lit("null")
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
		return nil, err
	}
	return p.b[start:p.i:p.i], nil
}

func (d *recordDecoder) record() error {
	p := &d.p
	w := &d.w
	if err := p.object(0, func(key []byte) (err error) {
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
		case "userIdentity":
			if p.peek() == '{' {
				w.hasIdentity = true
				w.identity = Identity{}
				return d.identity(1, &w.identity)
			}
			w.hasIdentity = false
			return p.skip(1)
		case "requestParameters":
			w.roleARN = ""
			w.requestParameters, err = d.raw(1, func(k []byte) (err error) {
				if string(k) == "roleArn" {
					w.roleARN, err = d.str()
					return err
				}
				return p.skip(2)
			})
		case "responseElements":
			w.consoleLogin = ""
			w.responseElements, err = d.raw(1, func(k []byte) (err error) {
				if string(k) == "ConsoleLogin" {
					w.consoleLogin, err = d.str()
					return err
				}
				return p.skip(2)
			})
		case "additionalEventData":
			w.mfaUsed, w.signInName = "", ""
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
			var v []byte
			v, err = d.raw(1, nil)
			w.insight = v != nil
		default:
			err = p.skip(1)
		}
		return err
	}); err != nil {
		return err
	}
	if p.peek() != 0 {
		return p.errorf("data after the record")
	}
	return nil
}

// identity reads a userIdentity object.
func (d *recordDecoder) identity(depth int, id *Identity) error {
	p := &d.p
	return p.object(depth, func(key []byte) (err error) {
		switch string(key) {
		case "type":
			id.Type, err = d.str()
		case "principalId":
			id.PrincipalID, err = d.str()
		case "arn":
			id.ARN, err = d.str()
		case "accountId":
			id.AccountID, err = d.str()
		case "userName":
			id.UserName, err = d.str()
		case "invokedBy":
			id.InvokedBy, err = d.str()
		case "identityProvider":
			id.IdentityProvider, err = d.str()
		case "credentialId":
			id.CredentialID, err = d.str()
		case "onBehalfOf":
			id.OnBehalfOfUserID, id.IdentityStoreARN = "", ""
			_, err = d.raw(depth+1, func(k []byte) (err error) {
				switch string(k) {
				case "userId":
					id.OnBehalfOfUserID, err = d.str()
				case "identityStoreArn":
					id.IdentityStoreARN, err = d.str()
				default:
					err = p.skip(depth + 2)
				}
				return err
			})
		case "sessionContext":
			_, err = d.raw(depth+1, func(k []byte) (err error) {
				switch string(k) {
				case "sessionIssuer":
					id.Issuer = SessionIssuer{}
					_, err = d.raw(depth+2, func(k []byte) (err error) {
						switch string(k) {
						case "type":
							id.Issuer.Type, err = d.str()
						case "principalId":
							id.Issuer.PrincipalID, err = d.str()
						case "arn":
							id.Issuer.ARN, err = d.str()
						case "accountId":
							id.Issuer.AccountID, err = d.str()
						case "userName":
							id.Issuer.UserName, err = d.str()
						default:
							err = p.skip(depth + 3)
						}
						return err
					})
				case "attributes":
					id.mfaAuthenticated = ""
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

// signInFailed reports a failed sign-in that CloudTrail did not give an
// errorCode: a ConsoleLogin whose responseElements.ConsoleLogin is "Failure",
// or an Identity Center sign-in step (CredentialVerification,
// UserAuthentication, …) whose serviceEventDetails.<eventName> is "Failure".
func (d *recordDecoder) signInFailed() bool {
	w := &d.w
	if w.eventSource != "signin.amazonaws.com" {
		return false
	}
	if w.consoleLogin == "Failure" {
		return true
	}
	if w.serviceEventDetails == nil || w.serviceEventDetails[0] != '{' || w.eventName == "" {
		return false
	}
	var outcome string
	p := parser{b: w.serviceEventDetails}
	err := p.object(0, func(k []byte) error {
		if string(k) == w.eventName && p.peek() == '"' {
			s, e, _, err := p.str()
			outcome = string(p.b[s:e])
			return err
		}
		return p.skip(1)
	})
	return err == nil && outcome == "Failure"
}
