package sample

import (
	"time"
)

// scenarios writes the situations the detection catalog needs, as a story
// over three days:
//
//   - day 1: ordinary administration that still deserves alerts (a root
//     sign-in with MFA, a contractor user, a vendor role, Identity Center
//     changes, network changes in the dev account), with look-alikes that
//     must not alert;
//   - day 2: an incident — unknown user names sprayed at the sign-in page at
//     night, a burst of failed sign-ins for carol, then bob's password used
//     without MFA from an unknown address: backdoor user, admin policy,
//     access key, wildcard inline policy, open trust policy, MFA removed,
//     logging stopped, a KMS key scheduled for deletion, a bucket opened;
//     a leaked CI key probing and failing; root signing in to the dev
//     account without MFA at night;
//   - day 3: the response — keys deactivated, policies detached, logging
//     restarted, Identity Center and Organizations changes.
//
// Every record carries Tags naming the rule ids it should fire, and
// "negative:<id>" for look-alikes that must not.
type scenarios struct {
	g         *gen
	start     time.Time // midnight UTC of day 1.
	main, dev *inventory
	emit      func(Record)

	// Set by earlier scenarios, used by later ones.
	permissionSet, appARN, backdoorKey string
}

func (s *scenarios) at(day int, hh, mm, ss int) time.Time {
	return s.start.AddDate(0, 0, day-1).Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute + time.Duration(ss)*time.Second)
}

func (s *scenarios) put(r Record, shape Shape, tags ...string) {
	r.Shape, r.Tags = shape, tags
	s.emit(r)
}

func (s *scenarios) run() {
	s.day1()
	s.day2()
	s.day3()
	// The attack catalog's scenarios, each in a file of its own (they may
	// place records on any of the three days).
	s.tampering()
	s.backdoors()
	s.credentialAccess()
	s.baselines()
	s.travel()
	s.instanceCredentials()
	s.spray()
}

// iam is an IAM call (global, us-east-1).
func iam(name string, req, resp Object) call {
	return call{src: "iam.amazonaws.com", name: name, req: req, resp: resp}
}

func (s *scenarios) day1() {
	g, w, m := s.g, s.g.w, s.main

	// 08:55 root signs in to the management account with MFA, sets the
	// security contact, looks at the account summary.
	root := g.session(&actor{kind: kindRoot, account: AccountMain}, s.at(1, 8, 55, 12), officeIPs[0], uaChromeMac, true, true)
	s.put(g.consoleLogin(s.at(1, 8, 55, 12), root, true, "Yes", ""), ShapeEventBridgeArray, "root-console-signin")
	s.put(g.rec(s.at(1, 8, 56, 40), root, iam("GetAccountSummary", nil, nil)), ShapeEventBridgeArray, "root-api-activity")
	hidden := "HIDDEN_DUE_TO_SECURITY_REASONS"
	r := g.rec(s.at(1, 8, 58, 3), root, call{src: "account.amazonaws.com", name: "PutAlternateContact",
		req: Object{{"alternateContactType", "SECURITY"}, {"emailAddress", hidden}, {"name", hidden}, {"phoneNumber", hidden}, {"title", hidden}}})
	s.put(r, ShapeTrail, "root-api-activity")
	// A root call a service made on root's behalf: not root activity.
	rs := *root
	r = g.rec(s.at(1, 8, 58, 30), &rs, call{src: "support.amazonaws.com", name: "DescribeTrustedAdvisorChecks", ro: true, req: Object{{"language", "en"}}})
	r.UserIdentity = append(r.UserIdentity, Field{"invokedBy", "support.amazonaws.com"})
	r.SourceIPAddress, r.UserAgent, r.TLSDetails, r.SessionFromConsole = "support.amazonaws.com", "support.amazonaws.com", nil, false
	s.put(r, ShapeTrail, "negative:root-api-activity")

	// 09:20 alice (console, MFA) onboards a contractor.
	alice := g.session(w.user(AccountMain, "alice"), s.at(1, 9, 18, 0), officeIPs[1], uaChromeMac, true, true)
	s.put(g.consoleLogin(s.at(1, 9, 18, 0), alice, true, "Yes", ""), ShapeTrail, "negative:console-signin-without-mfa")
	t := s.at(1, 9, 20, 31)
	contractor := w.user(AccountMain, "temp-contractor")
	s.put(g.rec(t, alice, iam("CreateUser",
		Object{{"userName", "temp-contractor"}, {"tags", []Object{{{"key", "owner"}, {"value", "alice"}}, {{"key", "expires"}, {"value", "2025-04-30"}}}}},
		Object{{"user", Object{{"path", "/"}, {"userName", "temp-contractor"}, {"userId", contractor.id}, {"arn", contractor.arn()}, {"createDate", iamDate(t)}, {"tags", []Object{{{"key", "owner"}, {"value", "alice"}}, {{"key", "expires"}, {"value", "2025-04-30"}}}}}}})),
		ShapeTrail, "iam-user-created")
	t = t.Add(48 * time.Second)
	s.put(g.rec(t, alice, iam("CreateLoginProfile", Object{{"userName", "temp-contractor"}, {"passwordResetRequired", true}},
		Object{{"loginProfile", Object{{"userName", "temp-contractor"}, {"createDate", iamDate(t)}, {"passwordResetRequired", true}}}})),
		ShapeTrail, "login-profile-changed")
	t = t.Add(35 * time.Second)
	s.put(g.rec(t, alice, iam("AttachUserPolicy", Object{{"userName", "temp-contractor"}, {"policyArn", g.policyARN("aws", "ReadOnlyAccess")}}, nil)),
		ShapeTrail, "iam-policy-changed", "negative:admin-policy-attached")
	t = t.Add(20 * time.Second)
	s.put(g.rec(t, alice, iam("AddUserToGroup", Object{{"groupName", "contractors"}, {"userName", "temp-contractor"}}, nil)), ShapeTrail, "iam-user-added-to-group")
	t = t.Add(64 * time.Second)
	s.put(g.rec(t, alice, iam("CreateAccessKey", Object{{"userName", "temp-contractor"}},
		Object{{"accessKey", Object{{"userName", "temp-contractor"}, {"accessKeyId", g.id.iamID("AKIA")}, {"status", "Active"}, {"createDate", iamDate(t)}}}})),
		ShapeTrail, "access-key-created")
	t = s.at(1, 11, 2, 9)
	s.put(g.rec(t, alice, iam("PutUserPolicy", Object{{"userName", "temp-contractor"}, {"policyName", "invoices-read"}, {"policyDocument", policyS3Read}}, nil)),
		ShapeTrail, "iam-policy-changed", "negative:dangerous-inline-policy")

	// 10:05 a role for the CSPM vendor (external account, with ExternalId),
	// and a Lambda role trusting only this account.
	t = s.at(1, 10, 5, 44)
	vendor := w.role(AccountMain, "vendor-readonly", "/", "")
	s.put(g.rec(t, alice, iam("CreateRole",
		Object{{"roleName", "vendor-readonly"}, {"description", "CSPM vendor read-only access"}, {"assumeRolePolicyDocument", trustExternal}, {"maxSessionDuration", 3600}},
		Object{{"role", Object{{"path", "/"}, {"roleName", "vendor-readonly"}, {"roleId", vendor.id}, {"arn", vendor.roleARN()}, {"createDate", iamDate(t)}, {"assumeRolePolicyDocument", urlEncode(trustExternal)}}}})),
		ShapeTrail, "role-trust-policy-external")
	t = t.Add(40 * time.Second)
	s.put(g.rec(t, alice, iam("AttachRolePolicy", Object{{"roleName", "vendor-readonly"}, {"policyArn", g.policyARN("aws", "SecurityAudit")}}, nil)),
		ShapeTrail, "iam-policy-changed", "negative:admin-policy-attached")
	t = s.at(1, 10, 31, 2)
	lr := w.role(AccountMain, "reports-lambda-role", "/", "")
	s.put(g.rec(t, alice, iam("CreateRole",
		Object{{"roleName", "reports-lambda-role"}, {"assumeRolePolicyDocument", trustSameAcct}},
		Object{{"role", Object{{"path", "/"}, {"roleName", "reports-lambda-role"}, {"roleId", lr.id}, {"arn", lr.roleARN()}, {"createDate", iamDate(t)}, {"assumeRolePolicyDocument", urlEncode(trustSameAcct)}}}})),
		ShapeTrail, "negative:role-trust-policy-external")

	// carol, without IAM rights, tries to make herself a user: denied.
	carol := *w.user(AccountMain, "carol")
	carol.ip, carol.ua = vpnIPs[1], uaCLI+"iam.create-user"
	r = g.rec(s.at(1, 11, 40, 18), &carol, iam("CreateUser", Object{{"userName", "carol-admin"}}, nil))
	r.ErrorCode, r.ErrorMessage = "AccessDenied", "User: "+carol.arn()+" is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::"+AccountMain+":user/carol-admin because no identity-based policy allows the iam:CreateUser action"
	s.put(r, ShapeTrail, "negative:iam-user-created", "tamper-attempt-failed")

	// A read-only SSO user clicking around and hitting a few denials: fewer
	// than the unauthorized-api-calls threshold.
	ro := g.session(w.ssoRole(AccountMain, psReadOnly, "grace@example.com"), s.at(1, 12, 10, 0), homeIPs[0], uaSafariMac, true, false)
	for i, c := range []call{
		{src: "secretsmanager.amazonaws.com", name: "GetSecretValue", region: m.region, ro: true, req: Object{{"secretId", m.secrets[0]}}, errCode: "AccessDenied"},
		{src: "ssm.amazonaws.com", name: "GetParameter", region: m.region, ro: true, req: Object{{"name", m.params[0]}, {"withDecryption", true}}, errCode: "AccessDenied"},
		{src: "kms.amazonaws.com", name: "Decrypt", region: m.region, ro: true, req: Object{{"encryptionAlgorithm", "SYMMETRIC_DEFAULT"}}, errCode: "AccessDenied"},
		{src: "ce.amazonaws.com", name: "GetCostAndUsage", ro: true, req: Object{{"granularity", "MONTHLY"}}, errCode: "AccessDenied"},
	} {
		c.errMsg = "User: " + ro.arn() + " is not authorized to perform this operation because no identity-based policy allows it"
		s.put(g.rec(s.at(1, 12, 11+i, 5), ro, c), ShapeTrail, "negative:unauthorized-api-calls")
	}

	// 14:00 dave writes an "everything but billing" policy with NotAction.
	dave := g.session(w.user(AccountMain, "dave"), s.at(1, 13, 58, 0), officeIPs[2], uaFirefoxWin, true, true)
	s.put(g.consoleLogin(s.at(1, 13, 58, 0), dave, true, "Yes", ""), ShapeTrail)
	t = s.at(1, 14, 1, 27)
	pol := "ops-everything-but-billing"
	s.put(g.rec(t, dave, iam("CreatePolicy",
		Object{{"policyName", pol}, {"policyDocument", policyNotAction}, {"description", "Ops team: all services except billing"}},
		Object{{"policy", Object{{"policyName", pol}, {"policyId", g.id.iamID("ANPA")}, {"arn", g.policyARN(AccountMain, pol)}, {"path", "/"}, {"defaultVersionId", "v1"}, {"attachmentCount", 0}, {"permissionsBoundaryUsageCount", 0}, {"isAttachable", true}, {"createDate", iamDate(t)}, {"updateDate", iamDate(t)}}}})),
		ShapeTrail, "dangerous-inline-policy", "iam-policy-changed")

	// 15:00 erin (Identity Center admin) creates a permission set for incident response.
	s.identityCenterDay1()

	// 17:00 ivan rebuilds the dev network by hand.
	s.devNetwork()
}

