package secretsmanager_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/notify/secretsmanager"
)

// The server speaks Secrets Manager's JSON 1.1 protocol to the real SDK client.
func TestLookup(t *testing.T) {
	srv := notifytest.NewServer(t)
	srv.Default = notifytest.Reply{Status: 200, Body: `{"Name":"iamwatch","SecretString":"{\"slack\":\"xoxb-1\",\"n\":3}"}`}
	c := awssm.New(awssm.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "s", ""), BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1})
	r := &notify.Resolver{Lookups: map[string]notify.SecretLookup{"secretsmanager": secretsmanager.Lookup(c)}}
	tests := []struct{ ref, want, wantErr string }{
		{"secretsmanager:iamwatch", `{"slack":"xoxb-1","n":3}`, ""},
		{"secretsmanager:iamwatch#slack", "xoxb-1", ""},
		{"secretsmanager:iamwatch#n", "", `no string key "n"`},
		{"secretsmanager:iamwatch#nope", "", `no string key "nope"`},
	}
	for _, tt := range tests {
		v, err := r.Resolve(context.Background(), tt.ref)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "xoxb") {
				t.Errorf("%s: err = %v", tt.ref, err)
			}
			continue
		}
		if err != nil || v != tt.want {
			t.Errorf("%s = %q, %v", tt.ref, v, err)
		}
	}
	if got := srv.Requests()[0].Header.Get("X-Amz-Target"); got != "secretsmanager.GetSecretValue" {
		t.Errorf("target %q", got)
	}
}
