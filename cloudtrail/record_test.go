package cloudtrail

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
)

// TestIdentityGolden decodes one hand-written record per identity kind and
// compares the normalised event with its golden file.
func TestIdentityGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/identity/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := DecodeRecord(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ev.Raw, bytes.TrimSpace(raw)) {
				t.Errorf("Raw is not the record")
			}
			if ev.UserName == "" {
				t.Errorf("empty UserName")
			}
			checkGolden(t, goldenPath(f), toGolden(&ev))
		})
	}
}

// TestIdentityRules states each user-name rule on its own, so that a change
// in one shows which rule broke.
func TestIdentityRules(t *testing.T) {
	tests := []struct {
		file                           string
		user, target, mfa, errCode, ro string
	}{
		{"root-console-login.json", "root", "", "yes", "", "false"},
		{"iam-user-create-access-key.json", "priya", "", "no", "", "false"},
		{"iam-user-name-from-arn.json", "omar", "", "", "", "true"},
		{"assumed-role-attach-policy.json", "deployer/gh-actions-4411", "", "no", "", "false"},
		// A federated console sign-in says MFAUsed "No" whatever the identity
		// provider asked for: mfa_used stays unknown.
		{"sso-role-console-login.json", "li.wei@example.org", "", "", "", "false"},
		{"saml-console-login.json", "ADFS-Developers/maria.silva@example.org", "", "", "", "false"},
		{"assume-role-call.json", "priya", "arn:aws:iam::123456780000:role/break-glass", "", "", "true"},
		{"saml-user-assume-role.json", "maria.gomez@example.org", "arn:aws:iam::210987654321:role/saml-readonly", "", "", "true"},
		{"web-identity-assume-role.json", "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com:repo:example-org/infra:ref:refs/heads/main", "arn:aws:iam::210987654321:role/ci/deployer", "", "", "true"},
		{"federated-user.json", "token-broker/contractor-bob", "", "no", "", "true"},
		{"aws-service.json", "lambda.amazonaws.com", "arn:aws:iam::210987654321:role/service-role/thumbnailer", "", "", "true"},
		{"aws-account.json", "444400001111/AROAZZEXAMPLEPARTNER1:audit-run", "arn:aws:iam::210987654321:role/partner-audit", "", "", "true"},
		{"identity-center-user.json", "94482488-3041-7026-18f3-be45837cd0e4", "", "", "", "true"},
		{"identity-center-sign-in.json", "li.wei@example.org", "", "", "", "false"},
		{"identity-center-sign-in-failure.json", "li.wei", "", "", "Failure", "false"},
		{"hidden-failed-login.json", Hidden, "", "no", "Failure", "false"},
		{"iam-user-failed-login.json", "omar", "", "no", "Failure", "false"},
		{"unknown-assumed-role-arn.json", "li.wei@example.org", "", "", "", "true"},
		{"no-user-identity.json", "kms.amazonaws.com", "", "", "", "false"},
		{"sso-directory-change.json", "li.wei@example.org", "", "yes", "", "false"},
		{"service-event-invoked-by.json", "secretsmanager.amazonaws.com", "", "", "", "false"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata/identity", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ev, err := DecodeRecord(raw)
			if err != nil {
				t.Fatal(err)
			}
			if ev.UserName != tt.user {
				t.Errorf("UserName = %q, want %q", ev.UserName, tt.user)
			}
			if ev.TargetRole != tt.target {
				t.Errorf("TargetRole = %q, want %q", ev.TargetRole, tt.target)
			}
			if ev.MFAUsed != tt.mfa {
				t.Errorf("MFAUsed = %q, want %q", ev.MFAUsed, tt.mfa)
			}
			if ev.ErrorCode != tt.errCode {
				t.Errorf("ErrorCode = %q, want %q", ev.ErrorCode, tt.errCode)
			}
			if ev.ReadOnly != tt.ro {
				t.Errorf("ReadOnly = %q, want %q", ev.ReadOnly, tt.ro)
			}
		})
	}
}