func (s *scenarios) identityCenterDay1() {
	g, w := s.g, s.g.w
	erin := g.session(w.ssoRole(AccountMain, psAdmin, "erin@example.com"), s.at(1, 14, 58, 0), officeIPs[0], uaChromeMac, true, false)
	s.put(g.consoleLogin(s.at(1, 14, 58, 0), erin, true, "No", ""), ShapeEventBridgeLines, "negative:console-signin-without-mfa")
	instance := "arn:aws:sso:::instance/" + ssoInstanceID
	ps := "arn:aws:sso:::permissionSet/" + ssoInstanceID + "/ps-" + g.id.hex(16)
	sso := func(name string, req, resp Object) call {
		return call{src: "sso.amazonaws.com", name: name, region: ssoHomeRegion, req: req, resp: resp}
	}
	t := s.at(1, 15, 2, 11)
	r := g.rec(t, erin, sso("CreatePermissionSet",
		Object{{"instanceArn", instance}, {"name", "IncidentResponder"}, {"description", "Break-glass access for the incident response team"}, {"sessionDuration", "PT4H"}},
		Object{{"permissionSet", Object{{"name", "IncidentResponder"}, {"permissionSetArn", ps}, {"description", "Break-glass access for the incident response team"}, {"createdDate", stsDate(t)}, {"sessionDuration", "PT4H"}}}}))
	s.put(r, ShapeEventBridgeLines, "sso-permission-set-created")
	// Identity Center events are also in the management account's trail:
	// the same record, delivered twice.
	s.put(r, ShapeTrail, "sso-permission-set-created", "duplicate")
	t = t.Add(74 * time.Second)
	s.put(g.rec(t, erin, sso("PutInlinePolicyToPermissionSet",
		Object{{"instanceArn", instance}, {"permissionSetArn", ps}, {"inlinePolicy", permissionSetInline}}, nil)),
		ShapeEventBridgeLines, "sso-permission-set-updated")
	t = t.Add(31 * time.Second)
	s.put(g.rec(t, erin, sso("AttachManagedPolicyToPermissionSet",
		Object{{"instanceArn", instance}, {"permissionSetArn", ps}, {"managedPolicyArn", g.policyARN("aws", "ReadOnlyAccess")}}, nil)),
		ShapeEventBridgeLines, "sso-permission-set-updated", "negative:sso-admin-policy-attached")
	t = t.Add(52 * time.Second)
	group := w.ssoUserID("group:incident-response")
	s.put(g.rec(t, erin, sso("CreateAccountAssignment",
		Object{{"instanceArn", instance}, {"targetId", AccountDev}, {"targetType", "AWS_ACCOUNT"}, {"permissionSetArn", ps}, {"principalType", "GROUP"}, {"principalId", group}},
		Object{{"accountAssignmentCreationStatus", Object{{"status", "IN_PROGRESS"}, {"requestId", g.id.uuid()}, {"targetId", AccountDev}, {"targetType", "AWS_ACCOUNT"}, {"permissionSetArn", ps}, {"principalType", "GROUP"}, {"principalId", group}}}})),
		ShapeEventBridgeLines, "sso-account-assignment-created")
	t = t.Add(9 * time.Second)
	s.put(g.rec(t, erin, sso("ProvisionPermissionSet",
		Object{{"instanceArn", instance}, {"permissionSetArn", ps}, {"targetId", AccountDev}, {"targetType", "AWS_ACCOUNT"}},
		Object{{"permissionSetProvisioningStatus", Object{{"status", "IN_PROGRESS"}, {"requestId", g.id.uuid()}, {"accountId", AccountDev}, {"permissionSetArn", ps}}}})),
		ShapeEventBridgeLines)

	// 16:30 a custom SAML application, and a Grafana workspace that
	// registers its own managed application.
	t = s.at(1, 16, 31, 40)
	app := "arn:aws:sso::" + AccountMain + ":application/" + ssoInstanceID + "/apl-" + g.id.hex(16)
	s.put(g.rec(t, erin, sso("CreateApplication",
		Object{{"instanceArn", instance}, {"applicationProviderArn", "arn:aws:sso::aws:applicationProvider/custom-saml"}, {"name", "Jira Cloud"}, {"description", "Ticketing"},
			{"portalOptions", Object{{"visibility", "ENABLED"}, {"signInOptions", Object{{"origin", "IDENTITY_CENTER"}}}}}, {"status", "ENABLED"}, {"clientToken", g.id.uuid()}},
		Object{{"applicationArn", app}})),
		ShapeEventBridgeLines, "sso-application-created")
	t = t.Add(6 * time.Minute)
	grafana := *erin
	grafana.ip, grafana.ua = "grafana.amazonaws.com", "grafana.amazonaws.com"
	r = g.rec(t, &grafana, sso("CreateManagedApplicationInstance",
		Object{{"applicationTemplateArn", "arn:aws:sso::aws:applicationTemplate/grafana"}, {"name", "g-" + g.id.hex(10)}, {"instanceArn", instance}},
		Object{{"managedApplicationInstance", Object{{"managedApplicationInstanceId", "ins-" + g.id.hex(16)}, {"name", "Amazon Grafana"}, {"status", "ENABLED"}}}}))
	r.UserIdentity = append(r.UserIdentity, Field{"invokedBy", "grafana.amazonaws.com"})
	r.TLSDetails = nil
	s.put(r, ShapeEventBridgeLines, "sso-application-created")
	s.appARN = app
	s.permissionSet = ps
}

