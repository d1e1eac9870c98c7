package detect

import (
	"encoding/json"
	"strings"
	"testing"
)

const patternRecord = `{
  "eventSource": "iam.amazonaws.com",
  "eventName": "CreateUser",
  "awsRegion": "eu-west-1",
  "sourceIPAddress": "10.1.2.3",
  "userAgent": "Boto3/1.34.10 md/Botocore#1.34.10",
  "readOnly": false,
  "apiVersion": null,
  "eventVersion": "1.09",
  "sessionDuration": 3600,
  "resources": [{"type": "AWS::IAM::User", "ARN": "arn:aws:iam::111122223333:user/bob"}, {"type": "AWS::IAM::Group"}],
  "tags": ["prod", "eu"],
  "emptyList": [],
  "userIdentity": {"type": "IAMUser", "userName": "alice", "sessionContext": {"attributes": {"mfaAuthenticated": "true"}}},
  "additionalEventData": {"MFAUsed": "YES"},
  "ipv6": "2001:db8::17"
}`

func TestPatternOperators(t *testing.T) {
	var rec map[string]any
	if err := json.Unmarshal([]byte(patternRecord), &rec); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		op, pattern string
		want        bool
	}{
		{"exact string", `{eventName: [CreateUser]}`, true},
		{"exact string is case-sensitive", `{eventName: [createuser]}`, false},
		{"array is OR", `{eventName: [DeleteUser, CreateUser]}`, true},
		{"AND of fields", `{eventName: [CreateUser], awsRegion: [us-east-1]}`, false},
		{"missing field", `{errorCode: [AccessDenied]}`, false},
		{"exact number", `{sessionDuration: [3600]}`, true},
		{"exact number as float", `{sessionDuration: [3.6e3]}`, true},
		{"number does not match string", `{eventVersion: [1.09]}`, false},
		{"exact bool", `{readOnly: [false]}`, true},
		{"exact bool mismatch", `{readOnly: [true]}`, false},
		{"exact null", `{apiVersion: [null]}`, true},
		{"null is not empty string", `{apiVersion: [""]}`, false},
		{"nested", `{userIdentity: {type: [IAMUser]}}`, true},
		{"deeply nested", `{userIdentity: {sessionContext: {attributes: {mfaAuthenticated: ["true"]}}}}`, true},
		{"nested mismatch", `{userIdentity: {type: [Root]}}`, false},
		{"array in event: any element", `{tags: [eu]}`, true},
		{"array of objects: any element", `{resources: {type: [AWS::IAM::Group]}}`, true},
		{"array of objects: none", `{resources: {type: [AWS::IAM::Role]}}`, false},
		{"prefix", `{eventName: [{prefix: Create}]}`, true},
		{"prefix mismatch", `{eventName: [{prefix: Delete}]}`, false},
		{"prefix is case-sensitive", `{eventName: [{prefix: create}]}`, false},
		{"prefix equals-ignore-case", `{eventName: [{prefix: {equals-ignore-case: cReAtE}}]}`, true},
		{"suffix", `{eventSource: [{suffix: .amazonaws.com}]}`, true},
		{"suffix mismatch", `{eventSource: [{suffix: .aws}]}`, false},
		{"suffix equals-ignore-case", `{eventSource: [{suffix: {equals-ignore-case: .AMAZONAWS.COM}}]}`, true},
		{"equals-ignore-case", `{additionalEventData: {MFAUsed: [{equals-ignore-case: "yes"}]}}`, true},
		{"equals-ignore-case mismatch", `{additionalEventData: {MFAUsed: [{equals-ignore-case: "no"}]}}`, false},
		{"anything-but value", `{eventName: [{anything-but: DeleteUser}]}`, true},
		{"anything-but value excluded", `{eventName: [{anything-but: CreateUser}]}`, false},
		{"anything-but list", `{eventName: [{anything-but: [DeleteUser, CreateUser]}]}`, false},
		{"anything-but number", `{sessionDuration: [{anything-but: [900, 3600]}]}`, false},
		{"anything-but number other", `{sessionDuration: [{anything-but: 900}]}`, true},
		{"anything-but prefix", `{eventName: [{anything-but: {prefix: Create}}]}`, false},
		{"anything-but prefix other", `{eventName: [{anything-but: {prefix: Get}}]}`, true},
		{"anything-but suffix", `{eventName: [{anything-but: {suffix: User}}]}`, false},
		{"anything-but wildcard", `{eventName: [{anything-but: {wildcard: "Create*"}}]}`, false},
		{"anything-but equals-ignore-case", `{eventName: [{anything-but: {equals-ignore-case: [createUSER]}}]}`, false},
		{"anything-but on absent field", `{errorCode: [{anything-but: AccessDenied}]}`, false},
		{"anything-but never matches null", `{apiVersion: [{anything-but: x}]}`, false},
		{"exists true", `{awsRegion: [{exists: true}]}`, true},
		{"exists true on absent", `{errorCode: [{exists: true}]}`, false},
		{"exists false on absent", `{errorCode: [{exists: false}]}`, true},
		{"exists false on present", `{awsRegion: [{exists: false}]}`, false},
		{"exists false under absent parent", `{requestParameters: {policyArn: [{exists: false}]}}`, true},
		{"empty array counts as absent", `{emptyList: [{exists: false}]}`, true},
		{"wildcard", `{userAgent: [{wildcard: "Boto3/*Botocore*"}]}`, true},
		{"wildcard anchored", `{userAgent: [{wildcard: "Botocore*"}]}`, false},
		{"wildcard escaped star", `{eventName: [{wildcard: "Create\\*"}]}`, false},
		{"cidr", `{sourceIPAddress: [{cidr: 10.0.0.0/8}]}`, true},
		{"cidr mismatch", `{sourceIPAddress: [{cidr: 192.168.0.0/16}]}`, false},
		{"cidr ipv6", `{ipv6: [{cidr: "2001:db8::/32"}]}`, true},
		{"cidr on a non-IP", `{eventName: [{cidr: 10.0.0.0/8}]}`, false},
		{"numeric range", `{sessionDuration: [{numeric: [">", 0, "<=", 3600]}]}`, true},
		{"numeric range exclusive", `{sessionDuration: [{numeric: [">", 0, "<", 3600]}]}`, false},
		{"numeric equals", `{sessionDuration: [{numeric: ["=", 3600]}]}`, true},
		{"numeric on string", `{eventVersion: [{numeric: [">", 0]}]}`, false},
		{"$or first", `{$or: [{eventName: [CreateUser]}, {awsRegion: [us-east-1]}]}`, true},
		{"$or second", `{$or: [{eventName: [DeleteUser]}, {awsRegion: [eu-west-1]}]}`, true},
		{"$or none", `{$or: [{eventName: [DeleteUser]}, {awsRegion: [us-east-1]}]}`, false},
		{"$or nested", `{userIdentity: {$or: [{type: [Root]}, {userName: [alice]}]}}`, true},
		{"mixed operators OR", `{eventName: [{prefix: Delete}, CreateUser]}`, true},
		{"JSON syntax", `{"eventName": ["CreateUser"], "errorCode": [{"exists": false}]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			p, err := CompilePattern([]byte(tt.pattern))
			if err != nil {
				t.Fatalf("compile %s: %v", tt.pattern, err)
			}
			if got := p.Match(rec); got != tt.want {
				t.Errorf("%s: got %v, want %v", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestPatternErrors(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{`{eventName: CreateUser}`, "values must be in a list"},
		{`{eventName: []}`, "must not be empty"},
		{`{eventName: [{prefx: Create}]}`, `unknown operator "prefx"`},
		{`{eventName: [{prefix: 3}]}`, "prefix needs a string"},
		{`{eventName: [{exists: "yes"}]}`, "exists takes true or false"},
		{`{eventName: [{numeric: [">", "a"]}]}`, "is not a number"},
		{`{eventName: [{numeric: [">", 1, ">", 2]}]}`, "two lower bounds"},
		{`{eventName: [{cidr: 10.0.0.0/40}]}`, "cidr"},
		{`{eventName: [{wildcard: "a**b"}]}`, "consecutive wildcards"},
		{`{$or: [{a: [b]}]}`, "at least two patterns"},
		{`{a: {b: [{anything-but: {foo: x}}]}}`, `unknown operator "foo"`},
		{`[a]`, "must be an object"},
	}
	for _, tt := range tests {
		_, err := CompilePattern([]byte(tt.pattern))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.pattern, err, tt.want)
		}
	}
	// Errors carry the line and the path of the operator.
	_, err := CompilePattern([]byte("eventName: [CreateUser]\nuserIdentity:\n  type: [{prefx: Root}]\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3: userIdentity.type") {
		t.Errorf("error %v, want line 3 and the path", err)
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*", "abc", true}, {"*c", "abc", true},
		{"a*c", "ac", true}, {"a*b*c", "aXbYc", true}, {"a*b*c", "acb", false},
		{"a*a", "a", false}, {"abc", "abc", true}, {"abc", "abcd", false},
		{`a\*`, "a*", true}, {`a\*`, "ab", false}, {`a\\b`, `a\b`, true},
	}
	for _, tt := range tests {
		g, err := compileGlob(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.match(tt.s); got != tt.want {
			t.Errorf("glob %q on %q: %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
