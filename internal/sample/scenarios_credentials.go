package sample

import (
	"fmt"
	"time"
)

// credentialAccess writes the records for credential access and discovery bursts, attack sequences.
//
// Day 2, evening: the etl-runner role's credentials, stolen, are used from
// a hosting address (192.0.2.180). The intruder maps IAM, sweeps secrets,
// SecureString parameters, Windows passwords and instance user data, then
// leaves a backdoor administrator and a backdoor role for an outside
// account. Look-alikes: the payments application re-reading its own secret
// and parameter, a monitoring role polling the same two IAM calls. Day 3:
// a reporting key probes one denied API every 40 minutes all day.
func (s *scenarios) credentialAccess() {
	g, w, m := s.g, s.g.w, s.main
	const stolenIP = "192.0.2.180"
	t := s.at(2, 19, 4, 10)
	etl := g.session(w.role(AccountMain, "etl-runner", "/", "etl-"+fmt.Sprint(t.Unix())), t, stolenIP, uaBoto3, false, false)
	step := func(lo, hi time.Duration) time.Time { t = t.Add(g.id.jitter(lo, hi)); return t }
	deniedBy := func(action string) string {
		return "User: " + etl.arn() + " is not authorized to perform: " + action + " because no identity-based policy allows the " + action + " action"
	}

	// IAM mapped: ten different read calls in about three minutes.
	for _, name := range []string{"GetAccountSummary", "ListUsers", "ListRoles", "ListGroups", "ListPolicies",
		"ListAttachedRolePolicies", "ListRolePolicies", "ListAccessKeys", "GetAccountAuthorizationDetails", "SimulatePrincipalPolicy"} {
		s.put(g.rec(step(8*time.Second, 25*time.Second), etl, iam(name, nil, nil)), ShapeTrail, "iam-enumeration")
	}
	// Secrets: six different ones within a few minutes.
	for i := range 6 {
		c := call{src: "secretsmanager.amazonaws.com", name: "GetSecretValue", region: m.region, ro: true,
			req: Object{{"secretId", fmt.Sprintf("prod/etl/source-%d", i+1)}}}
		s.put(g.rec(step(5*time.Second, 20*time.Second), etl, c), ShapeTrail, "secrets-read-burst")
	}
	// SecureString parameters: two calls naming twelve, decrypted.
	for i := range 2 {
		var names []string
		for k := range 6 {
			names = append(names, fmt.Sprintf("/etl/prod/credential-%d", i*6+k+1))
		}
		c := call{src: "ssm.amazonaws.com", name: "GetParameters", region: m.region, ro: true,
			req: Object{{"names", names}, {"withDecryption", true}}}
		s.put(g.rec(step(5*time.Second, 20*time.Second), etl, c), ShapeTrail, "ssm-parameters-decrypted-burst")
	}
	// Windows passwords and user data of six instances each, all denied.
	for i := range 6 {
		c := call{src: "ec2.amazonaws.com", name: "GetPasswordData", region: m.region, ro: true,
			req: Object{{"instanceId", fmt.Sprintf("i-0e7d3c%011x", i+1)}}, errCode: "Client.UnauthorizedOperation",
			errMsg: "You are not authorized to perform this operation. " + deniedBy("ec2:GetPasswordData")}
		s.put(g.rec(step(time.Second, 3*time.Second), etl, c), ShapeTrail, "ec2-password-data-burst")
	}
	for i := range 6 {
		c := call{src: "ec2.amazonaws.com", name: "DescribeInstanceAttribute", region: m.region, ro: true,
			req: Object{{"instanceId", fmt.Sprintf("i-0f5a2b%011x", i+1)}, {"attribute", "userData"}}, errCode: "Client.UnauthorizedOperation",
			errMsg: "You are not authorized to perform this operation. " + deniedBy("ec2:DescribeInstanceAttribute")}
		s.put(g.rec(step(time.Second, 3*time.Second), etl, c), ShapeTrail, "ec2-user-data-harvest")
	}

	// The backdoor administrator: user, admin policy, console password.
	admin := w.user(AccountMain, "etl-support")
	at := step(30*time.Second, time.Minute)
	s.put(g.rec(at, etl, iam("CreateUser", Object{{"userName", "etl-support"}},
		Object{{"user", Object{{"path", "/"}, {"userName", "etl-support"}, {"userId", admin.id}, {"arn", admin.arn()}, {"createDate", iamDate(at)}}}})),
		ShapeTrail, "iam-user-created", "iam-backdoor-admin-user")
	s.put(g.rec(step(5*time.Second, 15*time.Second), etl, iam("AttachUserPolicy", Object{{"userName", "etl-support"}, {"policyArn", g.policyARN("aws", "AdministratorAccess")}}, nil)),
		ShapeTrail, "admin-policy-attached", "iam-policy-changed", "iam-backdoor-admin-user")
	at = step(5*time.Second, 15*time.Second)
	s.put(g.rec(at, etl, iam("CreateLoginProfile", Object{{"userName", "etl-support"}, {"passwordResetRequired", false}},
		Object{{"loginProfile", Object{{"userName", "etl-support"}, {"createDate", iamDate(at)}, {"passwordResetRequired", false}}}})),
		ShapeTrail, "login-profile-changed", "iam-backdoor-admin-user")
	// The backdoor role: trusts an outside account, then gets AdministratorAccess.
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + AccountExternal + `:root"},"Action":"sts:AssumeRole"}]}`
	at = step(20*time.Second, 40*time.Second)
	s.put(g.rec(at, etl, iam("CreateRole", Object{{"roleName", "etl-vendor-access"}, {"assumeRolePolicyDocument", trust}},
		Object{{"role", Object{{"path", "/"}, {"roleName", "etl-vendor-access"}, {"roleId", w.ids.iamID("AROA")},
			{"arn", "arn:aws:iam::" + AccountMain + ":role/etl-vendor-access"}, {"createDate", iamDate(at)}, {"assumeRolePolicyDocument", urlEncode(trust)}}}})),
		ShapeTrail, "role-trust-policy-external", "iam-backdoor-role")
	s.put(g.rec(step(5*time.Second, 15*time.Second), etl, iam("AttachRolePolicy", Object{{"roleName", "etl-vendor-access"}, {"policyArn", g.policyARN("aws", "AdministratorAccess")}}, nil)),
		ShapeTrail, "admin-policy-attached", "iam-policy-changed", "iam-backdoor-role")

	// Look-alikes: the payments application reads its own secret and
	// parameter every minute; a monitoring role polls two IAM calls.
	app := g.session(w.role(AccountMain, "payments-webhook-role", "/", "payments-webhook"), s.at(2, 19, 0, 0), privateIPs[0], uaBoto3, false, false)
	mon := g.session(w.role(AccountMain, "access-monitor", "/", "access-monitor"), s.at(2, 19, 0, 0), privateIPs[1], uaBoto3, false, false)
	for i := range 12 {
		at := s.at(2, 19, i, 30)
		s.put(g.rec(at, app, call{src: "secretsmanager.amazonaws.com", name: "GetSecretValue", region: m.region, ro: true,
			req: Object{{"secretId", m.secrets[0]}}}), ShapeTrail, "negative:secrets-read-burst")
		s.put(g.rec(at.Add(2*time.Second), app, call{src: "ssm.amazonaws.com", name: "GetParameter", region: m.region, ro: true,
			req: Object{{"name", m.params[0]}, {"withDecryption", true}}}), ShapeTrail, "negative:ssm-parameters-decrypted-burst")
		name := []string{"GetRole", "ListAttachedRolePolicies"}[i%2]
		s.put(g.rec(at.Add(5*time.Second), mon, iam(name, Object{{"roleName", "payments-webhook-role"}}, nil)), ShapeTrail, "negative:iam-enumeration")
	}

	// Day 3: a reporting key denied on a different API every 40 minutes,
	// never more than one in ten minutes: slow probing.
	rep := *w.user(AccountMain, "svc-reporting")
	rep.ip, rep.ua = ciIPs[2], uaCLILinux
	probes := []struct{ src, name string }{
		{"ec2", "DescribeInstances"}, {"s3", "ListBuckets"}, {"iam", "ListUsers"}, {"lambda", "ListFunctions20150331"},
		{"rds", "DescribeDBInstances"}, {"dynamodb", "ListTables"}, {"kms", "ListKeys"}, {"secretsmanager", "ListSecrets"},
		{"ssm", "DescribeParameters"}, {"sns", "ListTopics"}, {"sqs", "ListQueues"}, {"cloudtrail", "DescribeTrails"},
		{"guardduty", "ListDetectors"}, {"organizations", "DescribeOrganization"}, {"ecr", "DescribeRepositories"},
		{"eks", "ListClusters"}, {"ecs", "ListClusters"}, {"logs", "DescribeLogGroups"}, {"route53", "ListHostedZones"},
		{"cloudformation", "ListStacks"}, {"glue", "GetDatabases"},
	}
	for i, p := range probes {
		c := call{src: p.src + ".amazonaws.com", name: p.name, region: m.region, ro: true, errCode: "AccessDenied",
			errMsg: "User: " + rep.arn() + " is not authorized to perform: " + p.src + ":" + p.name + " because no identity-based policy allows it"}
		if p.src == "ec2" {
			c.errCode = "Client.UnauthorizedOperation"
		}
		if p.src == "iam" || p.src == "organizations" || p.src == "route53" || p.src == "s3" {
			c.region = global
		}
		s.put(g.rec(s.at(3, 1, 0, 0).Add(time.Duration(i)*40*time.Minute+time.Duration(i)*time.Second), &rep, c), ShapeTrail, "denied-api-probing")
	}
}
