package ssm_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/notify/ssm"
)

// The server speaks SSM's JSON 1.1 protocol to the real SDK client.
func TestLookup(t *testing.T) {
	srv := notifytest.NewServer(t,
		notifytest.Reply{Status: 200, Body: `{"Parameter":{"Name":"/iamwatch/slack","Type":"SecureString","Value":"https://hooks.slack.com/services/T/B/x"}}`},
		notifytest.Reply{Status: 400, Header: map[string]string{"Content-Type": "application/x-amz-json-1.1"}, Body: `{"__type":"ParameterNotFound","message":""}`},
	)
	c := awsssm.New(awsssm.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "s", ""), BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1})
	r := &notify.Resolver{Lookups: map[string]notify.SecretLookup{"ssm": ssm.Lookup(c)}}
	v, err := r.Resolve(context.Background(), "ssm:/iamwatch/slack")
	if err != nil || v != "https://hooks.slack.com/services/T/B/x" {
		t.Fatalf("Resolve = %q, %v", v, err)
	}
	req := srv.Requests()[0]
	var in struct {
		Name           string
		WithDecryption bool
	}
	if err := json.Unmarshal(req.Body, &in); err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameter" || in.Name != "/iamwatch/slack" || !in.WithDecryption {
		t.Errorf("request %s %+v", req.Header.Get("X-Amz-Target"), in)
	}
	if _, err := r.Resolve(context.Background(), "ssm:/missing"); err == nil || !strings.Contains(err.Error(), "ParameterNotFound") {
		t.Errorf("missing parameter: %v", err)
	}
}
