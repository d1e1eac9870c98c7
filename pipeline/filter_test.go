package pipeline_test

import (
	"fmt"
	"strings"
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

// TestDefaultFilterDropsServiceLinkedReads checks that the default policy
// leaves out what a service-linked role reads (AWS Config listing roles)
// and keeps what one changes or assumes, and a role of the same name
// outside the path IAM reserves for service-linked roles.
func TestDefaultFilterDropsServiceLinkedReads(t *testing.T) {
	const rec = `{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEID:%[1]s",` +
		`"arn":"arn:aws:sts::111122223333:assumed-role/%[2]s/%[1]s","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE",` +
		`"sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEID","arn":"arn:aws:iam::111122223333:role/%[3]s%[2]s",` +
		`"accountId":"111122223333","userName":"%[2]s"},"attributes":{"creationDate":"2025-03-04T07:58:00Z","mfaAuthenticated":"false"}},` +
		`"invokedBy":"%[4]s"},"eventTime":"2025-03-04T08:01:12Z","eventSource":"%[5]s","eventName":"%[6]s","awsRegion":"us-east-1",` +
		`"sourceIPAddress":"%[4]s","userAgent":"%[4]s","requestParameters":%[7]s,"responseElements":null,"eventID":"%[8]s",` +
		`"readOnly":%[9]s,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`
	const config, configPath = "AWSServiceRoleForConfig", "aws-service-role/config.amazonaws.com/"
	const sso, ssoPath = "AWSServiceRoleForSSO", "aws-service-role/sso.amazonaws.com/"
	cases := []struct {
		name string
		rec  string
		keep bool
	}{
		{"AWS Config lists roles", fmt.Sprintf(rec, "AWSConfig-Describe", config, configPath, "config.amazonaws.com", "iam.amazonaws.com", "ListRoles", "null", "f1a2b3c4-0001-4d5e-8f90-a1b2c3d4e5f6", "true"), false},
		{"AWS Config reads the password policy", fmt.Sprintf(rec, "AWSConfig-Describe", config, configPath, "config.amazonaws.com", "iam.amazonaws.com", "GetAccountPasswordPolicy", "null", "f1a2b3c4-0002-4d5e-8f90-a1b2c3d4e5f6", "true"), false},
		{"Identity Center creates a role", fmt.Sprintf(rec, "AWS-SSO", sso, ssoPath, "sso.amazonaws.com", "iam.amazonaws.com", "CreateRole", `{"roleName":"AWSReservedSSO_Admin_0123456789abcdef"}`, "f1a2b3c4-0003-4d5e-8f90-a1b2c3d4e5f6", "false"), true},
		{"a service-linked role assumes a role", fmt.Sprintf(rec, "AWSConfig-Describe", config, configPath, "config.amazonaws.com", "sts.amazonaws.com", "AssumeRole", `{"roleArn":"arn:aws:iam::444455556666:role/ConfigAggregator","roleSessionName":"config"}`, "f1a2b3c4-0004-4d5e-8f90-a1b2c3d4e5f6", "true"), true},
		{"a role named like one, outside the path", fmt.Sprintf(rec, "alice", config, "", "", "iam.amazonaws.com", "ListRoles", "null", "f1a2b3c4-0005-4d5e-8f90-a1b2c3d4e5f6", "true"), true},
		{"a read that does not say it is one", strings.Replace(fmt.Sprintf(rec, "AWSConfig-Describe", config, configPath, "config.amazonaws.com", "iam.amazonaws.com", "ListRoles", "null", "f1a2b3c4-0006-4d5e-8f90-a1b2c3d4e5f6", "true"), `"readOnly":true,`, "", 1), true},
	}
	for _, c := range cases {
		ev, err := cloudtrail.DecodeRecord([]byte(c.rec))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, f := range []struct {
			f    pipeline.Filter
			keep bool
		}{
			{pipeline.Filter{Keep: pipeline.KeepIdentity, DropServiceEvents: true}, c.keep},
			{pipeline.Filter{Keep: pipeline.KeepIdentity}, true}, // --keep-service-events
		} {
			if got := f.f.Stores(&ev); got != f.keep {
				t.Errorf("%s: %+v Stores = %v, want %v", c.name, f.f, got, f.keep)
			}
		}
	}
}
