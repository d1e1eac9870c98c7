package sns_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/logging"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/notify/sns"
	"github.com/iamwatch/iamwatch/untrusted/untrustedtest"
)

// awsConfig points the real SDK at the emulator the way AWS_ENDPOINT_URL
// would, with static credentials.
func awsConfig(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// logRetries makes cfg's clients log their retries to t, so that a failure
// shows whether a request was sent twice.
func logRetries(t *testing.T, cfg *aws.Config) {
	cfg.ClientLogMode |= aws.LogRetries
	cfg.Logger = logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		t.Logf("sdk %s: "+format, append([]any{c}, v...)...)
	})
}

// receiveAll receives from queue until it holds want distinct messages or
// 30 one-second polls have passed, deleting each message it keeps. A
// receive whose response is lost (the SDK then retries it) hides its
// messages only for the short visibility timeout, so they come back to a
// later poll instead of staying hidden past the last one.
func receiveAll(t *testing.T, q *sqs.Client, queue string, want int) []sqstypes.Message {
	t.Helper()
	ctx := context.Background()
	u, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(queue)})
	if err != nil {
		t.Fatalf("queue %s: %v", queue, err)
	}
	var out []sqstypes.Message
	seen := map[string]bool{}
	for range 30 {
		r, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: u.QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"},
			WaitTimeSeconds: 1, VisibilityTimeout: 3,
		})
		if err != nil {
			t.Fatalf("receive %s: %v", queue, err)
		}
		for _, m := range r.Messages {
			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: u.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("delete from %s: %v", queue, err)
			}
			if !seen[aws.ToString(m.MessageId)] {
				seen[aws.ToString(m.MessageId)] = true
				out = append(out, m)
			}
		}
		if len(out) >= want {
			break
		}
	}
	return out
}