func (s *scenarios) devNetwork() {
	g, w, d := s.g, s.g.w, s.dev
	ivan := g.session(w.ssoRole(AccountDev, psAdmin, "ivan@example.com"), s.at(1, 16, 58, 0), homeIPs[2], uaFirefoxWin, true, false)
	s.put(g.consoleLogin(s.at(1, 16, 58, 0), ivan, true, "No", ""), ShapeTrail, "negative:console-signin-without-mfa")
	ec2 := func(name string, req, resp Object) call {
		return call{src: "ec2.amazonaws.com", name: name, region: d.region, req: req, resp: resp}
	}
	rid := func() Field { return Field{"requestId", g.id.uuid()} }
	vpc := "vpc-" + g.id.hex(17)
	igw := "igw-" + g.id.hex(17)
	rtb := "rtb-" + g.id.hex(17)
	acl := "acl-" + g.id.hex(17)
	t := s.at(1, 17, 3, 5)
	step := func() time.Time { t = t.Add(g.id.jitter(15*time.Second, 90*time.Second)); return t }
	s.put(g.rec(t, ivan, ec2("CreateVpc", Object{{"cidrBlock", "10.99.0.0/16"}, {"instanceTenancy", "default"}, {"amazonProvidedIpv6CidrBlock", false}},
		Object{rid(), {"vpc", Object{{"vpcId", vpc}, {"state", "pending"}, {"ownerId", AccountDev}, {"cidrBlock", "10.99.0.0/16"}, {"dhcpOptionsId", "dopt-" + g.id.hex(17)}, {"instanceTenancy", "default"}, {"isDefault", false}}}})),
		ShapeTrail, "vpc-changed")
	s.put(g.rec(step(), ivan, ec2("CreateInternetGateway", Object{}, Object{rid(), {"internetGateway", Object{{"internetGatewayId", igw}, {"ownerId", AccountDev}}}})),
		ShapeTrail, "network-gateway-changed")
	s.put(g.rec(step(), ivan, ec2("AttachInternetGateway", Object{{"internetGatewayId", igw}, {"vpcId", vpc}}, Object{rid(), {"_return", true}})),
		ShapeTrail, "network-gateway-changed")
	s.put(g.rec(step(), ivan, ec2("CreateRoute", Object{{"routeTableId", rtb}, {"destinationCidrBlock", "0.0.0.0/0"}, {"gatewayId", igw}}, Object{rid(), {"_return", true}})),
		ShapeTrail, "route-table-changed")
	s.put(g.rec(step(), ivan, ec2("ReplaceRouteTableAssociation", Object{{"associationId", "rtbassoc-" + g.id.hex(17)}, {"routeTableId", rtb}},
		Object{rid(), {"newAssociationId", "rtbassoc-" + g.id.hex(17)}, {"associationState", Object{{"state", "associated"}}}})),
		ShapeTrail, "route-table-changed")
	s.put(g.rec(step(), ivan, ec2("CreateNetworkAclEntry",
		Object{{"networkAclId", acl}, {"ruleNumber", 90}, {"egress", false}, {"ruleAction", "allow"}, {"icmpTypeCode", Object{}}, {"portRange", Object{{"from", 22}, {"to", 22}}}, {"aclProtocol", "6"}, {"cidrBlock", "0.0.0.0/0"}},
		Object{rid(), {"_return", true}})),
		ShapeTrail, "nacl-changed")
	sg := d.groups[0]
	s.put(g.rec(step(), ivan, ec2("AuthorizeSecurityGroupIngress",
		Object{{"groupId", sg}, {"ipPermissions", Object{{"items", []Object{{{"ipProtocol", "tcp"}, {"fromPort", 22}, {"toPort", 22}, {"groups", Object{}}, {"ipRanges", Object{{"items", []Object{{{"cidrIp", "0.0.0.0/0"}, {"description", "temp ssh"}}}}}}, {"ipv6Ranges", Object{}}, {"prefixListIds", Object{}}}}}}}},
		Object{rid(), {"_return", true}, {"securityGroupRuleSet", Object{{"items", []Object{{{"groupOwnerId", AccountDev}, {"groupId", sg}, {"securityGroupRuleId", "sgr-" + g.id.hex(17)}, {"description", "temp ssh"}, {"isEgress", false}, {"ipProtocol", "tcp"}, {"fromPort", 22}, {"toPort", 22}, {"cidrIpv4", "0.0.0.0/0"}}}}}}})),
		ShapeTrail, "security-group-open-admin-port", "negative:security-group-changed")
	s.put(g.rec(step(), ivan, ec2("CreateCustomerGateway", Object{{"type", "ipsec.1"}, {"ipAddress", "203.0.113.200"}, {"bgpAsn", 65010}},
		Object{rid(), {"customerGateway", Object{{"customerGatewayId", "cgw-" + g.id.hex(17)}, {"state", "available"}, {"type", "ipsec.1"}, {"ipAddress", "203.0.113.200"}, {"bgpAsn", "65010"}}}})),
		ShapeTrail, "network-gateway-changed")
	old := d.vpcs[1]
	s.put(g.rec(step(), ivan, ec2("DeleteVpc", Object{{"vpcId", old}}, Object{rid(), {"_return", true}})),
		ShapeTrail, "vpc-changed")
}

