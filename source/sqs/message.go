package sqs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Kind names the shape of a queue message.
type Kind string

// The message shapes.
const (
	KindS3Event       Kind = "s3-event"               // S3 event notification sent to the queue directly.
	KindS3TestEvent   Kind = "s3-test-event"          // s3:TestEvent, sent when notifications are configured: nothing to read.
	KindEventBridgeS3 Kind = "eventbridge-s3"         // EventBridge "Object Created" event.
	KindCloudTrailSNS Kind = "cloudtrail-sns"         // CloudTrail's delivery notification: s3Bucket, s3ObjectKey[].
	KindEventBridgeCT Kind = "eventbridge-cloudtrail" // a CloudTrail event forwarded by an EventBridge rule.
	KindIgnored       Kind = "ignored"                // a known shape that names nothing to read (other S3 events, other detail types).
)

// Object is an S3 object a message names. Key is decoded (S3 event
// notifications URL-encode it, "+" for a space).
type Object struct {
	Bucket string
	Key    string
	Size   int64 // bytes, or 0 when the message does not say.
}

// Message is what one queue message asks for: objects to read, or
// CloudTrail events carried inline.
type Message struct {
	Kind Kind
	// ViaSNS reports the message was wrapped in an SNS notification.
	ViaSNS  bool
	Objects []Object
	// Inline is CloudTrail content carried in the message itself (an
	// EventBridge event whose detail is a record), for cloudtrail.Decode.
	Inline []byte
}

// ErrUnknownMessage marks a body that is none of the known shapes.
var ErrUnknownMessage = errors.New("unknown message shape")

// MaxMessageBytes is the largest body ParseMessage reads (SQS allows 256 KiB;
// the extended client more, but not for these shapes).
const MaxMessageBytes = 1 << 20

// ParseMessage reads a queue message body: an S3 event notification (direct
// or wrapped by SNS), an EventBridge "Object Created" event, CloudTrail's
// SNS delivery notification (direct or wrapped), or an EventBridge event
// carrying a CloudTrail record. It is a pure function of body.
func ParseMessage(body []byte) (Message, error) {
	if len(body) > MaxMessageBytes {
		return Message{}, fmt.Errorf("sqs: message of %d bytes: too large", len(body))
	}
	return parse(body, false)
}

// envelope holds the fields of every shape; one decode tells them apart.
type envelope struct {
	// SNS notification.
	Type     string  `json:"Type"`
	Message  *string `json:"Message"`
	TopicArn string  `json:"TopicArn"`
	// S3 event notification.
	Records []struct {
		EventSource string `json:"eventSource"`
		EventName   string `json:"eventName"`
		S3          *struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object struct {
				Key  string `json:"key"`
				Size int64  `json:"size"`
			} `json:"object"`
		} `json:"s3"`
	} `json:"Records"`
	Event string `json:"Event"` // "s3:TestEvent"
	// CloudTrail SNS notification.
	S3Bucket    *string  `json:"s3Bucket"`
	S3ObjectKey []string `json:"s3ObjectKey"`
	// EventBridge.
	DetailType *string         `json:"detail-type"`
	Source     string          `json:"source"`
	Detail     json.RawMessage `json:"detail"`
}

func parse(body []byte, viaSNS bool) (Message, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return Message{}, fmt.Errorf("sqs: %w: not a JSON object", ErrUnknownMessage)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Message{}, fmt.Errorf("sqs: %w: %w", ErrUnknownMessage, err)
	}
	m := Message{ViaSNS: viaSNS}
	switch {
	case env.Type == "Notification" && env.Message != nil:
		if viaSNS {
			return Message{}, fmt.Errorf("sqs: %w: SNS notification inside an SNS notification", ErrUnknownMessage)
		}
		return parse([]byte(*env.Message), true)

	case env.Event == "s3:TestEvent":
		m.Kind = KindS3TestEvent
		return m, nil

	case env.S3Bucket != nil:
		m.Kind = KindCloudTrailSNS
		if *env.S3Bucket == "" || len(env.S3ObjectKey) == 0 {
			return Message{}, fmt.Errorf("sqs: CloudTrail notification without bucket or keys")
		}
		for _, k := range env.S3ObjectKey {
			if k == "" {
				return Message{}, fmt.Errorf("sqs: CloudTrail notification with an empty key")
			}
			m.Objects = append(m.Objects, Object{Bucket: *env.S3Bucket, Key: k}) // not URL-encoded.
		}
		return m, nil

	case env.DetailType != nil:
		return parseEventBridge(m, env, body)

	case len(env.Records) > 0 && env.Records[0].S3 != nil:
		m.Kind = KindS3Event
		for i, r := range env.Records {
			if r.S3 == nil || r.EventSource != "aws:s3" {
				return Message{}, fmt.Errorf("sqs: S3 notification record %d: not an S3 event", i)
			}
			if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
				continue
			}
			key, err := decodeKey(r.S3.Object.Key)
			if err != nil {
				return Message{}, fmt.Errorf("sqs: S3 notification record %d: %w", i, err)
			}
			if r.S3.Bucket.Name == "" || key == "" {
				return Message{}, fmt.Errorf("sqs: S3 notification record %d: no bucket or key", i)
			}
			m.Objects = append(m.Objects, Object{Bucket: r.S3.Bucket.Name, Key: key, Size: r.S3.Object.Size})
		}
		if len(m.Objects) == 0 {
			m.Kind = KindIgnored
		}
		return m, nil
	}
	return Message{}, fmt.Errorf("sqs: %w", ErrUnknownMessage)
}

func parseEventBridge(m Message, env envelope, body []byte) (Message, error) {
	dt := *env.DetailType
	switch {
	case env.Source == "aws.s3" && dt == "Object Created":
		var d struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object struct {
				Key  string `json:"key"`
				Size int64  `json:"size"`
			} `json:"object"`
		}
		if err := json.Unmarshal(env.Detail, &d); err != nil {
			return Message{}, fmt.Errorf("sqs: EventBridge Object Created detail: %w", err)
		}
		key, err := decodeKey(d.Object.Key)
		if err != nil {
			return Message{}, fmt.Errorf("sqs: EventBridge Object Created: %w", err)
		}
		if d.Bucket.Name == "" || key == "" {
			return Message{}, fmt.Errorf("sqs: EventBridge Object Created without bucket or key")
		}
		m.Kind = KindEventBridgeS3
		m.Objects = []Object{{Bucket: d.Bucket.Name, Key: key, Size: d.Object.Size}}
		return m, nil
	case strings.HasSuffix(dt, "via CloudTrail"):
		// "AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail",
		// "AWS Service Event via CloudTrail": the detail is the record.
		if len(env.Detail) == 0 || env.Detail[0] != '{' {
			return Message{}, fmt.Errorf("sqs: EventBridge %q without a detail object", dt)
		}
		m.Kind = KindEventBridgeCT
		m.Inline = body
		return m, nil
	}
	m.Kind = KindIgnored
	return m, nil
}

// decodeKey undoes the URL encoding of S3 notifications: %XX escapes and
// "+" for a space.
func decodeKey(k string) (string, error) {
	d, err := url.QueryUnescape(k)
	if err != nil {
		return "", fmt.Errorf("object key %q: %w", k, err)
	}
	return d, nil
}