func TestPublishThroughGoAWS(t *testing.T) {
	g := testserver.StartGoAWS(t, testserver.GoAWSOptions{
		Region: "eu-west-1",
		Topics: []testserver.GoAWSTopic{{Name: "iamwatch-alerts", Subscriptions: []testserver.GoAWSSubscription{
			{QueueName: "raw", Raw: true},
			{QueueName: "envelope"},
			{QueueName: "critical-only", Raw: true, FilterPolicy: `{"severity":["critical"]}`},
		}}},
	})
	cfg := awsConfig(g.Endpoint, g.Region)
	logRetries(t, &cfg)
	build := sns.Builder(func(context.Context) (aws.Config, error) { return cfg, nil })
	sink, err := build(context.Background(), "topic", notify.Settings{"topic_arn": g.TopicARN("iamwatch-alerts")}, notify.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	critical := notifytest.Alert()
	high := notifytest.Alerts(4)[3]
	for _, a := range []iamwatch.Alert{critical, high} {
		if err := sink.Send(context.Background(), []iamwatch.Alert{a}); err != nil {
			t.Fatal(err)
		}
	}
	q := sqs.NewFromConfig(cfg)
	wantText := notify.Format([]iamwatch.Alert{critical})

	raw := receiveAll(t, q, "raw", 2)
	if len(raw) != 2 {
		t.Fatalf("raw queue got %d messages, want 2", len(raw))
	}
	var got *sqstypes.Message
	for i := range raw {
		if v := raw[i].MessageAttributes["severity"]; v.StringValue != nil && *v.StringValue == "critical" {
			got = &raw[i]
		}
	}
	if got == nil {
		t.Fatal("no message with severity=critical")
	}
	if *got.Body != wantText.Text() {
		t.Errorf("body:\n%s\nwant:\n%s", *got.Body, wantText.Text())
	}
	for k, v := range map[string]string{"severity": "critical", "rule": "root-console-login", "account_id": "111122223333"} {
		a, ok := got.MessageAttributes[k]
		if !ok || aws.ToString(a.StringValue) != v || aws.ToString(a.DataType) != "String" {
			t.Errorf("attribute %s = %+v, want String %q", k, a, v)
		}
	}

	env := receiveAll(t, q, "envelope", 2)
	if len(env) != 2 {
		t.Fatalf("envelope queue got %d messages", len(env))
	}
	found := false
	for _, m := range env {
		var n struct {
			Type, TopicArn, Subject, Message string
			// Real SNS writes {"Type": …, "Value": …}; goaws v0.5.4 writes
			// {"DataType": …, "StringValue": …}. Accept either.
			MessageAttributes map[string]struct{ Type, Value, DataType, StringValue string }
		}
		if err := json.Unmarshal([]byte(*m.Body), &n); err != nil {
			t.Fatalf("envelope %s: %v", *m.Body, err)
		}
		if n.Subject == "[CRITICAL] IAM Alert: Root Account Login" {
			found = true
			if n.Type != "Notification" || n.TopicArn != g.TopicARN("iamwatch-alerts") || n.Message != wantText.Text() {
				t.Errorf("notification %+v", n)
			}
			if r := n.MessageAttributes["rule"]; r.Value+r.StringValue != "root-console-login" {
				t.Errorf("envelope attributes %+v", n.MessageAttributes)
			}
		}
	}
	if !found {
		t.Error("no notification with the critical subject")
	}

	filtered := receiveAll(t, q, "critical-only", 1)
	if len(filtered) != 1 || aws.ToString(filtered[0].MessageAttributes["severity"].StringValue) != "critical" {
		t.Errorf("filter policy queue got %d messages, want only the critical one", len(filtered))
	}

	// A digest is one message; its attributes stay filterable.
	if err := sink.Send(context.Background(), notifytest.Alerts(3)); err != nil {
		t.Fatal(err)
	}
	raw = receiveAll(t, q, "raw", 1)
	if len(raw) != 1 || !strings.HasPrefix(*raw[0].Body, "[MEDIUM] IAM Alert digest: 3 alerts by root\n") ||
		aws.ToString(raw[0].MessageAttributes["rule"].StringValue) != "multiple" {
		t.Errorf("digest: %d messages, first %v", len(raw), raw)
	}
}

func TestPublishUnknownTopic(t *testing.T) {
	g := testserver.StartGoAWS(t, testserver.GoAWSOptions{})
	s, err := sns.New("topic", g.TopicARN("missing"), newClient(g))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), []iamwatch.Alert{notifytest.Alert()})
	if err == nil || !notify.IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent error", err)
	}
}

func TestHostileInput(t *testing.T) {
	for _, h := range untrustedtest.Strings {
		t.Run(h.Name, func(t *testing.T) {
			in := sns.Input("arn:aws:sns:us-east-1:111122223333:t", []iamwatch.Alert{notifytest.HostileAlert(h.Value)})
			subj := aws.ToString(in.Subject)
			if len(subj) > 99 || strings.ContainsFunc(subj, func(r rune) bool { return r > 0x7e || r < 0x20 }) {
				t.Errorf("subject %q is not short printable ASCII", subj)
			}
			if strings.ContainsFunc(aws.ToString(in.Message), func(r rune) bool { return r != '\n' && unicode.IsControl(r) }) {
				t.Errorf("control character in message")
			}
			for k, v := range in.MessageAttributes {
				if aws.ToString(v.StringValue) == "" || len(aws.ToString(v.StringValue)) > 1024 {
					t.Errorf("attribute %s = %q", k, aws.ToString(v.StringValue))
				}
			}
		})
	}
}

// A topic_arn that is not an ARN is a configuration error, not a panic
// (config validate builds every sink).
func TestBuildRefusesMalformedTopicARN(t *testing.T) {
	build := sns.Builder(func(context.Context) (aws.Config, error) { return aws.Config{Region: "us-east-1"}, nil })
	for _, arn := range []string{"foo", "arn:aws:sns", "arn:aws:sns::111122223333"} {
		_, err := build(context.Background(), "t", notify.Settings{"topic_arn": arn}, notify.Deps{})
		if err == nil || !strings.Contains(err.Error(), "topic_arn") {
			t.Errorf("topic_arn %q: err %v, want a topic_arn error", arn, err)
		}
	}
}
