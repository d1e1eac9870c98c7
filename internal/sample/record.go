package sample

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Field is one member of an [Object].
type Field struct {
	Key   string
	Value any
}

// Object is a JSON object whose members keep the order they were written in,
// the way CloudTrail writes them. Values may be nil, string, bool, int,
// int64, float64, Object, []Object, []string, []any or json.RawMessage; any
// other type panics when encoded (a programming error in a generator).
type Object []Field

// Get returns the value of the first member named key, or nil.
func (o Object) Get(key string) any {
	for _, f := range o {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

// MarshalJSON writes the members in order, without HTML escaping.
func (o Object) MarshalJSON() ([]byte, error) { return appendValue(nil, o), nil }

// Record is one CloudTrail record as the generator builds it. The JSON form
// (AppendJSON, MarshalJSON) writes the fields in CloudTrail's own order and
// omits those CloudTrail omits; RequestParameters and ResponseElements are
// written as null when nil, as CloudTrail does.
type Record struct {
	EventVersion        string
	UserIdentity        Object
	EventTime           time.Time // UTC, whole seconds.
	EventSource         string
	EventName           string
	AWSRegion           string
	SourceIPAddress     string
	UserAgent           string
	ErrorCode           string
	ErrorMessage        string
	RequestParameters   Object
	ResponseElements    Object
	AdditionalEventData Object
	RequestID           string
	EventID             string
	ReadOnly            *bool
	Resources           []Object
	EventType           string // AwsApiCall, AwsConsoleSignIn, AwsServiceEvent.
	APIVersion          string
	ManagementEvent     bool
	RecipientAccountID  string
	SharedEventID       string
	VPCEndpointID       string
	ServiceEventDetails Object
	EventCategory       string
	TLSDetails          Object
	SessionFromConsole  bool // sessionCredentialFromConsole: "true"

	// Shape is where the sample writer puts the record; not part of the JSON.
	Shape Shape
	// Tags name the catalog situations the record belongs to (rule ids, or
	// "negative:<rule id>" for look-alikes that must not fire); not part of the JSON.
	Tags []string
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (r *Record) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// AppendJSON appends the compact JSON form of r to b.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"eventVersion":`...)
	b = appendString(b, r.EventVersion)
	b = append(b, `,"userIdentity":`...)
	b = appendValue(b, r.UserIdentity)
	b = append(b, `,"eventTime":`...)
	b = appendString(b, r.EventTime.UTC().Format(timeFormat))
	b = str(b, "eventSource", r.EventSource)
	b = str(b, "eventName", r.EventName)
	b = str(b, "awsRegion", r.AWSRegion)
	b = str(b, "sourceIPAddress", r.SourceIPAddress)
	b = str(b, "userAgent", r.UserAgent)
	if r.ErrorCode != "" {
		b = str(b, "errorCode", r.ErrorCode)
	}
	if r.ErrorMessage != "" {
		b = str(b, "errorMessage", r.ErrorMessage)
	}
	b = append(b, `,"requestParameters":`...)
	b = appendObjectOrNull(b, r.RequestParameters)
	b = append(b, `,"responseElements":`...)
	b = appendObjectOrNull(b, r.ResponseElements)
	if r.AdditionalEventData != nil {
		b = append(b, `,"additionalEventData":`...)
		b = appendValue(b, r.AdditionalEventData)
	}
	if r.RequestID != "" {
		b = str(b, "requestID", r.RequestID)
	}
	if r.EventID != "" {
		b = str(b, "eventID", r.EventID)
	}
	if r.ReadOnly != nil {
		b = append(b, `,"readOnly":`...)
		b = strconv.AppendBool(b, *r.ReadOnly)
	}
	if r.Resources != nil {
		b = append(b, `,"resources":`...)
		b = appendValue(b, r.Resources)
	}
	b = str(b, "eventType", r.EventType)
	if r.APIVersion != "" {
		b = str(b, "apiVersion", r.APIVersion)
	}
	if r.EventCategory != "" {
		b = append(b, `,"managementEvent":`...)
		b = strconv.AppendBool(b, r.ManagementEvent)
	}
	b = str(b, "recipientAccountId", r.RecipientAccountID)
	if r.SharedEventID != "" {
		b = str(b, "sharedEventID", r.SharedEventID)
	}
	if r.VPCEndpointID != "" {
		b = str(b, "vpcEndpointId", r.VPCEndpointID)
	}
	if r.ServiceEventDetails != nil {
		b = append(b, `,"serviceEventDetails":`...)
		b = appendValue(b, r.ServiceEventDetails)
	}
	if r.EventCategory != "" {
		b = str(b, "eventCategory", r.EventCategory)
	}
	if r.TLSDetails != nil {
		b = append(b, `,"tlsDetails":`...)
		b = appendValue(b, r.TLSDetails)
	}
	if r.SessionFromConsole {
		b = append(b, `,"sessionCredentialFromConsole":"true"`...)
	}
	return append(b, '}')
}

// timeFormat is CloudTrail's eventTime format.
const timeFormat = "2006-01-02T15:04:05Z"

func str(b []byte, key, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendObjectOrNull(b []byte, o Object) []byte {
	if o == nil {
		return append(b, "null"...)
	}
	return appendValue(b, o)
}

func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.AppendFloat(b, v, 'f', 1, 64)
		}
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	case Object:
		b = append(b, '{')
		for i, f := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f.Key)
			b = append(b, ':')
			b = appendValue(b, f.Value)
		}
		return append(b, '}')
	case []Object:
		b = append(b, '[')
		for i, o := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, o)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']')
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e)
		}
		return append(b, ']')
	case json.RawMessage:
		return append(b, v...)
	case *Record:
		return v.AppendJSON(b)
	default:
		panic(fmt.Sprintf("sample: cannot encode %T", v))
	}
}

const hexDigits = "0123456789abcdef"

// safeASCII[c] is true for the ASCII bytes a JSON string holds unescaped.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString writes s as a JSON string the way CloudTrail does: no HTML
// escaping, control characters as \u00XX, invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
