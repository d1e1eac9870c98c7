package sns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/internal/awserr"
	"github.com/iamwatch/iamwatch/untrusted"
)

// MaxSubject is the longest subject sent: SNS wants fewer than 100 characters.
const MaxSubject = 99

// Config is the settings of an sns sink.
type Config struct {
	TopicARN string `yaml:"topic_arn"`
}

// Publisher is the SNS call the sink uses (*sns.Client satisfies it).
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Sink publishes to one topic. It is safe for concurrent use if its client is.
type Sink struct {
	name       string
	topicARN   string
	client     Publisher
	structured bool // MessageStructure=json: text for people, an AlertMessage for machines
}

var _ notify.Sink = (*Sink)(nil)

// New returns a sink publishing to topicARN with client.
func New(name, topicARN string, client Publisher) (*Sink, error) {
	if !strings.HasPrefix(topicARN, "arn:") || strings.Count(topicARN, ":") != 5 {
		return nil, fmt.Errorf("topic_arn %q is not a topic ARN", topicARN)
	}
	return &Sink{name: name, topicARN: topicARN, client: client}, nil
}

// NewStructured returns a sink publishing with MessageStructure=json (see
// StructuredInput): the serverless stack's alert topic, whose subscribers
// are people (e-mail) and machines (the notifier function, SQS queues).
func NewStructured(name, topicARN string, client Publisher) (*Sink, error) {
	s, err := New(name, topicARN, client)
	if err != nil {
		return nil, err
	}
	if client == nil {
		return nil, errors.New("sns: a client is required")
	}
	s.structured = true
	return s, nil
}

// Builder returns the notify.Builder of type "sns": load gives the AWS
// configuration (loaded once, lazily, by the command); the client's region
// is the topic's.
func Builder(load func(ctx context.Context) (aws.Config, error)) notify.Builder {
	return func(ctx context.Context, name string, s notify.Settings, _ notify.Deps) (notify.Sink, error) {
		var c Config
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		if c.TopicARN == "" {
			return nil, errors.New("topic_arn is required")
		}
		cfg, err := load(ctx)
		if err != nil {
			return nil, fmt.Errorf("aws config: %w", err)
		}
		parts := strings.Split(c.TopicARN, ":")
		if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" {
			return nil, fmt.Errorf("topic_arn %q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", c.TopicARN)
		}
		region := parts[3]
		client := sns.NewFromConfig(cfg, func(o *sns.Options) {
			if region != "" {
				o.Region = region
			}
		})
		return New(name, c.TopicARN, client)
	}
}

// Name returns the sink's name.
func (s *Sink) Name() string { return s.name }

// Send publishes one message for alerts.
func (s *Sink) Send(ctx context.Context, alerts []iamwatch.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	in := Input(s.topicARN, alerts)
	if s.structured {
		var err error
		if in, err = StructuredInput(s.topicARN, alerts); err != nil {
			return notify.Permanent(err)
		}
	}
	if _, err := s.client.Publish(ctx, in); err != nil {
		return classify(err)
	}
	return nil
}

// classify marks the request errors a retry cannot fix as permanent, then
// classifies the rest as every AWS sink does.
func classify(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "InvalidParameter", "InvalidParameterValue", "AuthorizationError", "NotFound",
			"KMSDisabled", "KMSNotFound", "KMSInvalidState", "KMSAccessDenied":
			return notify.Permanent(fmt.Errorf("sns: publish: %w", err))
		}
	}
	return awserr.Classify("sns: publish", err)
}

// StructuredInput builds a MessageStructure=json request: Input's subject
// and attributes, the text as "default" and "email", the AlertMessage as
// "lambda", "sqs", "http", "https" and "email-json".
func StructuredInput(topicARN string, alerts []iamwatch.Alert) (*sns.PublishInput, error) {
	in := Input(topicARN, alerts)
	machine, err := EncodeAlertMessage(alerts)
	if err != nil {
		return nil, fmt.Errorf("sns: encode alerts: %w", err)
	}
	text := aws.ToString(in.Message)
	body, err := json.Marshal(map[string]string{
		"default": text, "email": text, "email-json": string(machine),
		"lambda": string(machine), "sqs": string(machine), "http": string(machine), "https": string(machine),
	})
	if err != nil {
		return nil, fmt.Errorf("sns: encode message: %w", err)
	}
	in.Message = aws.String(string(body))
	in.MessageStructure = aws.String("json")
	return in, nil
}

// Input builds the Publish request for alerts.
func Input(topicARN string, alerts []iamwatch.Alert) *sns.PublishInput {
	m := notify.Format(alerts)
	attrs := map[string]types.MessageAttributeValue{
		"severity": str(m.Severity.String()),
	}
	if v := same(alerts, func(a *iamwatch.Alert) string { return a.Rule }); v != "" {
		attrs["rule"] = str(v)
	}
	if v := same(alerts, func(a *iamwatch.Alert) string { return a.AccountID }); v != "" {
		attrs["account_id"] = str(v)
	}
	return &sns.PublishInput{
		TopicArn:          aws.String(topicARN),
		Subject:           aws.String(untrusted.ASCII(m.Subject, MaxSubject)),
		Message:           aws.String(m.Text()),
		MessageAttributes: attrs,
	}
}

// same returns the common value of f over alerts, "multiple" when they
// differ, or "" when it is empty (SNS rejects empty attribute values).
func same(alerts []iamwatch.Alert, f func(*iamwatch.Alert) string) string {
	v := f(&alerts[0])
	for i := range alerts[1:] {
		if f(&alerts[i+1]) != v {
			return "multiple"
		}
	}
	return untrusted.Text(v, 256)
}

func str(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}
