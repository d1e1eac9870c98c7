package sns

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
)

func TestStructuredInput(t *testing.T) {
	a := notifytest.HostileAlert("<b>*x*</b>\u202e")
	in, err := StructuredInput("arn:aws:sns:us-east-1:111122223333:iamwatch-alerts", []iamwatch.Alert{a})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(in.MessageStructure) != "json" {
		t.Fatalf("MessageStructure = %q", aws.ToString(in.MessageStructure))
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(in.Message)), &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"default", "email", "lambda", "sqs", "http", "https", "email-json"} {
		if body[k] == "" {
			t.Errorf("no %q entry", k)
		}
	}
	if body["default"] != body["email"] || strings.Contains(body["default"], "\u202e") {
		t.Errorf("text entry %q: want the cleaned text for people", body["default"])
	}
	m, err := DecodeAlertMessage([]byte(body["lambda"]))
	if err != nil || len(m.Alerts) != 1 || m.Alerts[0].DedupKey != a.DedupKey {
		t.Errorf("lambda entry = %+v, %v", m, err)
	}
	if len(aws.ToString(in.Subject)) > 99 {
		t.Errorf("subject too long: %q", aws.ToString(in.Subject))
	}
}

type fakeSNS struct{ err error }

func (f fakeSNS) Publish(context.Context, *awssns.PublishInput, ...func(*awssns.Options)) (*awssns.PublishOutput, error) {
	return &awssns.PublishOutput{}, f.err
}

func TestSendClassifies(t *testing.T) {
	for _, tt := range []struct {
		err       error
		permanent bool
	}{
		{nil, false},
		{&smithy.GenericAPIError{Code: "Throttling"}, false},
		{&smithy.GenericAPIError{Code: "AuthorizationError"}, true},
		{&smithy.GenericAPIError{Code: "KMSAccessDenied"}, true},
		{errors.New("connection reset"), false},
	} {
		s, err := NewStructured("alert-topic", "arn:aws:sns:us-east-1:111122223333:t", fakeSNS{tt.err})
		if err != nil {
			t.Fatal(err)
		}
		got := s.Send(t.Context(), []iamwatch.Alert{notifytest.Alert()})
		if (got == nil) != (tt.err == nil) || notify.IsPermanent(got) != tt.permanent {
			t.Errorf("Send with %v = %v (permanent %v), want permanent %v", tt.err, got, notify.IsPermanent(got), tt.permanent)
		}
	}
	if _, err := NewStructured("x", "not-an-arn", fakeSNS{}); err == nil {
		t.Error("NewStructured accepted a bad ARN")
	}
}
