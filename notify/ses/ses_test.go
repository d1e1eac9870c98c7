package ses_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/email"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/notify/ses"
)

// No SES emulator exists; the test server speaks SES v2's REST-JSON
// protocol (POST /v2/email/outbound-emails) to the real SDK client.
func client(url string) *sesv2.Client {
	return sesv2.New(sesv2.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1, // the dispatcher retries, not the SDK.
	})
}

func TestSendEmail(t *testing.T) {
	srv := notifytest.NewServer(t, notifytest.Reply{Status: 200, Header: map[string]string{"Content-Type": "application/json"}, Body: `{"MessageId":"0100-abc"}`})
	s, err := ses.New("ses", ses.Config{From: "iamwatch@example.com", To: []string{"sec@example.com"}, ConfigurationSet: "alerts"}, client(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	alerts := []iamwatch.Alert{notifytest.Alert()}
	if err := s.Send(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if r.Method != http.MethodPost || r.Path != "/v2/email/outbound-emails" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		t.Fatalf("request %s %s %v", r.Method, r.Path, r.Header)
	}
	var in struct {
		FromEmailAddress     string
		ConfigurationSetName string
		Destination          struct{ ToAddresses []string }
		Content              struct {
			Simple struct {
				Subject struct{ Data, Charset string }
				Body    struct {
					Text, Html struct{ Data, Charset string }
				}
			}
		}
	}
	if err := json.Unmarshal(r.Body, &in); err != nil {
		t.Fatal(err)
	}
	want, _ := email.Render(alerts)
	simple := in.Content.Simple
	if in.FromEmailAddress != "iamwatch@example.com" || in.ConfigurationSetName != "alerts" || len(in.Destination.ToAddresses) != 1 ||
		simple.Subject.Data != want.Subject || simple.Body.Text.Data != want.Text || simple.Body.Html.Data != want.HTML ||
		simple.Subject.Charset != "UTF-8" {
		t.Errorf("SendEmail input %+v", in)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		code      string
		status    int
		permanent bool
	}{
		{"MessageRejected", 400, true},
		{"NotFoundException", 404, true},
		{"TooManyRequestsException", 429, false},
		{"InternalFailure", 500, false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			srv := notifytest.NewServer(t, notifytest.Reply{Status: tt.status,
				Header: map[string]string{"Content-Type": "application/json", "X-Amzn-ErrorType": tt.code},
				Body:   `{"message":"test failure"}`})
			s, _ := ses.New("ses", ses.Config{From: "a@example.com", To: []string{"b@example.com"}}, client(srv.URL))
			err := s.Send(context.Background(), []iamwatch.Alert{notifytest.Alert()})
			if err == nil || notify.IsPermanent(err) != tt.permanent || !strings.Contains(err.Error(), tt.code) {
				t.Errorf("err = %v, want %s permanent=%v", err, tt.code, tt.permanent)
			}
		})
	}
}