func (s *scenarios) day2() {
	g, w, m := s.g, s.g.w, s.main
	hidden := "HIDDEN_DUE_TO_SECURITY_REASONS"

	// 02:10 unknown user names sprayed at the main account's sign-in page.
	for i := range 6 {
		at := s.at(2, 2, 10, 0).Add(time.Duration(i)*2*time.Minute + time.Duration(g.id.r.IntN(50))*time.Second)
		u := &actor{kind: kindIAMUser, account: AccountMain, name: hidden, ip: hiddenIP, ua: uaFirefoxWin}
		r := g.consoleLogin(at, u, false, "No", "")
		r.UserIdentity = Object{{"type", kindIAMUser}, {"accountId", AccountMain}, {"accessKeyId", ""}, {"userName", hidden}}
		r.ErrorMessage = "No username found in supplied account"
		s.put(r, ShapeLookupLines, "console-signin-failures", "console-signin-failed")
	}

	// 08:40 dave mistypes his password once, then signs in: one failure is not a burst.
	dave := g.session(w.user(AccountMain, "dave"), s.at(2, 8, 40, 2), officeIPs[2], uaFirefoxWin, true, true)
	s.put(g.consoleLogin(s.at(2, 8, 40, 2), dave, false, "No", ""), ShapeTrail, "console-signin-failed", "negative:console-signin-failures")
	s.put(g.consoleLogin(s.at(2, 8, 40, 31), dave, true, "Yes", ""), ShapeTrail, "negative:console-signin-without-mfa")

	// 13:02 five failed sign-ins for carol within 17 minutes.
	for i, min := range []int{2, 5, 9, 14, 19} {
		c := g.session(w.user(AccountMain, "carol"), s.at(2, 13, min, 0), burstIP, uaChromeMac, true, false)
		s.put(g.consoleLogin(s.at(2, 13, min, 7+i*3), c, false, "No", ""), ShapeTrail, "console-signin-failures", "console-signin-failed")
	}

	// 13:26 bob's password works, without MFA, from an address never seen.
	t := s.at(2, 13, 26, 41)
	bob := g.session(w.user(AccountMain, "bob"), t, attackerIP, uaFirefoxWin, true, false)
	s.put(g.consoleLogin(t, bob, true, "No", ""), ShapeTrail, "console-signin-without-mfa")
	step := func(lo, hi time.Duration) time.Time { t = t.Add(g.id.jitter(lo, hi)); return t }
	s.put(g.rec(step(20*time.Second, time.Minute), bob, call{src: "iam.amazonaws.com", name: "ListUsers", ro: true, req: Object{{"maxItems", 1000}}}), ShapeTrail)
	s.put(g.rec(step(5*time.Second, 20*time.Second), bob, call{src: "iam.amazonaws.com", name: "GetAccountAuthorizationDetails", ro: true, req: Object{{"filter", []string{"User", "Role", "Group", "LocalManagedPolicy"}}}}), ShapeTrail)
	backdoor := w.user(AccountMain, "svc-metrics")
	at := step(40*time.Second, 90*time.Second)
	s.put(g.rec(at, bob, iam("CreateUser", Object{{"userName", "svc-metrics"}},
		Object{{"user", Object{{"path", "/"}, {"userName", "svc-metrics"}, {"userId", backdoor.id}, {"arn", backdoor.arn()}, {"createDate", iamDate(at)}}}})),
		ShapeTrail, "iam-user-created")
	s.put(g.rec(step(10*time.Second, 30*time.Second), bob, iam("AttachUserPolicy", Object{{"userName", "svc-metrics"}, {"policyArn", g.policyARN("aws", "AdministratorAccess")}}, nil)),
		ShapeTrail, "admin-policy-attached", "iam-policy-changed")
	at = step(10*time.Second, 30*time.Second)
	s.backdoorKey = backdoor.key
	s.put(g.rec(at, bob, iam("CreateAccessKey", Object{{"userName", "svc-metrics"}},
		Object{{"accessKey", Object{{"userName", "svc-metrics"}, {"accessKeyId", backdoor.key}, {"status", "Active"}, {"createDate", iamDate(at)}}}})),
		ShapeTrail, "access-key-created")
	// A virtual MFA device bob holds, bound to the backdoor user: its key
	// now gets MFA-authenticated sessions. Then any password will do.
	mfaSerial := "arn:aws:iam::" + AccountMain + ":mfa/svc-metrics"
	s.put(g.rec(step(10*time.Second, 30*time.Second), bob, iam("CreateVirtualMFADevice", Object{{"virtualMFADeviceName", "svc-metrics"}, {"path", "/"}},
		Object{{"virtualMFADevice", Object{{"serialNumber", mfaSerial}}}})),
		ShapeTrail, "negative:mfa-device-enabled")
	s.put(g.rec(step(20*time.Second, 40*time.Second), bob, iam("EnableMFADevice", Object{{"userName", "svc-metrics"}, {"serialNumber", mfaSerial}}, nil)),
		ShapeTrail, "mfa-device-enabled")
	// And a Bedrock API key for it: the models stay theirs after its access
	// key is found and deactivated.
	at = step(10*time.Second, 30*time.Second)
	s.put(g.rec(at, bob, iam("CreateServiceSpecificCredential", Object{{"userName", "svc-metrics"}, {"serviceName", "bedrock.amazonaws.com"}, {"credentialAgeDays", 365}},
		Object{{"serviceSpecificCredential", Object{{"createDate", iamDate(at)}, {"serviceName", "bedrock.amazonaws.com"},
			{"serviceCredentialAlias", "svc-metrics-at-" + AccountMain}, {"serviceSpecificCredentialId", g.id.iamID("ACCA")},
			{"userName", "svc-metrics"}, {"status", "Active"}}}})),
		ShapeTrail, "service-specific-credential-created")
	s.put(g.rec(step(10*time.Second, 30*time.Second), bob, iam("UpdateAccountPasswordPolicy", Object{{"minimumPasswordLength", 6},
		{"requireSymbols", false}, {"requireNumbers", false}, {"requireUppercaseCharacters", false}, {"requireLowercaseCharacters", false},
		{"allowUsersToChangePassword", true}, {"hardExpiry", false}}, nil)),
		ShapeTrail, "password-policy-changed")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, iam("PutRolePolicy",
		Object{{"roleName", "gha-deploy"}, {"policyName", "ops-maintenance"}, {"policyDocument", urlEncode(policyAllowAll)}}, nil)),
		ShapeTrail, "dangerous-inline-policy", "iam-policy-changed")
	s.put(g.rec(step(10*time.Second, 30*time.Second), bob, iam("AttachRolePolicy", Object{{"roleName", "gha-deploy"}, {"policyArn", g.policyARN("aws", "IAMFullAccess")}}, nil)),
		ShapeTrail, "admin-policy-attached", "iam-policy-changed")
	s.put(g.rec(step(10*time.Second, 30*time.Second), bob, iam("AttachGroupPolicy", Object{{"groupName", "developers"}, {"policyArn", g.policyARN("aws", "PowerUserAccess")}}, nil)),
		ShapeTrail, "admin-policy-attached", "iam-policy-changed")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, iam("UpdateAssumeRolePolicy", Object{{"roleName", "vendor-readonly"}, {"policyDocument", trustEveryone}}, nil)),
		ShapeTrail, "role-trust-policy-external")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, iam("UpdateLoginProfile", Object{{"userName", "alice"}, {"passwordResetRequired", false}}, nil)),
		ShapeTrail, "login-profile-changed")
	s.put(g.rec(step(10*time.Second, 30*time.Second), bob, iam("DeactivateMFADevice", Object{{"userName", "alice"}, {"serialNumber", "arn:aws:iam::" + AccountMain + ":mfa/alice-iphone"}}, nil)),
		ShapeRecordLines, "mfa-device-removed")

	// Covering tracks: logging, Config, a key, a bucket.
	mainTrail := "arn:aws:cloudtrail:" + global + ":" + AccountMain + ":trail/" + TrailName
	ct := func(name string, req Object) call {
		return call{src: "cloudtrail.amazonaws.com", name: name, region: global, req: req}
	}
	s.put(g.rec(step(time.Minute, 2*time.Minute), bob, ct("StopLogging", Object{{"name", mainTrail}})), ShapeSingle, "cloudtrail-logging-stopped")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, ct("DeleteTrail", Object{{"name", "security-audit-trail"}})), ShapeTrail, "cloudtrail-logging-stopped")
	cfg := func(name string, req Object) call {
		return call{src: "config.amazonaws.com", name: name, region: m.region, req: req}
	}
	s.put(g.rec(step(20*time.Second, time.Minute), bob, cfg("StopConfigurationRecorder", Object{{"configurationRecorderName", "default"}})), ShapeTrail, "config-changed")
	s.put(g.rec(step(10*time.Second, 30*time.Second), bob, cfg("DeleteDeliveryChannel", Object{{"deliveryChannelName", "default"}})), ShapeTrail, "config-changed")

	key := m.keys[0]
	keyARN := "arn:aws:kms:" + m.region + ":" + AccountMain + ":key/" + key
	kmsRes := []Object{{{"accountId", AccountMain}, {"type", "AWS::KMS::Key"}, {"ARN", keyARN}}}
	s.put(g.rec(step(30*time.Second, time.Minute), bob, call{src: "kms.amazonaws.com", name: "DisableKey", region: m.region, req: Object{{"keyId", key}}, resources: kmsRes}),
		ShapeLookup, "kms-key-disabled")
	at = step(10*time.Second, 30*time.Second)
	s.put(g.rec(at, bob, call{src: "kms.amazonaws.com", name: "ScheduleKeyDeletion", region: m.region, resources: kmsRes,
		req:  Object{{"keyId", key}, {"pendingWindowInDays", 7}},
		resp: Object{{"keyId", keyARN}, {"deletionDate", stsDate(at.AddDate(0, 0, 7).Truncate(24 * time.Hour))}, {"keyState", "PendingDeletion"}, {"pendingWindowInDays", 7}}}),
		ShapeLookup, "kms-key-disabled")

	bucket := "example-corp-invoices"
	s3 := func(name, sub string, extra ...Field) call {
		req := Object{{"bucketName", bucket}, {"Host", bucket + ".s3." + m.region + ".amazonaws.com"}, {sub, ""}}
		return call{src: "s3.amazonaws.com", name: name, region: m.region, req: append(req, extra...),
			add: Object{{"SignatureVersion", "SigV4"}, {"CipherSuite", "TLS_AES_128_GCM_SHA256"}, {"bytesTransferredIn", 0}, {"AuthenticationMethod", "AuthHeader"},
				{"x-amz-id-2", g.id.token(76) + "="}, {"bytesTransferredOut", 0}},
			resources: []Object{{{"accountId", AccountMain}, {"type", "AWS::S3::Bucket"}, {"ARN", "arn:aws:s3:::" + bucket}}}}
	}
	s.put(g.rec(step(time.Minute, 2*time.Minute), bob, s3("PutBucketPolicy", "policy", Field{"bucketPolicy", jsonObject(bucketPolicyPublic)})), ShapeLookup, "s3-bucket-policy-external", "negative:s3-bucket-policy-changed")
	s.put(g.rec(step(10*time.Second, 30*time.Second), bob, s3("PutBucketAcl", "acl", Field{"AccessControlPolicy", Object{
		{"AccessControlList", Object{{"Grant", []Object{{{"Grantee", Object{{"xsi:type", "Group"}, {"URI", "http://acs.amazonaws.com/groups/global/AllUsers"}}}, {"Permission", "READ"}}}}}},
		{"Owner", Object{{"ID", g.id.hex(64)}}}}})), ShapeLookup, "s3-bucket-policy-changed")
	s.put(g.rec(step(10*time.Second, 30*time.Second), bob, s3("DeleteBucketCors", "cors")), ShapeLookup, "s3-bucket-policy-changed")
	s.put(g.rec(step(10*time.Second, 30*time.Second), bob, s3("PutBucketLifecycle", "lifecycle", Field{"LifecycleConfiguration", Object{
		{"Rule", Object{{"ID", "cleanup"}, {"Status", "Enabled"}, {"Filter", Object{{"Prefix", ""}}}, {"Expiration", Object{{"Days", 1}}}}}}})), ShapeLookup, "s3-bucket-policy-changed")
	s.put(g.rec(step(10*time.Second, 30*time.Second), bob, s3("PutBucketReplication", "replication", Field{"ReplicationConfiguration", Object{
		{"Role", "arn:aws:iam::" + AccountMain + ":role/s3-replication"},
		{"Rule", Object{{"ID", "backup"}, {"Status", "Enabled"}, {"Priority", 1}, {"DeleteMarkerReplication", Object{{"Status", "Disabled"}}}, {"Filter", Object{{"Prefix", ""}}},
			{"Destination", Object{{"Bucket", "arn:aws:s3:::invoices-backup-7788"}, {"Account", AccountExternal}}}}}}})), ShapeLookup, "s3-bucket-policy-changed")

	// 14:30 deploy-bot's leaked key, probing from elsewhere: denied again and again.
	s.keyAbuse()

	// 22:31 root of the dev account: a wrong password, then in without MFA.
	rootDev := g.session(&actor{kind: kindRoot, account: AccountDev}, s.at(2, 22, 31, 9), rootDevIP, uaChromeMac, true, false)
	r := g.consoleLogin(s.at(2, 22, 31, 9), rootDev, false, "No", "")
	s.put(r, ShapeTrail, "root-console-signin-failed", "console-signin-failed")
	r = g.consoleLogin(s.at(2, 22, 32, 47), rootDev, true, "No", "")
	s.put(r, ShapeTrail, "root-console-signin")
	t = s.at(2, 22, 36, 20)
	r = g.rec(t, rootDev, iam("CreateAccessKey", nil,
		Object{{"accessKey", Object{{"accessKeyId", g.id.iamID("AKIA")}, {"status", "Active"}, {"createDate", iamDate(t)}}}}))
	s.put(r, ShapeTrail, "access-key-created", "root-api-activity")
	r = g.rec(s.at(2, 22, 39, 55), rootDev, call{src: "organizations.amazonaws.com", name: "LeaveOrganization",
		errCode: "ConstraintViolationException",
		errMsg:  "You cannot remove an account from your organization if the account doesn't have the information required to operate as a standalone account."})
	s.put(r, ShapeTrail, "root-api-activity", "negative:organizations-changed")
	r = g.rec(s.at(2, 22, 41, 12), rootDev, call{src: "ec2.amazonaws.com", name: "DescribeInstances", region: s.dev.region, ro: true, req: Object{{"instancesSet", Object{}}, {"filterSet", Object{}}}})
	s.put(r, ShapeTrail, "root-api-activity")
}

