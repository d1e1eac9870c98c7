package pipeline_test

import (
	"fmt"
	"testing"

	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/pipeline"
)

// TestDefaultFilterKeepsIdentityCenterSignIns checks the default keep policy
// of scan and run (identity events, service events dropped) on service
// events: those an AWS service made on its own go, the Identity Center
// sign-in steps (eventType AwsServiceEvent, naming the person) stay.
func TestDefaultFilterKeepsIdentityCenterSignIns(t *testing.T) {
	f := pipeline.Filter{Keep: pipeline.KeepIdentity, DropServiceEvents: true}
	const signIn = `{"eventVersion":"1.08","userIdentity":{"type":"Unknown","principalId":"111122223333","arn":"","accountId":"111122223333","accessKeyId":"","userName":"jan.novak"},` +
		`"eventTime":"2025-03-04T08:01:12Z","eventSource":"signin.amazonaws.com","eventName":"%s","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.50",` +
		`"userAgent":"Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0","requestParameters":null,"responseElements":null,` +
		`"additionalEventData":{"AuthWorkflowID":"4c1f7e0a-2b3d-4e5f-8a9b-0c1d2e3f4a5b","CredentialType":"PASSWORD"},"eventID":"%s","readOnly":false,` +
		`"eventType":"AwsServiceEvent","managementEvent":true,"recipientAccountId":"111122223333","serviceEventDetails":{"%[1]s":"Success"},"eventCategory":"Management"}`
	cases := []struct {
		name string
		rec  string
		keep bool
	}{
		{"Identity Center password challenge", fmt.Sprintf(signIn, "CredentialChallenge", "e0a1b2c3-0001-4d5e-8f90-a1b2c3d4e5f6"), true},
		{"Identity Center password verified", fmt.Sprintf(signIn, "CredentialVerification", "e0a1b2c3-0002-4d5e-8f90-a1b2c3d4e5f6"), true},
		{"Identity Center sign-in complete", fmt.Sprintf(signIn, "UserAuthentication", "e0a1b2c3-0003-4d5e-8f90-a1b2c3d4e5f6"), true},
		{"service principal assumes a role", `{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},"eventTime":"2025-03-04T08:01:12Z",` +
			`"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"eu-west-1","sourceIPAddress":"ec2.amazonaws.com","userAgent":"ec2.amazonaws.com",` +
			`"requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/web","roleSessionName":"i-0a1b2c3d4e5f60718"},"responseElements":null,` +
			`"eventID":"e0a1b2c3-0004-4d5e-8f90-a1b2c3d4e5f6","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`, false},
	}
	for _, c := range cases {
		ev, err := cloudtrail.DecodeRecord([]byte(c.rec))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := f.Stores(&ev); got != c.keep {
			t.Errorf("%s: Stores = %v, want %v", c.name, got, c.keep)
		}
	}
}
