package topic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/lambda"
	"github.com/iamwatch/iamwatch/notify"
	nsns "github.com/iamwatch/iamwatch/notify/sns"
)

// api is the SNS call the sink makes (the deployment grants exactly it).
type api interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ api = (*sns.Client)(nil)

// Sink publishes alerts to one topic. It is safe for concurrent use if its
// client is.
type Sink struct {
	name   string
	arn    string
	client api
}

var _ notify.Sink = (*Sink)(nil)

// New returns a sink called name publishing to topicARN with client (an
// *sns.Client).
func New(name, topicARN string, client *sns.Client) (*Sink, error) {
	return newSink(name, topicARN, client)
}

func newSink(name, topicARN string, client api) (*Sink, error) {
	if _, err := nsns.New(name, topicARN, nil); err != nil {
		return nil, fmt.Errorf("topic: %w", err)
	}
	if client == nil {
		return nil, errors.New("topic: client is required")
	}
	return &Sink{name: name, arn: topicARN, client: client}, nil
}

// Name returns the sink's name.
func (s *Sink) Name() string { return s.name }

// Send publishes one message for alerts.
func (s *Sink) Send(ctx context.Context, alerts []iamwatch.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	in, err := Input(s.arn, alerts)
	if err != nil {
		return notify.Permanent(err)
	}
	if _, err := s.client.Publish(ctx, in); err != nil {
		return classify(err)
	}
	return nil
}

// Input builds the Publish request: the subject and message attributes of
// the sns sink, and a JSON message structure with the text as "default"
// and "email", the AlertMessage as "lambda" and "sqs".
func Input(topicARN string, alerts []iamwatch.Alert) (*sns.PublishInput, error) {
	in := nsns.Input(topicARN, alerts)
	machine, err := lambda.EncodeAlertMessage(alerts)
	if err != nil {
		return nil, fmt.Errorf("topic: encode alerts: %w", err)
	}
	text := aws.ToString(in.Message)
	body, err := json.Marshal(map[string]string{
		"default": text, "email": text, "email-json": string(machine),
		"lambda": string(machine), "sqs": string(machine), "http": string(machine), "https": string(machine),
	})
	if err != nil {
		return nil, fmt.Errorf("topic: encode message: %w", err)
	}
	in.Message = aws.String(string(body))
	in.MessageStructure = aws.String("json")
	return in, nil
}

// classify marks request errors that a retry cannot fix as permanent.
func classify(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "InvalidParameter", "InvalidParameterValue", "AuthorizationError", "NotFound",
			"KMSDisabled", "KMSNotFound", "KMSInvalidState", "KMSAccessDenied":
			return notify.Permanent(fmt.Errorf("topic: publish: %w", err))
		}
	}
	return notify.Retryable(fmt.Errorf("topic: publish: %w", err), 0)
}
