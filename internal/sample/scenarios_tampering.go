package sample

import (
	"fmt"
	"time"
)

// tampering writes the records for logging and monitoring tampering, denied
// attempts at tampering and persistence calls, and identity persistence:
//
//   - day 1: ordinary look-alikes (alice tunes GuardDuty, keeps logs for a
//     year, gets a narrow federation token, adds a contractor to a group);
//   - day 2, during bob's incident: the trail's selectors emptied, its bucket
//     set to expire in a day, GuardDuty, flow logs, DNS logs, a log group,
//     Security Hub and an EventBridge rule removed, a full-access federation
//     token, a Roles Anywhere trust anchor, a SAML provider, a boundary
//     removed, an old policy version restored, an Identity Center user,
//     Bedrock's invocation logging and a guardrail deleted, a notebook's
//     lifecycle script swapped, versioning suspended and two buckets'
//     object versions deleted (ransomware);
//   - day 2 afternoon: carol's credentials try the same kind of calls and are
//     denied; the CI role is throttled (not an attempt);
//   - day 2 evening: password guessing against an Identity Center user.
func (s *scenarios) tampering() {
	g, w, m := s.g, s.g.w, s.main
	mainTrail := "arn:aws:cloudtrail:" + global + ":" + AccountMain + ":trail/" + TrailName
	detector := "6ec5b1f2a0d94c3e8e0d1c2b3a4f5e6d"
	at := func(day, hh, mm, ss int) time.Time { return s.at(day, hh, mm, ss) }
	svc := func(src, name, region string, req Object) call {
		return call{src: src, name: name, region: region, req: req}
	}

	// Day 1: alice's ordinary changes that look like tampering.
	alice := g.session(w.user(AccountMain, "alice"), at(1, 14, 2, 0), officeIPs[1], uaCLI+"guardduty.update-detector", false, true)
	s.put(g.rec(at(1, 14, 2, 10), alice, svc("guardduty.amazonaws.com", "UpdateDetector", m.region,
		Object{{"detectorId", detector}, {"findingPublishingFrequency", "FIFTEEN_MINUTES"}})), ShapeTrail, "negative:guardduty-tampered")
	s.put(g.rec(at(1, 14, 5, 31), alice, svc("logs.amazonaws.com", "PutRetentionPolicy", m.region,
		Object{{"logGroupName", "/aws/cloudtrail/" + TrailName}, {"retentionInDays", 365}})), ShapeTrail, "negative:cloudwatch-monitoring-deleted")
	s.put(g.rec(at(1, 14, 9, 2), alice, svc("sts.amazonaws.com", "GetFederationToken", global,
		Object{{"name", "invoice-reader"}, {"durationSeconds", 3600}, {"policy", policyS3Read}})), ShapeTrail, "federation-token-created")
	s.put(g.rec(at(1, 14, 12, 40), alice, svc("s3.amazonaws.com", "PutBucketLifecycle", m.region,
		Object{{"bucketName", "example-corp-cloudtrail-logs"}, {"lifecycle", ""}, {"LifecycleConfiguration", Object{{"Rule", Object{
			{"ID", "archive-then-expire"}, {"Status", "Enabled"}, {"Filter", Object{{"Prefix", ""}}}, {"Expiration", Object{{"Days", 400}}}}}}}})),
		ShapeTrail, "s3-bucket-policy-changed", "negative:s3-lifecycle-short-expiration")

	// Day 2, 03:40: bob (stolen password, no MFA) blinds the monitoring and
	// plants access, after the changes in day2().
	bob := g.session(w.user(AccountMain, "bob"), at(2, 3, 40, 0), attackerIP, uaFirefoxWin, true, false)
	t := at(2, 3, 40, 12)
	step := func(d time.Duration) time.Time { t = t.Add(d); return t }
	s.put(g.rec(t, bob, svc("cloudtrail.amazonaws.com", "PutEventSelectors", global,
		Object{{"trailName", mainTrail}, {"eventSelectors", []Object{{{"readWriteType", "ReadOnly"}, {"includeManagementEvents", false},
			{"dataResources", []Object{{{"type", "AWS::S3::Object"}, {"values", []string{}}}}}, {"excludeManagementEventSources", []string{}}}}}})),
		ShapeTrail, "cloudtrail-logging-reduced", "negative:cloudtrail-changed")
	s.put(g.rec(step(25*time.Second), bob, svc("s3.amazonaws.com", "PutBucketLifecycle", m.region,
		Object{{"bucketName", "example-corp-cloudtrail-logs"}, {"lifecycle", ""}, {"LifecycleConfiguration", Object{{"Rule", Object{
			{"ID", "cleanup"}, {"Status", "Enabled"}, {"Filter", Object{{"Prefix", ""}}}, {"Expiration", Object{{"Days", 1}}}}}}}})),
		ShapeTrail, "s3-lifecycle-short-expiration", "negative:s3-bucket-policy-changed")
	s.put(g.rec(step(31*time.Second), bob, svc("guardduty.amazonaws.com", "DeleteDetector", m.region, Object{{"detectorId", detector}})),
		ShapeTrail, "guardduty-tampered")
	s.put(g.rec(step(22*time.Second), bob, svc("ec2.amazonaws.com", "DeleteFlowLogs", m.region,
		Object{{"DeleteFlowLogsRequest", Object{{"FlowLogId", Object{{"content", "fl-0c5e2a9d7b3f41e86"}, {"tag", 1}}}}}})),
		ShapeTrail, "network-logging-deleted")
	s.put(g.rec(step(18*time.Second), bob, svc("route53resolver.amazonaws.com", "DeleteResolverQueryLogConfig", m.region,
		Object{{"resolverQueryLogConfigId", "rqlc-5b1e6c0f2a9d4e37"}})), ShapeTrail, "network-logging-deleted")
	s.put(g.rec(step(27*time.Second), bob, svc("logs.amazonaws.com", "DeleteLogGroup", m.region,
		Object{{"logGroupName", "/aws/cloudtrail/" + TrailName}})), ShapeTrail, "cloudwatch-monitoring-deleted")
	s.put(g.rec(step(14*time.Second), bob, svc("securityhub.amazonaws.com", "DisableSecurityHub", m.region, nil)),
		ShapeTrail, "security-service-disabled")
	s.put(g.rec(step(19*time.Second), bob, svc("events.amazonaws.com", "DisableRule", m.region,
		Object{{"name", "iamwatch-identity-events"}})), ShapeTrail, "eventbridge-rule-disabled")
	s.put(g.rec(step(41*time.Second), bob, svc("sts.amazonaws.com", "GetFederationToken", global,
		Object{{"name", "metrics"}, {"durationSeconds", 129600}, {"policy", policyAllowAll}})),
		ShapeTrail, "federation-token-admin", "negative:federation-token-created")
	cert := "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUT2FtcGxlLWNhLWV4YW1wbGUtMDAwMDAwMDAwCgYIKoZIzj0E\n-----END CERTIFICATE-----\n"
	s.put(g.rec(step(36*time.Second), bob, svc("rolesanywhere.amazonaws.com", "CreateTrustAnchor", m.region,
		Object{{"name", "metrics-agents"}, {"enabled", true}, {"source", Object{{"sourceType", "CERTIFICATE_BUNDLE"},
			{"sourceData", Object{{"x509CertificateData", cert}}}}}})), ShapeTrail, "rolesanywhere-trust-changed")
	s.put(g.rec(step(12*time.Second), bob, svc("rolesanywhere.amazonaws.com", "CreateProfile", m.region,
		Object{{"name", "metrics-agents"}, {"enabled", true}, {"durationSeconds", 3600},
			{"roleArns", []string{"arn:aws:iam::" + AccountMain + ":role/gha-deploy"}}})), ShapeTrail, "rolesanywhere-trust-changed")
	s.put(g.rec(step(33*time.Second), bob, iam("CreateSAMLProvider", Object{{"name", "partner-sso"},
		{"sAMLMetadataDocument", `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.net/saml"/>`}},
		Object{{"sAMLProviderArn", "arn:aws:iam::" + AccountMain + ":saml-provider/partner-sso"}})), ShapeTrail, "identity-provider-changed")
	s.put(g.rec(step(21*time.Second), bob, iam("DeleteRolePermissionsBoundary", Object{{"roleName", "gha-deploy"}}, nil)),
		ShapeTrail, "permissions-boundary-removed")
	s.put(g.rec(step(17*time.Second), bob, iam("SetDefaultPolicyVersion",
		Object{{"policyArn", g.policyARN(AccountMain, "ops-everything-but-billing")}, {"versionId", "v1"}}, nil)),
		ShapeTrail, "policy-default-version-set", "negative:iam-policy-changed")
	s.put(g.rec(step(39*time.Second), bob, svc("sso-directory.amazonaws.com", "CreateUser", ssoHomeRegion,
		Object{{"identityStoreId", identityStoreID}, {"userName", "metrics-oncall"}, {"displayName", "Metrics On-call"}, {"passwordMode", "OTP"}, {"active", true}})),
		ShapeTrail, "sso-user-created")
	s.put(g.rec(step(15*time.Second), bob, svc("sso-directory.amazonaws.com", "AddMemberToGroup", ssoHomeRegion,
		Object{{"identityStoreId", identityStoreID}, {"groupId", "c4e8a2d6-1071-7052-93b4-5f0e1d2c3b4a"}, {"member", Object{{"memberId", "a1b2c3d4-e5f6-7081-92a3-b4c5d6e7f809"}}}})),
		ShapeTrail, "sso-directory-changed")
	// Then the account's Bedrock models: nothing records prompts any more,
	// and the support bot's guardrail goes.
	s.put(g.rec(step(44*time.Second), bob, svc("bedrock.amazonaws.com", "DeleteModelInvocationLoggingConfiguration", m.region, nil)),
		ShapeTrail, "bedrock-safeguards-removed")
	s.put(g.rec(step(23*time.Second), bob, svc("bedrock.amazonaws.com", "DeleteGuardrail", m.region,
		Object{{"guardrailIdentifier", "q8w2e5r7t1y4"}})), ShapeTrail, "bedrock-safeguards-removed")
	// Last, the buckets (the trail logs their data events): every version
	// of the invoices listed, then deleted in one DeleteObjects; the
	// exports' versions deleted one by one.
	s3data := func(at time.Time, name, bucket string, req Object, ro bool) Record {
		c := svc("s3.amazonaws.com", name, m.region, append(Object{{"bucketName", bucket}, {"Host", bucket + ".s3." + m.region + ".amazonaws.com"}}, req...))
		c.ro = ro
		r := g.rec(at, bob, c)
		r.ManagementEvent, r.EventCategory = false, "Data"
		return r
	}
	s.put(g.rec(step(12*time.Second), bob, svc("sagemaker.amazonaws.com", "UpdateNotebookInstance", m.region,
		Object{{"notebookInstanceName", "forecast-research"}, {"lifecycleConfigName", "forecast-startup-v2"}})),
		ShapeTrail, "sagemaker-lifecycle-config-changed")
	s.put(g.rec(step(19*time.Second), bob, svc("s3.amazonaws.com", "PutBucketVersioning", m.region,
		Object{{"bucketName", "example-corp-invoices"}, {"Host", "example-corp-invoices.s3." + m.region + ".amazonaws.com"}, {"versioning", ""},
			{"VersioningConfiguration", Object{{"Status", "Suspended"}, {"xmlns", "http://s3.amazonaws.com/doc/2006-03-01/"}}}})),
		ShapeTrail, "s3-versioning-suspended")
	s.put(s3data(step(31*time.Second), "ListObjectVersions", "example-corp-invoices", Object{{"versions", ""}}, true), ShapeTrail, "s3-bucket-emptied")
	s.put(s3data(step(6*time.Second), "DeleteObjects", "example-corp-invoices", Object{{"delete", ""}, {"x-id", "DeleteObjects"}}, false),
		ShapeTrail, "s3-bucket-emptied")
	for i := range 22 {
		s.put(s3data(step(time.Second), "DeleteObject", "example-corp-exports", Object{{"key", fmt.Sprintf("exports/2025-02/ledger-%02d.csv", i+1)},
			{"versionId", g.id.from(mixedAlnum, 32)}, {"x-id", "DeleteObject"}}, false), ShapeTrail, "s3-object-versions-deleted")
	}
	// The contracts are rewritten in place with a key only the intruder
	// holds (SSE-C), as the Codefinger campaign did.
	for i := range 12 {
		key := fmt.Sprintf("signed/2025/contract-%02d.pdf", i+1)
		s.put(s3data(step(2*time.Second), "CopyObject", "example-corp-contracts", Object{{"key", key},
			{"x-amz-copy-source", "example-corp-contracts/" + key}, {"x-amz-server-side-encryption-customer-algorithm", "AES256"},
			{"x-amz-server-side-encryption-customer-key-MD5", "Zm9yLXNhbXBsZS1vbmx5IQ=="}, {"x-id", "CopyObject"}}, false),
			ShapeTrail, "s3-objects-customer-key-encrypted")
	}

	// Day 2, 11:20: the ops engineer opens the console from CLI credentials.
	ops := g.session(w.ssoRole(AccountMain, psAdmin, "erin@example.com"), at(2, 11, 20, 0), officeIPs[2], uaChromeMac, false, true)
	r := g.rec(at(2, 11, 20, 5), ops, call{src: "signin.amazonaws.com", name: "GetSigninToken", evType: "AwsConsoleSignIn",
		resp: Object{{"GetSigninToken", "Success"}}, add: Object{{"MobileVersion", "No"}, {"MFAUsed", "No"}}})
	s.put(r, ShapeTrail, "signin-token-issued")

	// Day 2, 14:10: carol's keys try tampering and persistence calls and are
	// denied; a throttled call by the CI role is not an attempt.
	carol := *w.user(AccountMain, "carol")
	carol.ip, carol.ua = scannerIPs[0], uaCLI+"cloudtrail.stop-logging"
	denied := func(c call) call {
		c.errCode, c.errMsg = "AccessDenied", "User: "+carol.arn()+" is not authorized to perform: "+c.name
		return c
	}
	t = at(2, 14, 10, 3)
	s.put(g.rec(t, &carol, denied(svc("cloudtrail.amazonaws.com", "StopLogging", global, Object{{"name", mainTrail}}))),
		ShapeTrail, "cloudtrail-stop-attempted", "negative:cloudtrail-logging-stopped")
	s.put(g.rec(step(40*time.Second), &carol, denied(svc("organizations.amazonaws.com", "LeaveOrganization", global, nil))),
		ShapeTrail, "tamper-attempt-failed", "negative:organizations-changed")
	s.put(g.rec(step(35*time.Second), &carol, denied(svc("sts.amazonaws.com", "GetFederationToken", global, nil))),
		ShapeTrail, "tamper-attempt-failed", "negative:federation-token-created")
	c := denied(svc("guardduty.amazonaws.com", "DeleteDetector", m.region, Object{{"detectorId", detector}}))
	c.errCode = "AccessDeniedException"
	s.put(g.rec(step(28*time.Second), &carol, c), ShapeTrail, "tamper-attempt-failed", "negative:guardduty-tampered")
	ci := *w.role(AccountMain, "gha-deploy", "/", "deploy-4711")
	ci.ip, ci.ua = ciIPs[0], uaCLI+"cloudtrail.put-event-selectors"
	c = svc("cloudtrail.amazonaws.com", "PutEventSelectors", global, Object{{"trailName", mainTrail}})
	c.errCode, c.errMsg = "ThrottlingException", "Rate exceeded"
	s.put(g.rec(at(2, 16, 30, 0), &ci, c), ShapeTrail, "negative:tamper-attempt-failed")

	// Day 2, 21:05: someone guesses the password of an Identity Center user.
	victim := &actor{kind: kindIdentityCenterUser, account: AccountMain, name: "frank@example.com", userID: w.ssoUserID("frank@example.com")}
	victim = g.session(victim, at(2, 21, 5, 0), scannerIPs[1], uaFirefoxWin, true, false)
	flow := g.id.uuid()
	for i := range 5 {
		r := g.rec(at(2, 21, 5, 0).Add(time.Duration(i)*4*time.Minute), victim, call{src: "signin.amazonaws.com", name: "CredentialVerification",
			region: ssoHomeRegion, evType: "AwsServiceEvent", recipient: AccountMain,
			add:     Object{{"AuthWorkflowID", flow}, {"CredentialType", "PASSWORD"}, {"UserName", "frank@example.com"}},
			details: Object{{"CredentialVerification", "Failure"}}})
		tags := []string{"sso-signin-failed"}
		if i >= 3 {
			tags = []string{"sso-signin-failures"}
		}
		s.put(r, ShapeTrail, tags...)
	}
}