// keyAbuse is twelve denied calls by one principal within nine minutes.
func (s *scenarios) keyAbuse() {
	g, w, m := s.g, s.g.w, s.main
	bot := *w.user(AccountMain, "deploy-bot")
	bot.ip, bot.ua = keyAbuseIP, uaKali
	denied := func(action, resource string) string {
		return "User: " + bot.arn() + " is not authorized to perform: " + action + " on resource: " + resource + " because no identity-based policy allows the " + action + " action"
	}
	calls := []call{
		{src: "sts.amazonaws.com", name: "GetCallerIdentity", ro: true},
		{src: "iam.amazonaws.com", name: "ListUsers", ro: true, errCode: "AccessDenied", errMsg: denied("iam:ListUsers", "arn:aws:iam::"+AccountMain+":user/")},
		{src: "iam.amazonaws.com", name: "ListRoles", ro: true, errCode: "AccessDenied", errMsg: denied("iam:ListRoles", "arn:aws:iam::"+AccountMain+":role/")},
		{src: "iam.amazonaws.com", name: "GetAccountAuthorizationDetails", ro: true, errCode: "AccessDenied", errMsg: denied("iam:GetAccountAuthorizationDetails", "*")},
		{src: "ec2.amazonaws.com", name: "DescribeInstances", region: m.region, ro: true, req: Object{{"instancesSet", Object{}}, {"filterSet", Object{}}}, errCode: "Client.UnauthorizedOperation", errMsg: "You are not authorized to perform this operation. User: " + bot.arn() + " is not authorized to perform: ec2:DescribeInstances because no identity-based policy allows the ec2:DescribeInstances action"},
		{src: "ec2.amazonaws.com", name: "DescribeInstances", region: global, ro: true, req: Object{{"instancesSet", Object{}}, {"filterSet", Object{}}}, errCode: "Client.UnauthorizedOperation", errMsg: "You are not authorized to perform this operation. User: " + bot.arn() + " is not authorized to perform: ec2:DescribeInstances because no identity-based policy allows the ec2:DescribeInstances action"},
		{src: "s3.amazonaws.com", name: "ListBuckets", ro: true, req: Object{{"Host", "s3.amazonaws.com"}}, errCode: "AccessDenied", errMsg: "Access Denied"},
		{src: "secretsmanager.amazonaws.com", name: "ListSecrets", region: m.region, ro: true, errCode: "AccessDenied", errMsg: denied("secretsmanager:ListSecrets", "*")},
		{src: "lambda.amazonaws.com", name: "ListFunctions20150331", region: m.region, ro: true, errCode: "AccessDenied", errMsg: denied("lambda:ListFunctions", "*")},
		{src: "kms.amazonaws.com", name: "ListKeys", region: m.region, ro: true, errCode: "AccessDenied", errMsg: denied("kms:ListKeys", "*")},
		{src: "dynamodb.amazonaws.com", name: "ListTables", region: m.region, ro: true, errCode: "AccessDenied", errMsg: denied("dynamodb:ListTables", "*")},
		{src: "organizations.amazonaws.com", name: "DescribeOrganization", ro: true, errCode: "AccessDenied", errMsg: denied("organizations:DescribeOrganization", "*")},
		{src: "rds.amazonaws.com", name: "DescribeDBInstances", region: m.region, ro: true, errCode: "AccessDenied", errMsg: denied("rds:DescribeDBInstances", "arn:aws:rds:"+m.region+":"+AccountMain+":db:*")},
		{src: "iam.amazonaws.com", name: "CreateUser", req: Object{{"userName", "backup-admin"}}, errCode: "AccessDenied", errMsg: denied("iam:CreateUser", "arn:aws:iam::"+AccountMain+":user/backup-admin")},
	}
	t := s.at(2, 14, 30, 4)
	for i, c := range calls {
		u := bot
		if i == 6 {
			u.ua = uaHostile // attacker-controlled text that must be escaped wherever shown.
		}
		tags := []string{}
		if c.errCode != "" {
			tags = append(tags, "unauthorized-api-calls")
		}
		if c.name == "CreateUser" {
			tags = append(tags, "negative:iam-user-created")
		}
		s.put(g.rec(t, &u, c), ShapeTrail, tags...)
		t = t.Add(g.id.jitter(15*time.Second, 45*time.Second))
	}
	// Another leaked key, in the desktop S3 client that attackers use for
	// its IAM screens: the buckets, then a user of their own.
	sync := *w.user(AccountMain, "backup-sync")
	sync.ip, sync.ua = keyAbuseIP, uaS3Browser
	t = t.Add(3 * time.Minute)
	s.put(g.rec(t, &sync, call{src: "s3.amazonaws.com", name: "ListBuckets", ro: true, req: Object{{"Host", "s3.amazonaws.com"}}}),
		ShapeTrail, "negative:iam-change-from-s3-client")
	t = t.Add(g.id.jitter(20*time.Second, time.Minute))
	s.put(g.rec(t, &sync, iam("CreateUser", Object{{"userName", "backup"}},
		Object{{"user", Object{{"path", "/"}, {"userName", "backup"}, {"userId", g.id.iamID("AIDA")}, {"arn", "arn:aws:iam::" + AccountMain + ":user/backup"}, {"createDate", iamDate(t)}}}})),
		ShapeTrail, "iam-change-from-s3-client", "iam-user-created")
}

