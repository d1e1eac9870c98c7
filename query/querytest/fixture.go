// Package querytest holds a small, fixed history (events, alerts and their
// deliveries) that exercises every named query, for the golden tests of the
// query package and of the CLI. Its clock is Now; every event but one (kept
// older, to test time ranges) falls in the seven days before it.
package querytest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
)

// Now is the fixture's "now": Monday 16 March 2026, 12:00 UTC.
func Now() time.Time { return time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC) }

// Accounts of the fixture.
const (
	Prod = "111122223333"
	Dev  = "444455556666"
)

// ev is a compact event description.
type ev struct {
	at, user, idType, acct, src, name, ip, ua, req, resp, errCode, mfa, ro string
}

const (
	cli     = "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.ubuntu.22"
	browser = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
	console = "AWS Internal"
	ssoPS   = "arn:aws:sso:::permissionSet/ssoins-7223a1b0c3d4e5f6/ps-0a1b2c3d4e5f6a7b"
	ssoInst = "arn:aws:sso:::instance/ssoins-7223a1b0c3d4e5f6"
)

func fixtureEvents() []ev {
	long := "Boto3/1.34.0 " + strings.Repeat("md/x#y ", 30) + "end"
	hostile := "curl/8.5.0 \x1b[31mRED\x1b[0m\rspoofed\nline \u202eevil"
	return []ev{
		// Older than the seven-day window.
		{at: "2026-03-01T10:00:00Z", user: "alice", idType: "IAMUser", src: "iam", name: "CreateUser", ip: "192.0.2.10", ua: cli, req: `{"userName":"old-user"}`},

		// Root: a console sign-in at night on Sunday without MFA, then an access key.
		{at: "2026-03-15T03:12:09Z", user: "root", idType: "Root", src: "signin", name: "ConsoleLogin", ip: "198.51.100.7", ua: browser, resp: `{"ConsoleLogin":"Success"}`, mfa: "no"},
		{at: "2026-03-15T03:14:30Z", user: "root", idType: "Root", src: "iam", name: "CreateAccessKey", ip: "198.51.100.7", ua: console, req: `{}`, resp: `{"accessKey":{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","status":"Active"}}`},

		// A burst of failed console sign-ins against alice, one of an unknown name, then her success.
		{at: "2026-03-13T08:00:01Z", user: "alice", idType: "IAMUser", src: "signin", name: "ConsoleLogin", ip: "203.0.113.50", ua: browser, errCode: "Failed authentication", mfa: "no"},
		{at: "2026-03-13T08:00:20Z", user: "alice", idType: "IAMUser", src: "signin", name: "ConsoleLogin", ip: "203.0.113.50", ua: browser, errCode: "Failed authentication", mfa: "no"},
		{at: "2026-03-13T08:00:41Z", user: "alice", idType: "IAMUser", src: "signin", name: "ConsoleLogin", ip: "203.0.113.50", ua: browser, errCode: "Failed authentication", mfa: "no"},
		{at: "2026-03-13T08:01:05Z", user: "alice", idType: "IAMUser", src: "signin", name: "ConsoleLogin", ip: "203.0.113.50", ua: browser, errCode: "Failed authentication", mfa: "no"},
		{at: "2026-03-13T08:01:30Z", user: "HIDDEN_DUE_TO_SECURITY_REASONS", idType: "IAMUser", src: "signin", name: "ConsoleLogin", ip: "203.0.113.50", ua: browser, errCode: "Failed authentication", mfa: "no"},
		{at: "2026-03-13T08:05:00Z", user: "alice", idType: "IAMUser", src: "signin", name: "ConsoleLogin", ip: "192.0.2.10", ua: browser, resp: `{"ConsoleLogin":"Success"}`, mfa: "yes"},

		// alice's IAM changes: a new user made admin, with a key; a role policy; a group deleted.
		{at: "2026-03-13T09:10:00Z", user: "alice", idType: "IAMUser", src: "iam", name: "CreateUser", ip: "192.0.2.10", ua: cli, req: `{"userName":"mallory"}`},
		{at: "2026-03-13T09:10:30Z", user: "alice", idType: "IAMUser", src: "iam", name: "AttachUserPolicy", ip: "192.0.2.10", ua: cli, req: `{"userName":"mallory","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`},
		{at: "2026-03-13T09:11:00Z", user: "alice", idType: "IAMUser", src: "iam", name: "CreateAccessKey", ip: "192.0.2.10", ua: cli, req: `{"userName":"mallory"}`},
		{at: "2026-03-13T09:12:00Z", user: "alice", idType: "IAMUser", src: "iam", name: "ListUsers", ip: "192.0.2.10", ua: cli, ro: "true"},
		{at: "2026-03-14T16:45:00Z", user: "alice", idType: "IAMUser", src: "iam", name: "PutRolePolicy", ip: "192.0.2.11", ua: long, req: `{"roleName":"deploy","policyName":"inline-s3"}`},
		{at: "2026-03-14T23:30:00Z", user: "alice", idType: "IAMUser", src: "iam", name: "DeleteGroup", ip: "192.0.2.11", ua: hostile, req: `{"groupName":"auditors"}`},

		// bob is refused: an API call and an STS call with a bad token.
		{at: "2026-03-12T14:00:00Z", user: "bob", idType: "IAMUser", acct: Dev, src: "iam", name: "AttachUserPolicy", ip: "198.51.100.23", ua: cli, req: `{"userName":"bob","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`, errCode: "AccessDenied"},
		{at: "2026-03-12T14:01:00Z", user: "bob", idType: "IAMUser", acct: Dev, src: "iam", name: "AttachUserPolicy", ip: "198.51.100.23", ua: cli, req: `{"userName":"bob","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`, errCode: "AccessDenied"},
		{at: "2026-03-12T14:02:00Z", user: "bob", idType: "IAMUser", acct: Dev, src: "sts", name: "GetCallerIdentity", ip: "198.51.100.23", ua: cli, errCode: "InvalidClientTokenId", ro: "true"},
		{at: "2026-03-12T14:03:00Z", user: "bob", idType: "IAMUser", acct: Dev, src: "iam", name: "CreateRole", ip: "198.51.100.23", ua: cli, req: `{"roleName":"x"}`, errCode: "EntityAlreadyExists"},

		// Role assumptions: a CI session assuming deploy three times from two IPs, a SAML sign-in.
		{at: "2026-03-10T06:30:00Z", user: "ci/build-42", idType: "AssumedRole", src: "sts", name: "AssumeRole", ip: "10.0.0.5", ua: cli, req: `{"roleArn":"arn:aws:iam::111122223333:role/deploy","roleSessionName":"deploy-1"}`, ro: "true"},
		{at: "2026-03-11T06:30:00Z", user: "ci/build-42", idType: "AssumedRole", src: "sts", name: "AssumeRole", ip: "10.0.0.5", ua: cli, req: `{"roleArn":"arn:aws:iam::111122223333:role/deploy","roleSessionName":"deploy-2"}`, ro: "true"},
		{at: "2026-03-12T06:30:00Z", user: "ci/build-42", idType: "AssumedRole", src: "sts", name: "AssumeRole", ip: "10.0.0.6", ua: cli, req: `{"roleArn":"arn:aws:iam::111122223333:role/deploy","roleSessionName":"deploy-3"}`, ro: "true"},
		{at: "2026-03-12T07:00:00Z", user: "ci/build-42", idType: "AssumedRole", src: "sts", name: "AssumeRole", ip: "10.0.0.6", ua: cli, req: `{"roleArn":"arn:aws:iam::111122223333:role/admin","roleSessionName":"x"}`, errCode: "AccessDenied", ro: "true"},
		{at: "2026-03-11T09:00:00Z", user: "carol@example.com", idType: "SAMLUser", src: "sts", name: "AssumeRoleWithSAML", ip: "192.0.2.44", ua: browser, req: `{"roleArn":"arn:aws:iam::111122223333:role/ReadOnly","principalArn":"arn:aws:iam::111122223333:saml-provider/okta"}`, ro: "true"},

		// Identity Center administration by dana (an SSO session) and a CJK-named operator.
		{at: "2026-03-11T10:00:00Z", user: "dana@example.com", idType: "AssumedRole", src: "sso", name: "CreatePermissionSet", ip: "192.0.2.60", ua: browser, req: `{"instanceArn":"` + ssoInst + `","name":"Admins","sessionDuration":"PT1H"}`, resp: `{"permissionSet":{"name":"Admins","permissionSetArn":"` + ssoPS + `"}}`},
		{at: "2026-03-11T10:01:00Z", user: "dana@example.com", idType: "AssumedRole", src: "sso", name: "AttachManagedPolicyToPermissionSet", ip: "192.0.2.60", ua: browser, req: `{"instanceArn":"` + ssoInst + `","permissionSetArn":"` + ssoPS + `","managedPolicyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`},
		{at: "2026-03-11T10:02:00Z", user: "dana@example.com", idType: "AssumedRole", src: "sso", name: "PutInlinePolicyToPermissionSet", ip: "192.0.2.60", ua: browser, req: `{"instanceArn":"` + ssoInst + `","permissionSetArn":"` + ssoPS + `","inlinePolicy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\": \"*\",\"Resource\":\"*\"}]}"}`},
		{at: "2026-03-11T10:03:00Z", user: "dana@example.com", idType: "AssumedRole", src: "sso", name: "ProvisionPermissionSet", ip: "192.0.2.60", ua: browser, req: `{"instanceArn":"` + ssoInst + `","permissionSetArn":"` + ssoPS + `","targetType":"ALL_PROVISIONED_ACCOUNTS"}`},
		{at: "2026-03-11T10:05:00Z", user: "dana@example.com", idType: "AssumedRole", src: "sso", name: "CreateAccountAssignment", ip: "192.0.2.60", ua: browser, req: `{"instanceArn":"` + ssoInst + `","targetId":"` + Dev + `","targetType":"AWS_ACCOUNT","permissionSetArn":"` + ssoPS + `","principalType":"USER","principalId":"9067a1b2c3-1111-2222-3333-444455556666"}`},
		{at: "2026-03-14T22:40:00Z", user: "dana@example.com", idType: "AssumedRole", src: "sso", name: "DeleteAccountAssignment", ip: "192.0.2.60", ua: browser, req: `{"instanceArn":"` + ssoInst + `","targetId":"` + Dev + `","targetType":"AWS_ACCOUNT","permissionSetArn":"` + ssoPS + `","principalType":"GROUP","principalId":"9067a1b2c3-aaaa-bbbb-cccc-ddddeeeeffff"}`},
		{at: "2026-03-11T10:06:00Z", user: "dana@example.com", idType: "AssumedRole", src: "sso", name: "ListPermissionSets", ip: "192.0.2.60", ua: browser, req: `{"instanceArn":"` + ssoInst + `"}`, ro: "true"},
		{at: "2026-03-12T11:00:00Z", user: "山田太郎", idType: "AssumedRole", src: "sso", name: "CreateApplication", ip: "192.0.2.61", ua: browser, req: `{"instanceArn":"` + ssoInst + `","name":"Payroll","applicationProviderArn":"arn:aws:sso::aws:applicationProvider/custom"}`, resp: `{"applicationArn":"arn:aws:sso::111122223333:application/ssoins-7223a1b0c3d4e5f6/apl-1a2b3c4d5e6f7a8b"}`},
		{at: "2026-03-12T11:30:00Z", user: "山田太郎", idType: "AssumedRole", src: "sso", name: "DeleteApplication", ip: "192.0.2.61", ua: browser, req: `{"applicationArn":"arn:aws:sso::111122223333:application/ssoins-7223a1b0c3d4e5f6/apl-1a2b3c4d5e6f7a8b"}`},
		{at: "2026-03-12T11:40:00Z", user: "山田太郎", idType: "AssumedRole", src: "identitystore", name: "CreateUser", ip: "192.0.2.61", ua: browser, req: `{"identityStoreId":"d-9067a1b2c3","userName":"erin"}`},
		{at: "2026-03-12T11:41:00Z", user: "山田太郎", idType: "AssumedRole", src: "sso", name: "AttachManagedPolicyToPermissionSet", ip: "192.0.2.61", ua: browser, req: `{"instanceArn":"` + ssoInst + `","permissionSetArn":"` + ssoPS + `","managedPolicyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`, errCode: "ConflictException"},
	}
}

