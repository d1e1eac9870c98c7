package ses

import (
	"context"
	"errors"
	"fmt"
	"net/mail"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/email"
	"github.com/iamwatch/iamwatch/notify/internal/awserr"
)

// Config is the settings of an ses sink.
type Config struct {
	From             string   `yaml:"from"` // a verified identity.
	To               []string `yaml:"to"`
	ConfigurationSet string   `yaml:"configuration_set"`
	Region           string   `yaml:"region"` // default: the AWS configuration's.
}

// Sender is the SES call the sink uses (*sesv2.Client satisfies it).
type Sender interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// Sink sends email through SES. It is safe for concurrent use if its client is.
type Sink struct {
	name   string
	cfg    Config
	client Sender
}

var _ notify.Sink = (*Sink)(nil)

// New returns a sink sending with client.
func New(name string, c Config, client Sender) (*Sink, error) {
	if _, err := mail.ParseAddress(c.From); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if len(c.To) == 0 {
		return nil, errors.New("to is required")
	}
	for _, t := range c.To {
		if _, err := mail.ParseAddress(t); err != nil {
			return nil, fmt.Errorf("to %q: %w", t, err)
		}
	}
	return &Sink{name: name, cfg: c, client: client}, nil
}

// Builder returns the notify.Builder of type "ses"; load gives the AWS
// configuration.
func Builder(load func(ctx context.Context) (aws.Config, error)) notify.Builder {
	return func(ctx context.Context, name string, s notify.Settings, _ notify.Deps) (notify.Sink, error) {
		var c Config
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		cfg, err := load(ctx)
		if err != nil {
			return nil, fmt.Errorf("aws config: %w", err)
		}
		client := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) {
			if c.Region != "" {
				o.Region = c.Region
			}
		})
		return New(name, c, client)
	}
}

// Name returns the sink's name.
func (s *Sink) Name() string { return s.name }

// Send sends one email for alerts.
func (s *Sink) Send(ctx context.Context, alerts []iamwatch.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	c, err := email.Render(alerts)
	if err != nil {
		return notify.Permanent(err)
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.cfg.From),
		Destination:      &types.Destination{ToAddresses: s.cfg.To},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(c.Subject), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(c.Text), Charset: aws.String("UTF-8")},
				Html: &types.Content{Data: aws.String(c.HTML), Charset: aws.String("UTF-8")},
			},
		}},
	}
	if s.cfg.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.cfg.ConfigurationSet)
	}
	if _, err := s.client.SendEmail(ctx, in); err != nil {
		return awserr.Classify("ses: send email", err)
	}
	return nil
}