func (s *scenarios) day3() {
	g, w, m := s.g, s.g.w, s.main

	// 08:10 alice back in (her MFA flag in capitals, as some records have it).
	t := s.at(3, 8, 10, 14)
	alice := g.session(w.user(AccountMain, "alice"), t, officeIPs[1], uaChromeMac, true, true)
	r := g.consoleLogin(t, alice, true, "YES", "")
	s.put(r, ShapeRecordLines, "negative:console-signin-without-mfa")
	step := func(lo, hi time.Duration) time.Time { t = t.Add(g.id.jitter(lo, hi)); return t }
	s.put(g.rec(step(time.Minute, 3*time.Minute), alice, iam("UpdateAccessKey", Object{{"userName", "svc-metrics"}, {"accessKeyId", s.backdoorKey}, {"status", "Inactive"}}, nil)),
		ShapeRecordLines, "access-key-updated")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, iam("DetachUserPolicy", Object{{"userName", "svc-metrics"}, {"policyArn", g.policyARN("aws", "AdministratorAccess")}}, nil)),
		ShapeRecordLines, "iam-policy-changed")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, iam("DeleteRolePolicy", Object{{"roleName", "gha-deploy"}, {"policyName", "ops-maintenance"}}, nil)),
		ShapeRecordLines, "iam-policy-changed")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, iam("DetachRolePolicy", Object{{"roleName", "gha-deploy"}, {"policyArn", g.policyARN("aws", "IAMFullAccess")}}, nil)),
		ShapeRecordLines, "iam-policy-changed")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, iam("DetachGroupPolicy", Object{{"groupName", "developers"}, {"policyArn", g.policyARN("aws", "PowerUserAccess")}}, nil)),
		ShapeRecordLines, "iam-policy-changed")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, iam("DeleteUserPolicy", Object{{"userName", "temp-contractor"}, {"policyName", "invoices-read"}}, nil)),
		ShapeRecordLines, "iam-policy-changed")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, iam("UpdateAssumeRolePolicy", Object{{"roleName", "vendor-readonly"}, {"policyDocument", trustExternal}}, nil)),
		ShapeRecordLines, "role-trust-policy-external")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, iam("DeleteVirtualMFADevice", Object{{"serialNumber", "arn:aws:iam::" + AccountMain + ":mfa/alice-iphone"}}, nil)),
		ShapeRecordLines, "mfa-device-removed")
	// Her new phone, enrolled in the console, and the password policy back
	// to what CIS asks for: neither alerts.
	aliceMFA := "arn:aws:iam::" + AccountMain + ":mfa/alice-pixel"
	s.put(g.rec(step(20*time.Second, time.Minute), alice, iam("CreateVirtualMFADevice", Object{{"virtualMFADeviceName", "alice-pixel"}, {"path", "/"}},
		Object{{"virtualMFADevice", Object{{"serialNumber", aliceMFA}}}})),
		ShapeRecordLines, "negative:mfa-device-enabled")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, iam("EnableMFADevice", Object{{"userName", "alice"}, {"serialNumber", aliceMFA}}, nil)),
		ShapeRecordLines, "negative:mfa-device-enabled")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, iam("UpdateAccountPasswordPolicy", Object{{"minimumPasswordLength", 14},
		{"requireSymbols", true}, {"requireNumbers", true}, {"requireUppercaseCharacters", true}, {"requireLowercaseCharacters", true},
		{"allowUsersToChangePassword", true}, {"maxPasswordAge", 90}, {"passwordReusePrevention", 24}, {"hardExpiry", false}}, nil)),
		ShapeRecordLines, "negative:password-policy-changed")
	at := step(time.Minute, 2*time.Minute)
	s.put(g.rec(at, alice, iam("CreatePolicyVersion", Object{{"policyArn", g.policyARN(AccountMain, "ops-everything-but-billing")}, {"policyDocument", policyNotActionV2}, {"setAsDefault", true}},
		Object{{"policyVersion", Object{{"versionId", "v2"}, {"isDefaultVersion", true}, {"createDate", iamDate(at)}}}})),
		ShapeRecordLines, "iam-policy-changed", "negative:dangerous-inline-policy")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, iam("DeletePolicyVersion", Object{{"policyArn", g.policyARN(AccountMain, "ops-everything-but-billing")}, {"versionId", "v1"}}, nil)),
		ShapeRecordLines, "iam-policy-changed")

	// 09:00 logging back.
	t = s.at(3, 9, 0, 40)
	mainTrail := "arn:aws:cloudtrail:" + global + ":" + AccountMain + ":trail/" + TrailName
	audit := "arn:aws:cloudtrail:" + global + ":" + AccountMain + ":trail/security-audit-trail"
	ct := func(name string, req, resp Object) call {
		return call{src: "cloudtrail.amazonaws.com", name: name, region: global, req: req, resp: resp}
	}
	s.put(g.rec(t, alice, ct("StartLogging", Object{{"name", mainTrail}}, nil)), ShapeEventBridgeArray, "cloudtrail-logging-started")
	s.put(g.rec(step(time.Minute, 2*time.Minute), alice, ct("CreateTrail",
		Object{{"name", "security-audit-trail"}, {"s3BucketName", "example-corp-cloudtrail-logs"}, {"s3KeyPrefix", "audit"}, {"includeGlobalServiceEvents", true}, {"isMultiRegionTrail", true}, {"enableLogFileValidation", true}, {"isOrganizationTrail", false}},
		Object{{"name", "security-audit-trail"}, {"s3BucketName", "example-corp-cloudtrail-logs"}, {"s3KeyPrefix", "audit"}, {"includeGlobalServiceEvents", true}, {"isMultiRegionTrail", true}, {"trailARN", audit}, {"logFileValidationEnabled", true}, {"isOrganizationTrail", false}})),
		ShapeEventBridgeArray, "cloudtrail-logging-started")
	sel := []Object{{{"readWriteType", "All"}, {"includeManagementEvents", true}, {"dataResources", []Object{}}, {"excludeManagementEventSources", []string{}}}}
	s.put(g.rec(step(20*time.Second, time.Minute), alice, ct("PutEventSelectors", Object{{"trailName", "security-audit-trail"}, {"eventSelectors", sel}}, Object{{"trailARN", audit}, {"eventSelectors", sel}})),
		ShapeEventBridgeArray, "cloudtrail-changed", "negative:cloudtrail-logging-reduced")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, ct("StartLogging", Object{{"name", audit}}, nil)), ShapeEventBridgeArray, "cloudtrail-logging-started")
	s.put(g.rec(step(time.Minute, 2*time.Minute), alice, ct("UpdateTrail", Object{{"name", TrailName}, {"enableLogFileValidation", true}, {"isMultiRegionTrail", true}},
		Object{{"name", TrailName}, {"s3BucketName", "example-corp-cloudtrail-logs"}, {"includeGlobalServiceEvents", true}, {"isMultiRegionTrail", true}, {"trailARN", mainTrail}, {"logFileValidationEnabled", true}, {"isOrganizationTrail", true}})),
		ShapeEventBridgeArray, "cloudtrail-changed")
	cfg := func(name string, req Object) call {
		return call{src: "config.amazonaws.com", name: name, region: m.region, req: req}
	}
	s.put(g.rec(step(time.Minute, 2*time.Minute), alice, cfg("PutDeliveryChannel", Object{{"deliveryChannel", Object{{"name", "default"}, {"s3BucketName", "example-corp-config-" + AccountMain}}}})), ShapeTrail, "config-changed")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, cfg("StartConfigurationRecorder", Object{{"configurationRecorderName", "default"}})), ShapeTrail, "config-changed")
	key := m.keys[0]
	kmsRes := []Object{{{"accountId", AccountMain}, {"type", "AWS::KMS::Key"}, {"ARN", "arn:aws:kms:" + m.region + ":" + AccountMain + ":key/" + key}}}
	s.put(g.rec(step(time.Minute, 2*time.Minute), alice, call{src: "kms.amazonaws.com", name: "CancelKeyDeletion", region: m.region, req: Object{{"keyId", key}}, resp: Object{{"keyId", kmsRes[0].Get("ARN")}}, resources: kmsRes}), ShapeTrail)
	s.put(g.rec(step(20*time.Second, time.Minute), alice, call{src: "kms.amazonaws.com", name: "EnableKey", region: m.region, req: Object{{"keyId", key}}, resources: kmsRes}), ShapeTrail)
	s.put(g.rec(step(time.Minute, 2*time.Minute), alice, call{src: "s3.amazonaws.com", name: "DeleteBucketPolicy", region: m.region,
		req: Object{{"bucketName", "example-corp-invoices"}, {"Host", "example-corp-invoices.s3." + m.region + ".amazonaws.com"}, {"policy", ""}}}), ShapeTrail, "s3-bucket-policy-changed")

	// 10:30 deploy-bot's owner rotates its key: a key for oneself.
	bot := *w.user(AccountMain, "deploy-bot")
	bot.ip, bot.ua = ciIPs[0], uaBoto3
	t = s.at(3, 10, 31, 5)
	s.put(g.rec(t, &bot, iam("CreateAccessKey", nil,
		Object{{"accessKey", Object{{"userName", "deploy-bot"}, {"accessKeyId", g.id.iamID("AKIA")}, {"status", "Active"}, {"createDate", iamDate(t)}}}})),
		ShapeTrail, "access-key-created")
	s.put(g.rec(t.Add(2*time.Minute), &bot, iam("UpdateAccessKey", Object{{"accessKeyId", bot.key}, {"status", "Inactive"}}, nil)),
		ShapeTrail, "access-key-updated")

	// 11:00 Identity Center: the permission set gets admin, an assignment goes, an app goes.
	s.identityCenterDay3()

	// 13:00 Organizations: a sandbox account and an SCP on the dev account.
	t = s.at(3, 13, 0, 22)
	org := func(name string, req, resp Object) call {
		return call{src: "organizations.amazonaws.com", name: name, req: req, resp: resp}
	}
	s.put(g.rec(t, alice, org("CreateAccount", Object{{"accountName", "example-corp-sandbox"}, {"email", "aws-sandbox@example.com"}, {"iamUserAccessToBilling", "DENY"}},
		Object{{"createAccountStatus", Object{{"id", "car-" + g.id.hex(32)}, {"accountName", "example-corp-sandbox"}, {"state", "IN_PROGRESS"}, {"requestedTimestamp", stsDate(t)}}}})),
		ShapeRecordArray, "organizations-changed")
	policyID := "p-" + g.id.from("abcdefghijklmnopqrstuvwxyz0123456789", 8)
	s.put(g.rec(step(time.Minute, 3*time.Minute), alice, org("CreatePolicy",
		Object{{"content", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}`}, {"description", "Members cannot leave"}, {"name", "DenyLeaveOrganization"}, {"type", "SERVICE_CONTROL_POLICY"}},
		Object{{"policy", Object{{"policySummary", Object{{"id", policyID}, {"arn", "arn:aws:organizations::" + AccountMain + ":policy/o-exampleorgid/service_control_policy/" + policyID}, {"name", "DenyLeaveOrganization"}, {"type", "SERVICE_CONTROL_POLICY"}, {"awsManaged", false}}}}}})),
		ShapeRecordArray, "organizations-changed")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, org("AttachPolicy", Object{{"policyId", policyID}, {"targetId", AccountDev}}, nil)),
		ShapeRecordArray, "organizations-changed")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, call{src: "organizations.amazonaws.com", name: "ListAccounts", ro: true}), ShapeRecordArray)

	// 15:20 judy federates into the dev console through Identity Center:
	// MFAUsed says No on federated sign-ins, and that is not an IAM user without MFA.
	judy := g.session(w.ssoRole(AccountDev, psDev, "judy@example.com"), s.at(3, 15, 20, 3), homeIPs[3], uaChromeMac, true, false)
	r = g.consoleLogin(s.at(3, 15, 20, 3), judy, true, "No", "")
	s.put(r, ShapeTrail, "negative:console-signin-without-mfa")
}

func (s *scenarios) identityCenterDay3() {
	g, w := s.g, s.g.w
	erin := g.session(w.ssoRole(AccountMain, psAdmin, "erin@example.com"), s.at(3, 10, 58, 0), officeIPs[0], uaChromeMac, true, false)
	instance := "arn:aws:sso:::instance/" + ssoInstanceID
	sso := func(name string, req, resp Object) call {
		return call{src: "sso.amazonaws.com", name: name, region: ssoHomeRegion, req: req, resp: resp}
	}
	t := s.at(3, 11, 2, 30)
	s.put(g.rec(t, erin, sso("UpdatePermissionSet", Object{{"instanceArn", instance}, {"permissionSetArn", s.permissionSet}, {"sessionDuration", "PT1H"}, {"description", "Break-glass access for the incident response team (1h)"}}, nil)),
		ShapeEventBridgeLines, "sso-permission-set-updated")
	t = t.Add(47 * time.Second)
	s.put(g.rec(t, erin, sso("AttachManagedPolicyToPermissionSet", Object{{"instanceArn", instance}, {"permissionSetArn", s.permissionSet}, {"managedPolicyArn", g.policyARN("aws", "AdministratorAccess")}}, nil)),
		ShapeEventBridgeLines, "sso-admin-policy-attached")
	t = t.Add(3 * time.Minute)
	group := w.ssoUserID("group:incident-response")
	s.put(g.rec(t, erin, sso("DeleteAccountAssignment",
		Object{{"instanceArn", instance}, {"targetId", AccountDev}, {"targetType", "AWS_ACCOUNT"}, {"permissionSetArn", s.permissionSet}, {"principalType", "GROUP"}, {"principalId", group}},
		Object{{"accountAssignmentDeletionStatus", Object{{"status", "IN_PROGRESS"}, {"requestId", g.id.uuid()}, {"targetId", AccountDev}, {"targetType", "AWS_ACCOUNT"}, {"permissionSetArn", s.permissionSet}, {"principalType", "GROUP"}, {"principalId", group}}}})),
		ShapeEventBridgeLines)
	t = t.Add(5 * time.Minute)
	s.put(g.rec(t, erin, sso("DeleteApplication", Object{{"applicationArn", s.appARN}}, nil)),
		ShapeEventBridgeLines, "sso-application-deleted")
}

// jsonObject turns a JSON object literal into an Object, keeping member order.
func jsonObject(doc string) Object {
	o, err := parseObject([]byte(doc))
	if err != nil {
		panic("sample: invalid JSON literal: " + err.Error())
	}
	return o
}