var sources = map[string]struct {
	source string
	typ    iamwatch.EventType
}{
	"iam":           {"iam.amazonaws.com", iamwatch.TypeIAM},
	"sts":           {"sts.amazonaws.com", iamwatch.TypeSTS},
	"signin":        {"signin.amazonaws.com", iamwatch.TypeSignin},
	"sso":           {"sso.amazonaws.com", iamwatch.TypeSSO},
	"identitystore": {"identitystore.amazonaws.com", iamwatch.TypeSSO},
}

// Events returns the fixture's events, oldest first. IDs are
// "00000000-0000-4000-8000-0000000000NN" with NN the position.
func Events() []iamwatch.Event {
	var out []iamwatch.Event
	for i, d := range fixtureEvents() {
		t, err := time.Parse(time.RFC3339, d.at)
		if err != nil {
			panic(err)
		}
		acct := d.acct
		if acct == "" {
			acct = Prod
		}
		s := sources[d.src]
		e := iamwatch.Event{
			ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Time: t,
			Source: s.source, Name: d.name, Type: s.typ, Category: "AwsApiCall",
			UserName: d.user, IdentityType: d.idType, AccountID: acct, Region: "us-east-1",
			SourceIP: d.ip, UserAgent: d.ua, ErrorCode: d.errCode, MFAUsed: d.mfa, ReadOnly: d.ro,
		}
		if e.ReadOnly == "" {
			e.ReadOnly = "false"
		}
		if d.src == "signin" {
			e.Category, e.ReadOnly = "AwsConsoleSignIn", ""
			if e.ErrorCode != "" {
				e.ErrorMessage = e.ErrorCode
				d.resp = `{"ConsoleLogin":"Failure"}`
			}
		}
		if e.IdentityType == "Root" {
			e.PrincipalARN = "arn:aws:iam::" + acct + ":root"
		} else {
			e.PrincipalARN = "arn:aws:iam::" + acct + ":user/" + d.user
		}
		if d.req != "" {
			e.RequestParameters = json.RawMessage(d.req)
		}
		if d.resp != "" {
			e.ResponseElements = json.RawMessage(d.resp)
		}
		raw := map[string]any{
			"eventVersion": "1.10", "eventID": e.ID, "eventTime": d.at, "eventSource": e.Source,
			"eventName": e.Name, "awsRegion": e.Region, "sourceIPAddress": e.SourceIP, "userAgent": e.UserAgent,
			"userIdentity":      map[string]any{"type": e.IdentityType, "arn": e.PrincipalARN, "accountId": acct},
			"requestParameters": e.RequestParameters, "responseElements": e.ResponseElements,
			"eventType": e.Category, "recipientAccountId": acct, "managementEvent": true,
		}
		if e.ErrorCode != "" && d.src != "signin" {
			raw["errorCode"] = e.ErrorCode
		}
		if e.MFAUsed != "" {
			raw["additionalEventData"] = map[string]any{"MFAUsed": map[string]string{"yes": "Yes", "no": "No"}[e.MFAUsed]}
		}
		b, err := json.Marshal(raw)
		if err != nil {
			panic(err)
		}
		e.Raw = b
		out = append(out, e)
	}
	return out
}