func TestDecodeRecordFields(t *testing.T) {
	base := `{"eventID":"e-1","eventTime":"2025-01-02T03:04:05+02:00","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","userIdentity":{"type":"Root","accountId":"111122223333"}%s}`
	t.Run("time is UTC", func(t *testing.T) {
		ev, err := DecodeRecord([]byte(strings.Replace(base, "%s", "", 1)))
		if err != nil {
			t.Fatal(err)
		}
		if got := ev.Time.Format("2006-01-02T15:04:05Z07:00"); got != "2025-01-02T01:04:05Z" {
			t.Errorf("Time = %s", got)
		}
		if ev.Type != "other" || ev.AccountID != "111122223333" || ev.RequestParameters != nil || ev.ResponseElements != nil {
			t.Errorf("got %+v", ev)
		}
	})
	t.Run("recipientAccountId wins", func(t *testing.T) {
		ev, err := DecodeRecord([]byte(strings.Replace(base, "%s", `,"recipientAccountId":"999988887777","requestParameters":{"a":1}`, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if ev.AccountID != "999988887777" || string(ev.RequestParameters) != `{"a":1}` {
			t.Errorf("got %+v", ev)
		}
	})
	t.Run("raw is a copy", func(t *testing.T) {
		in := []byte(strings.Replace(base, "%s", "", 1))
		ev, err := DecodeRecord(in)
		if err != nil {
			t.Fatal(err)
		}
		for i := range in {
			in[i] = 'x'
		}
		if ev.Raw[0] != '{' || ev.ID != "e-1" {
			t.Errorf("event shares the caller's bytes")
		}
	})
}

func TestDecodeRecordErrors(t *testing.T) {
	tests := []struct {
		name, rec string
		is        error
		mention   string
	}{
		{"not json", `{"eventID":"abc-1","eventTime":`, ErrInvalidJSON, `"abc-1"`},
		{"not an object", `[1,2]`, ErrInvalidJSON, ""},
		{"empty", ``, ErrInvalidJSON, ""},
		{"no eventID", `{"eventTime":"2025-01-01T00:00:00Z"}`, ErrMissingField, "eventID"},
		{"no eventTime", `{"eventID":"abc-2"}`, ErrMissingField, `"abc-2"`},
		{"bad time", `{"eventID":"abc-3","eventTime":"yesterday"}`, ErrBadTime, `"abc-3"`},
		{"time out of range", `{"eventID":"abc-10","eventTime":"0000-01-01T00:00:00+01:00"}`, ErrBadTime, `"abc-10"`},
		{"insight", `{"eventID":"abc-4","eventTime":"2025-01-01T00:00:00Z","eventCategory":"Insight","insightDetails":{"state":"Start"}}`, ErrSkipped, `"abc-4"`},
		{"data after", `{"eventID":"abc-5","eventTime":"2025-01-01T00:00:00Z"} x`, ErrInvalidJSON, `"abc-5"`},
		{"control char", "{\"eventID\":\"abc-6\",\"eventTime\":\"2025-01-01T00:00:00Z\",\"userAgent\":\"a\x01b\"}", ErrInvalidJSON, `"abc-6"`},
		{"bad escape", `{"eventID":"abc-7","eventTime":"2025-01-01T00:00:00Z","userAgent":"\q"}`, ErrInvalidJSON, `"abc-7"`},
		{"bad number", `{"eventID":"abc-8","eventTime":"2025-01-01T00:00:00Z","n":01}`, ErrInvalidJSON, `"abc-8"`},
		{"trailing comma", `{"eventID":"abc-9","eventTime":"2025-01-01T00:00:00Z",}`, ErrInvalidJSON, `"abc-9"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRecord([]byte(tt.rec))
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("err = %v, want it to mention %s", err, tt.mention)
			}
		})
	}
}

// TestLenientShapes: a field of an unexpected JSON type is ignored, not a
// reason to lose the record.
func TestLenientShapes(t *testing.T) {
	ev, err := DecodeRecord([]byte(`{"eventID":"l-1","eventTime":"2025-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","userIdentity":"root","userAgent":{"x":1},"awsRegion":["a"],"requestParameters":"text"}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.UserName != "s3.amazonaws.com" || ev.UserAgent != "" || ev.Region != "" || string(ev.RequestParameters) != `"text"` {
		t.Errorf("got %+v", ev)
	}
	ev, err = DecodeRecord([]byte(`{"eventID":"l-\u0032","event\u0054ime":"2025-01-01T00:00:00Z","userAgent":"a \"quoted\" \ud83d\ude00 agent"}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "l-2" || ev.UserAgent != "a \"quoted\" \U0001F600 agent" {
		t.Errorf("escapes: got ID %q UserAgent %q", ev.ID, ev.UserAgent)
	}
}

func TestMFAAndReadOnlyForms(t *testing.T) {
	tests := []struct{ frag, mfa, ro string }{
		{`"additionalEventData":{"MFAUsed":"Yes"},"readOnly":true`, "yes", "true"},
		{`"additionalEventData":{"MFAUsed":"YES"},"readOnly":"true"`, "yes", "true"},
		{`"additionalEventData":{"MFAUsed":"NO"},"readOnly":false`, "no", "false"},
		{`"additionalEventData":{"MFAUsed":"maybe"}`, "", ""},
		{`"additionalEventData":"odd"`, "", ""},
		{`"userIdentity":{"type":"IAMUser","userName":"a","sessionContext":{"attributes":{"mfaAuthenticated":"true"}}}`, "yes", ""},
		{`"userIdentity":{"type":"IAMUser","userName":"a","sessionContext":{"attributes":{"mfaAuthenticated":false}}}`, "no", ""},
		{`"readOnly":null`, "", ""},
	}
	for _, tt := range tests {
		ev := decodeFragment(t, tt.frag)
		if ev.MFAUsed != tt.mfa || ev.ReadOnly != tt.ro {
			t.Errorf("%s: MFAUsed=%q ReadOnly=%q, want %q %q", tt.frag, ev.MFAUsed, ev.ReadOnly, tt.mfa, tt.ro)
		}
	}
}

// decodeFragment decodes a record of the members frag (JSON members, no
// braces) beside an eventID and an eventTime.
func decodeFragment(t *testing.T, frag string) iamwatch.Event {
	t.Helper()
	ev, err := DecodeRecord([]byte(`{"eventID":"f","eventTime":"2025-01-01T00:00:00Z",` + frag + `}`))
	if err != nil {
		t.Fatalf("%s: %v", frag, err)
	}
	return ev
}

// TestSessionFromConsole: sessionCredentialFromConsole is decoded as the
// record writes it (CloudTrail writes a string; a boolean is kept as its
// literal), and is the session_from_console column.
func TestSessionFromConsole(t *testing.T) {
	tests := []struct{ frag, want string }{
		{`"sessionCredentialFromConsole":"true"`, "true"},
		{`"sessionCredentialFromConsole":true`, "true"},
		{`"sessionCredentialFromConsole":null`, ""},
		{`"requestParameters":{"sessionCredentialFromConsole":"true"}`, ""},
		{`"readOnly":true`, ""},
	}
	for _, tt := range tests {
		ev := decodeFragment(t, tt.frag)
		if col, ok := ev.Column("session_from_console"); ev.SessionFromConsole != tt.want || col != tt.want || !ok {
			t.Errorf("%s: SessionFromConsole=%q, column %q (%v), want %q", tt.frag, ev.SessionFromConsole, col, ok, tt.want)
		}
	}
}

// TestInstanceSessionFields: sessionContext.ec2RoleDelivery and
// vpcEndpointId are decoded where the record writes them, and nowhere else.
func TestInstanceSessionFields(t *testing.T) {
	tests := []struct{ frag, delivery, endpoint string }{
		{`"userIdentity":{"type":"AssumedRole","sessionContext":{"attributes":{"mfaAuthenticated":"false"},"ec2RoleDelivery":"2.0"}},"vpcEndpointId":"vpce-0a1b"`, "2.0", "vpce-0a1b"},
		{`"vpcEndpointId":"vpce-0a1b","userIdentity":{"sessionContext":{"ec2RoleDelivery":"1.0","sessionIssuer":{"type":"Role"}}}`, "1.0", "vpce-0a1b"},
		{`"userIdentity":{"type":"AssumedRole","sessionContext":{"ec2RoleDelivery":null}},"vpcEndpointId":null`, "", ""},
		{`"userIdentity":{"type":"AssumedRole","ec2RoleDelivery":"2.0","sessionContext":{}}`, "", ""},
		{`"requestParameters":{"vpcEndpointId":"vpce-0a1b","sessionContext":{"ec2RoleDelivery":"2.0"}}`, "", ""},
		{`"ec2RoleDelivery":"2.0","userIdentity":{"type":"IAMUser"}`, "", ""},
	}
	for _, tt := range tests {
		ev := decodeFragment(t, tt.frag)
		if ev.EC2RoleDelivery != tt.delivery || ev.VPCEndpointID != tt.endpoint {
			t.Errorf("%s: EC2RoleDelivery=%q VPCEndpointID=%q, want %q %q", tt.frag, ev.EC2RoleDelivery, ev.VPCEndpointID, tt.delivery, tt.endpoint)
		}
	}
}

// TestDataEvent: a record is a data event by its eventCategory, or, in
// records older than that field, by managementEvent.
func TestDataEvent(t *testing.T) {
	for frag, want := range map[string]bool{
		`"eventCategory":"Data","managementEvent":false`:            true,
		`"eventCategory":"NetworkActivity","managementEvent":false`: true,
		`"eventCategory":"Management","managementEvent":true`:       false,
		`"managementEvent":false`:                                   true,
		`"managementEvent":true`:                                    false,
		`"readOnly":true`:                                           false,
		`"requestParameters":{"eventCategory":"Data"}`:              false,
	} {
		ev := decodeFragment(t, frag)
		if ev.DataEvent != want {
			t.Errorf("%s: DataEvent = %v, want %v", frag, ev.DataEvent, want)
		}
	}
}

// TestServiceLinkedRole: a session is a service-linked role's by its
// issuer's path, whatever the role is called.
func TestServiceLinkedRole(t *testing.T) {
	for frag, want := range map[string]bool{
		`"userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"}}}`: true,
		`"userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws-cn:iam::111122223333:role/aws-service-role/sso.amazonaws.com/AWSServiceRoleForSSO"}}}`:    true,
		`"userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/AWSServiceRoleForConfig"}}}`:                                       false,
		`"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForConfig/s","sessionContext":{}}`:                                                            false,
		`"userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/service-role/aws-service-role/x"}}}`:                               false,
		`"userIdentity":{"type":"IAMUser"},"requestParameters":{"arn":"arn:aws:iam::111122223333:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"}`:                                  false,
	} {
		if ev := decodeFragment(t, frag); ev.ServiceLinkedRole != want {
			t.Errorf("%s: ServiceLinkedRole = %v, want %v", frag, ev.ServiceLinkedRole, want)
		}
	}
}

func TestTypeOf(t *testing.T) {
	for src, want := range map[string]string{
		"iam.amazonaws.com": "iam", "sts.amazonaws.com": "sts", "signin.amazonaws.com": "signin",
		"sso.amazonaws.com": "sso", "sso-directory.amazonaws.com": "sso", "identitystore.amazonaws.com": "sso",
		"sso-oauth.amazonaws.com": "sso", "s3.amazonaws.com": "other", "": "other",
	} {
		if got := TypeOf(src); string(got) != want {
			t.Errorf("TypeOf(%q) = %q, want %q", src, got, want)
		}
	}
}

func TestPermissionSet(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:sts::1:assumed-role/AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6071/alice": "AdministratorAccess",
		"AWSReservedSSO_Read_Only_99aa": "Read_Only",
		"deployer":                      "",
	} {
		if got := PermissionSet(in); got != want {
			t.Errorf("PermissionSet(%q) = %q, want %q", in, got, want)
		}
	}
}
