package lambda

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
)

// MaxMessageBytes bounds an SQS message body (SQS's own limit is 256 KiB;
// extended clients can go further, which this handler does not follow).
const MaxMessageBytes = 1 << 20

// Object is an S3 object a message points to: a trail log file.
type Object struct {
	Bucket, Key string
}

// Message is what one SQS message body holds, after any SNS envelope is
// removed: either S3 objects to read (an S3 event notification or
// CloudTrail's own SNS notification), CloudTrail data to decode directly
// (EventBridge events forwarded to the queue, records, trail files), or
// nothing to do (an S3 test event).
type Message struct {
	Objects []Object
	Inline  []byte // JSON for cloudtrail.Decode, or nil.
	Ignore  string // why the message carries nothing to do, or "".
}

// Errors of ParseMessage.
var (
	ErrEmptyMessage = errors.New("empty message")
	ErrNotJSON      = errors.New("message is not a JSON object")
	ErrTooLarge     = errors.New("message too large")
)

// ParseMessage reads one SQS message body. It recognises, in this order:
//
//   - an SNS envelope ({"Type":"Notification","Message":"…"}), whose
//     Message is parsed in turn (once: an envelope in an envelope is data);
//   - an S3 test event ({"Event":"s3:TestEvent"}), ignored;
//   - an S3 event notification ({"Records":[{"eventSource":"aws:s3",…}]}),
//     whose object keys are URL-decoded as S3 sends them;
//   - CloudTrail's SNS notification ({"s3Bucket":…,"s3ObjectKey":[…]});
//   - anything else that is a JSON object or array: inline CloudTrail data
//     (an EventBridge event, a record, a {"Records":[…]} file), left for
//     cloudtrail.Decode to judge.
//
// The body is untrusted: errors quote none of it.
func ParseMessage(body []byte) (Message, error) {
	return parseMessage(body, true)
}

func parseMessage(body []byte, unwrap bool) (Message, error) {
	body = bytes.TrimSpace(body)
	switch {
	case len(body) == 0:
		return Message{}, ErrEmptyMessage
	case len(body) > MaxMessageBytes:
		return Message{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(body))
	case body[0] != '{' && body[0] != '[':
		return Message{}, ErrNotJSON
	case body[0] == '[':
		if !json.Valid(body) {
			return Message{}, ErrNotJSON
		}
		return Message{Inline: body}, nil
	}
	var probe struct {
		Type     string `json:"Type"`
		Message  *string
		TopicArn string `json:"TopicArn"`
		Event    string `json:"Event"`
		Records  []struct {
			EventSource string `json:"eventSource"`
			EventName   string `json:"eventName"`
			S3          *struct {
				Bucket struct {
					Name string `json:"name"`
				} `json:"bucket"`
				Object struct {
					Key string `json:"key"`
				} `json:"object"`
			} `json:"s3"`
		} `json:"Records"`
		S3Bucket    string   `json:"s3Bucket"`
		S3ObjectKey []string `json:"s3ObjectKey"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		var ute *json.UnmarshalTypeError
		if !errors.As(err, &ute) {
			return Message{}, ErrNotJSON
		}
		// A field of another type than the probe expects: not one of the
		// notification shapes; cloudtrail.Decode judges it.
		return Message{Inline: body}, nil
	}
	switch {
	case unwrap && probe.Type == "Notification" && probe.Message != nil && probe.TopicArn != "":
		m, err := parseMessage([]byte(*probe.Message), false)
		if err != nil {
			return m, fmt.Errorf("inside SNS notification: %w", err)
		}
		return m, nil
	case probe.Event == "s3:TestEvent":
		return Message{Ignore: "S3 test event"}, nil
	case len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:s3":
		var m Message
		for i, r := range probe.Records {
			if r.EventSource != "aws:s3" || r.S3 == nil || r.S3.Bucket.Name == "" || r.S3.Object.Key == "" {
				return Message{}, fmt.Errorf("S3 notification record %d: no bucket or key", i)
			}
			key, err := url.QueryUnescape(r.S3.Object.Key)
			if err != nil {
				return Message{}, fmt.Errorf("S3 notification record %d: object key: %w", i, err)
			}
			m.Objects = append(m.Objects, Object{Bucket: r.S3.Bucket.Name, Key: key})
		}
		return m, nil
	case probe.S3Bucket != "":
		if len(probe.S3ObjectKey) == 0 {
			return Message{}, errors.New("CloudTrail notification without s3ObjectKey")
		}
		m := Message{Objects: make([]Object, 0, len(probe.S3ObjectKey))}
		for _, k := range probe.S3ObjectKey {
			if k == "" {
				return Message{}, errors.New("CloudTrail notification with an empty s3ObjectKey")
			}
			m.Objects = append(m.Objects, Object{Bucket: probe.S3Bucket, Key: k})
		}
		return m, nil
	}
	return Message{Inline: body}, nil
}