// Alerts returns the fixture's alerts.
func Alerts() []iamwatch.Alert {
	ev := Events()
	return []iamwatch.Alert{
		{
			DedupKey: "root-console-signin/" + ev[1].ID, Rule: "root-console-signin", Severity: iamwatch.SeverityCritical,
			Title: "Root user signed in to the console", Summary: "root signed in from 198.51.100.7 without MFA",
			Time: ev[1].Time, AccountID: Prod, Region: "us-east-1", UserName: "root", SourceIP: "198.51.100.7",
			EventName: "ConsoleLogin", EventIDs: []string{ev[1].ID},
		},
		{
			DedupKey: "console-signin-failures/203.0.113.50/2026-03-13T08", Rule: "console-signin-failures", Severity: iamwatch.SeverityMedium,
			Title: "Repeated failed console sign-ins", Summary: "5 failed sign-ins from 203.0.113.50 in 2 minutes",
			Time: ev[7].Time, AccountID: Prod, Region: "us-east-1", UserName: "alice", SourceIP: "203.0.113.50",
			EventName: "ConsoleLogin", EventIDs: []string{ev[3].ID, ev[4].ID, ev[5].ID, ev[6].ID, ev[7].ID},
			Group: "203.0.113.50",
		},
		{
			DedupKey: "iam-admin-policy-attached/" + ev[10].ID, Rule: "iam-admin-policy-attached", Severity: iamwatch.SeverityHigh,
			Title: "Administrator policy attached", Summary: "alice attached AdministratorAccess to mallory \x1b[2Jcleared",
			Time: ev[10].Time, AccountID: Prod, Region: "us-east-1", UserName: "alice", SourceIP: "192.0.2.10",
			EventName: "AttachUserPolicy", EventIDs: []string{ev[10].ID},
		},
		{
			DedupKey: "sso-admin-permission-set/" + ev[25].ID, Rule: "sso-admin-permission-set", Severity: iamwatch.SeverityHigh,
			Title: "Administrator policy attached to a permission set", Summary: "dana@example.com attached AdministratorAccess to Admins",
			Time: ev[25].Time, AccountID: Prod, Region: "us-east-1", UserName: "dana@example.com", SourceIP: "192.0.2.60",
			EventName: "AttachManagedPolicyToPermissionSet", EventIDs: []string{ev[25].ID},
		},
		{
			DedupKey: "old/1", Rule: "iam-user-created", Severity: iamwatch.SeverityLow,
			Title: "IAM user created", Summary: "alice created old-user",
			Time: ev[0].Time, AccountID: Prod, Region: "us-east-1", UserName: "alice", SourceIP: "192.0.2.10",
			EventName: "CreateUser", EventIDs: []string{ev[0].ID},
		},
	}
}

