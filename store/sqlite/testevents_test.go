package sqlite

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/iamwatch/iamwatch"
)

// testEvents returns n realistic events (IAM, STS, sign-in) starting at
// start, one second apart; ids are prefix-0, prefix-1, …
func testEvents(prefix string, start time.Time, n int) []iamwatch.Event {
	out := make([]iamwatch.Event, n)
	for i := range out {
		out[i] = testEvent(prefix, start, i)
	}
	return out
}

// testEvent is the ith of testEvents(prefix, start, …).
func testEvent(prefix string, start time.Time, i int) iamwatch.Event {
	t := start.Add(time.Duration(i) * time.Second).UTC()
	id := fmt.Sprintf("%s-%08d-3f1c-4d2e-9a7b-1c2d3e4f5a6b", prefix, i)
	user := fmt.Sprintf("user%d", i%50)
	acct := []string{"111122223333", "444455556666"}[i%2]
	e := iamwatch.Event{
		ID: id, Time: t, Category: "AwsApiCall",
		UserName: user, IdentityType: "IAMUser",
		PrincipalARN: "arn:aws:iam::" + acct + ":user/" + user,
		AccountID:    acct, Region: "us-east-1",
		SourceIP:  fmt.Sprintf("203.0.113.%d", i%200),
		UserAgent: "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.ubuntu.22 prompt/off command/iam.create-access-key",
		MFAUsed:   "", ReadOnly: "false",
	}
	switch i % 4 {
	case 0:
		e.Source, e.Name, e.Type = "iam.amazonaws.com", "CreateAccessKey", iamwatch.TypeIAM
		e.RequestParameters = json.RawMessage(`{"userName":"` + user + `"}`)
		e.ResponseElements = json.RawMessage(`{"accessKey":{"userName":"` + user + `","accessKeyId":"AKIAIOSFODNN7EXAMPLE","status":"Active","createDate":"` + t.Format(time.RFC3339) + `"}}`)
	case 1:
		e.Source, e.Name, e.Type = "sts.amazonaws.com", "AssumeRole", iamwatch.TypeSTS
		e.TargetRole = "arn:aws:iam::" + acct + ":role/deploy"
		e.RequestParameters = json.RawMessage(`{"roleArn":"` + e.TargetRole + `","roleSessionName":"s` + fmt.Sprint(i) + `","durationSeconds":3600}`)
		e.ReadOnly = "true"
	case 2:
		e.Source, e.Name, e.Type, e.Category = "signin.amazonaws.com", "ConsoleLogin", iamwatch.TypeSignin, "AwsConsoleSignIn"
		e.MFAUsed = "no"
		e.ResponseElements = json.RawMessage(`{"ConsoleLogin":"Failure"}`)
		e.ErrorCode, e.ErrorMessage = "Failed authentication", "Failed authentication"
	case 3:
		e.Source, e.Name, e.Type = "iam.amazonaws.com", "AttachUserPolicy", iamwatch.TypeIAM
		e.RequestParameters = json.RawMessage(`{"userName":"` + user + `","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`)
		e.ErrorCode, e.ErrorMessage = "AccessDenied", "User: arn:aws:iam::"+acct+":user/"+user+" is not authorized to perform: iam:AttachUserPolicy"
	}
	raw := map[string]any{
		"eventVersion": "1.09", "eventID": id, "eventTime": t.Format(iamwatch.TimeFormat),
		"eventSource": e.Source, "eventName": e.Name, "awsRegion": e.Region,
		"sourceIPAddress": e.SourceIP, "userAgent": e.UserAgent,
		"userIdentity": map[string]any{"type": "IAMUser", "principalId": "AIDAEXAMPLE" + fmt.Sprint(i%50),
			"arn": e.PrincipalARN, "accountId": acct, "accessKeyId": "AKIAEXAMPLE", "userName": user},
		"requestParameters": e.RequestParameters, "responseElements": e.ResponseElements,
		"requestID": fmt.Sprintf("%08x-aaaa-bbbb-cccc-dddddddddddd", i), "eventType": e.Category,
		"readOnly": e.ReadOnly == "true", "managementEvent": true, "recipientAccountId": acct,
		"eventCategory": "Management", "tlsDetails": map[string]any{"tlsVersion": "TLSv1.3",
			"cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": e.Source},
	}
	if e.ErrorCode != "" {
		raw["errorCode"], raw["errorMessage"] = e.ErrorCode, e.ErrorMessage
	}
	e.Raw, _ = json.Marshal(raw)
	return e
}