// Store is what Load writes to.
type Store interface {
	iamwatch.EventStore
	iamwatch.AlertStore
	iamwatch.Outbox
}

// Load stores the fixture: events, alerts, and deliveries in every state
// (the root alert sent to slack and failed to email, the brute-force alert
// pending to slack).
func Load(ctx context.Context, st Store) error {
	if _, err := st.PutEvents(ctx, Events()); err != nil {
		return fmt.Errorf("querytest: load events: %w", err)
	}
	for _, a := range Alerts() {
		if _, err := iamwatch.ClaimAlert(ctx, st, a); err != nil {
			return fmt.Errorf("querytest: load alerts: %w", err)
		}
	}
	al := Alerts()
	if err := st.Enqueue(ctx, al[0].DedupKey, []string{"slack", "email"}, Now()); err != nil {
		return fmt.Errorf("querytest: load deliveries: %w", err)
	}
	if err := st.Enqueue(ctx, al[1].DedupKey, []string{"slack"}, Now()); err != nil {
		return fmt.Errorf("querytest: load deliveries: %w", err)
	}
	for _, d := range []iamwatch.Delivery{
		{AlertKey: al[0].DedupKey, Severity: al[0].Severity, Sink: "slack", Status: iamwatch.DeliverySent, Attempts: 1, SentAt: Now().Add(-time.Hour)},
		{AlertKey: al[0].DedupKey, Severity: al[0].Severity, Sink: "email", Status: iamwatch.DeliveryFailed, Attempts: 5, LastError: "smtp: 550 mailbox unavailable", NextTry: Now()},
	} {
		if err := st.UpdateDelivery(ctx, d); err != nil {
			return fmt.Errorf("querytest: load deliveries: %w", err)
		}
	}
	return nil
}
