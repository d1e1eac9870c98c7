package sample

import (
	"container/heap"
	"math"
	"time"
)

// noise generates ordinary activity: people reading in the console and the
// CLI, CI deployments, services assuming their roles, a cross-account
// auditor, Identity Center sign-ins. Nothing it generates is meant to raise
// an alert (the scenarios do that), though look-alikes abound.
type noise struct {
	g    *gen
	invs []*inventory
	// sessionsPerHour is the mean rate of sessions in a working hour.
	sessionsPerHour float64
	pending         recHeap
}

func newNoise(g *gen, invs []*inventory, recordsPerHour float64) *noise {
	// A session averages about 9 records; nights and weekends run at about
	// a third of the day rate, which the thinning in run accounts for.
	return &noise{g: g, invs: invs, sessionsPerHour: recordsPerHour / 9 * 1.6}
}

// run generates sessions starting in [from, to) and calls emit with every
// record in event-time order. It stops early when emit returns false.
// Memory is bounded by the records of the sessions still in progress.
func (n *noise) run(from, to time.Time, emit func(Record) bool) {
	lmax := n.sessionsPerHour
	t := from
	for {
		// Thinning: candidate arrivals at the peak rate, kept with
		// probability intensity(t).
		gap := -math.Log(1-n.g.id.r.Float64()) / lmax
		t = t.Add(time.Duration(gap * float64(time.Hour)))
		if !t.Before(to) {
			break
		}
		if n.g.id.r.Float64() > intensity(t) {
			continue
		}
		for n.pending.Len() > 0 && !n.pending[0].EventTime.After(t) {
			if !emit(heap.Pop(&n.pending).(Record)) {
				return
			}
		}
		for _, r := range n.session(t) {
			heap.Push(&n.pending, r)
		}
	}
	for n.pending.Len() > 0 {
		if !emit(heap.Pop(&n.pending).(Record)) {
			return
		}
	}
}

// intensity is the relative activity at t: working hours (07–19 UTC on
// weekdays) are busy, nights and weekends quiet but never silent.
func intensity(t time.Time) float64 {
	t = t.UTC()
	wd := t.Weekday()
	if wd == time.Saturday || wd == time.Sunday {
		return 0.25
	}
	if h := t.Hour(); h >= 7 && h < 19 {
		return 1
	}
	return 0.3
}

func isDay(t time.Time) bool { return intensity(t) == 1 }

// session picks a kind of session suited to the time of day and generates it.
func (n *noise) session(t time.Time) []Record {
	g := n.g
	inv := n.invs[0]
	if len(n.invs) > 1 && g.id.chance(0.4) {
		inv = n.invs[1]
	}
	type kind struct {
		weight float64
		gen    func(time.Time, *inventory) []Record
	}
	kinds := []kind{
		{3, n.serviceTick},
		{1, n.ciDeploy},
		{0.15, n.audit},
		{0.2, n.serviceEvent},
	}
	if isDay(t) {
		kinds = append(kinds,
			kind{2.2, n.ssoConsole},
			kind{1, n.ssoCLI},
			kind{0.9, n.iamConsole},
			kind{1, n.iamCLI},
			kind{0.5, n.samlConsole},
			kind{0.15, n.federatedPortal},
		)
	} else {
		kinds = append(kinds, kind{0.3, n.iamCLI}, kind{0.2, n.ssoCLI})
	}
	var total float64
	for _, k := range kinds {
		total += k.weight
	}
	x := g.id.r.Float64() * total
	for _, k := range kinds {
		if x < k.weight {
			return k.gen(t, inv)
		}
		x -= k.weight
	}
	return kinds[0].gen(t, inv)
}

// steps spaces count calls after t by human (or machine) think times.
func (n *noise) steps(t time.Time, count int, lo, hi time.Duration) []time.Time {
	out := make([]time.Time, count)
	for i := range out {
		t = t.Add(n.g.id.jitter(lo, hi))
		out[i] = t
	}
	return out
}

// iamConsole: alice or dave signs in with MFA and looks around.
func (n *noise) iamConsole(t time.Time, inv *inventory) []Record {
	g := n.g
	if inv.account != AccountMain {
		inv = n.invs[0]
	}
	name := g.id.pick([]string{"alice", "dave"})
	ip := g.id.pick(append(officeIPs, homeIPs[:2]...))
	ua := g.id.pick(browserUAs)
	u := g.session(g.w.user(inv.account, name), t, ip, ua, true, true)
	out := []Record{g.consoleLogin(t, u, true, "Yes", "")}
	for _, at := range n.steps(t, 3+g.id.r.IntN(18), 5*time.Second, 3*time.Minute) {
		out = append(out, g.rec(at, u, n.read(u, inv, true)))
	}
	return out
}

// iamCLI: bob or carol (or alice) using long-term access keys from a laptop.
func (n *noise) iamCLI(t time.Time, inv *inventory) []Record {
	g := n.g
	if inv.account != AccountMain {
		inv = n.invs[0]
	}
	name := g.id.pick([]string{"bob", "carol", "alice", "deploy-bot"})
	u := *g.w.user(inv.account, name)
	u.ip = g.id.pick(append(officeIPs, vpnIPs...))
	u.ua = uaCLI
	if name == "deploy-bot" {
		u.ip, u.ua = g.id.pick(ciIPs), uaBoto3
	}
	out := []Record{g.rec(t, &u, call{src: "sts.amazonaws.com", name: "GetCallerIdentity", ro: true})}
	for _, at := range n.steps(t, 1+g.id.r.IntN(8), time.Second, 40*time.Second) {
		out = append(out, g.rec(at, &u, n.read(&u, inv, false)))
	}
	return out
}

// ssoConsole: a person signs in through Identity Center and federates into
// an account's console with a permission set role.
func (n *noise) ssoConsole(t time.Time, inv *inventory) []Record {
	g := n.g
	person := g.id.pick(ssoPeople)
	if inv.account == AccountDev {
		person = g.id.pick(append(devPeople[:2], ssoPeople[:2]...))
	}
	ip := g.id.pick(append(officeIPs, homeIPs...))
	ua := g.id.pick(browserUAs)
	out, at := n.identityCenterSignIn(t, person, ip, ua)
	ps := psReadOnly
	if person == "erin@example.com" || person == "ivan@example.com" {
		ps = psAdmin
	} else if g.id.chance(0.5) {
		ps = psDev
	}
	ic := n.icUser(person, at, ip, ua)
	at = at.Add(g.id.jitter(2*time.Second, 20*time.Second))
	out = append(out, g.rec(at, ic, call{src: "sso.amazonaws.com", name: "Federate", region: ssoHomeRegion, ro: true, noRequestID: false,
		req:       Object{{"roleName", ps}, {"accountId", inv.account}},
		recipient: AccountMain, resources: nil}))
	role := g.session(g.w.ssoRole(inv.account, ps, person), at, ip, ua, true, false)
	at = at.Add(g.id.jitter(time.Second, 5*time.Second))
	out = append(out, g.consoleLogin(at, role, true, "No", ""))
	for _, at := range n.steps(at, 2+g.id.r.IntN(20), 5*time.Second, 2*time.Minute) {
		out = append(out, g.rec(at, role, n.read(role, inv, true)))
	}
	return out
}

// ssoCLI: `aws sso login` then a burst of CLI or Terraform calls with the role credentials.
func (n *noise) ssoCLI(t time.Time, inv *inventory) []Record {
	g := n.g
	person := g.id.pick(ssoPeople)
	ip := g.id.pick(append(officeIPs, vpnIPs...))
	ic := n.icUser(person, t, ip, uaCLI)
	ps := psAdmin
	if g.id.chance(0.5) {
		ps = psDev
	}
	out := []Record{
		g.rec(t, ic, call{src: "sso.amazonaws.com", name: "GetRoleCredentials", region: ssoHomeRegion, ro: true,
			req: Object{{"roleName", ps}, {"accountId", inv.account}}, recipient: AccountMain}),
	}
	role := g.session(g.w.ssoRole(inv.account, ps, person), t, ip, uaCLI, false, false)
	terraform := g.id.chance(0.4)
	count, lo, hi := 2+g.id.r.IntN(10), time.Second, 30*time.Second
	if terraform {
		role.ua = uaTerraform
		count, lo, hi = 15+g.id.r.IntN(40), 50*time.Millisecond, 2*time.Second
	}
	out = append(out, g.rec(t.Add(time.Second), role, call{src: "sts.amazonaws.com", name: "GetCallerIdentity", region: inv.region, ro: true}))
	for _, at := range n.steps(t.Add(time.Second), count, lo, hi) {
		out = append(out, g.rec(at, role, n.read(role, inv, false)))
	}
	return out
}

// samlConsole: the dev account still has an ADFS federation for one team.
func (n *noise) samlConsole(t time.Time, _ *inventory) []Record {
	g := n.g
	inv := n.invs[len(n.invs)-1]
	person := g.id.pick([]string{"jdoe@example.com", "asmith@example.com"})
	ip := g.id.pick(officeIPs)
	saml := &actor{kind: kindSAMLUser, account: inv.account, name: person, provider: "Q5vXnKzPj3wHfBYSp3FiDZExample=", ip: ip, ua: uaEdgeWin}
	target := g.w.role(inv.account, "ADFS-Developers", "/", person)
	creds, key := g.credentials(t, time.Hour)
	out := []Record{g.rec(t, saml, call{src: "sts.amazonaws.com", name: "AssumeRoleWithSAML", ro: true,
		req: Object{{"sAMLAssertionID", "_" + g.id.uuid()}, {"roleSessionName", person}, {"principalArn", "arn:aws:iam::" + inv.account + ":saml-provider/ADFS"}, {"roleArn", target.roleARN()}, {"durationSeconds", 3600}},
		resp: Object{{"credentials", creds}, {"assumedRoleUser", Object{{"assumedRoleId", target.id + ":" + person}, {"arn", target.arn()}}},
			{"subject", person}, {"subjectType", "persistent"}, {"issuer", "https://adfs.example.com/adfs/services/trust"}, {"audience", "https://signin.aws.amazon.com/saml"}, {"nameQualifier", "Q5vXnKzPj3wHfBYSp3FiDZExample="}},
		resources: []Object{{{"accountId", inv.account}, {"type", "AWS::IAM::Role"}, {"ARN", target.roleARN()}},
			{{"accountId", inv.account}, {"type", "AWS::IAM::SAMLProvider"}, {"ARN", "arn:aws:iam::" + inv.account + ":saml-provider/ADFS"}}},
	})}
	role := g.session(target, t, ip, uaEdgeWin, true, false)
	role.key = key
	at := t.Add(2 * time.Second)
	out = append(out, g.consoleLogin(at, role, true, "No", "arn:aws:iam::"+inv.account+":saml-provider/ADFS"))
	for _, at := range n.steps(at, 2+g.id.r.IntN(10), 5*time.Second, 90*time.Second) {
		out = append(out, g.rec(at, role, n.read(role, inv, true)))
	}
	return out
}

// ciDeploy: GitHub Actions assumes the deploy role through OIDC and ships.
func (n *noise) ciDeploy(t time.Time, inv *inventory) []Record {
	g := n.g
	repo := g.id.pick([]string{"example-corp/payments-api", "example-corp/invoice-pipeline", "example-corp/infra"})
	sub := "repo:" + repo + ":ref:refs/heads/main"
	provider := "arn:aws:iam::" + inv.account + ":oidc-provider/token.actions.githubusercontent.com"
	web := &actor{kind: kindWebIdentityUser, account: inv.account, name: sub, provider: provider, ip: g.id.pick(ciIPs), ua: uaGitHubOIDC}
	target := g.w.role(inv.account, "gha-deploy", "/", "GitHubActions")
	creds, key := g.credentials(t, time.Hour)
	out := []Record{g.rec(t, web, call{src: "sts.amazonaws.com", name: "AssumeRoleWithWebIdentity", region: inv.region, ro: true,
		req: Object{{"roleArn", target.roleARN()}, {"roleSessionName", "GitHubActions"}, {"durationSeconds", 3600}},
		resp: Object{{"credentials", creds}, {"subjectFromWebIdentityToken", sub},
			{"assumedRoleUser", Object{{"assumedRoleId", target.id + ":GitHubActions"}, {"arn", target.arn()}}},
			{"provider", provider}, {"audience", "sts.amazonaws.com"}},
		resources: []Object{{{"accountId", inv.account}, {"type", "AWS::IAM::Role"}, {"ARN", target.roleARN()}}},
		shared:    false,
	})}
	role := g.session(target, t, web.ip, uaGoSDK+"sts#1.33.14", false, false)
	role.key = key
	at := t.Add(time.Second)
	out = append(out, g.rec(at, role, call{src: "sts.amazonaws.com", name: "GetCallerIdentity", region: inv.region, ro: true}))
	fn := g.id.pick(inv.functions)
	stack := g.id.pick(inv.stacks)
	seq := []call{
		{src: "ecr.amazonaws.com", name: "GetAuthorizationToken", region: inv.region, ro: true, req: Object{{"registryIds", []string{inv.account}}}},
		{src: "cloudformation.amazonaws.com", name: "DescribeStacks", region: inv.region, ro: true, req: Object{{"stackName", stack}}},
		{src: "cloudformation.amazonaws.com", name: "CreateChangeSet", region: inv.region, req: Object{{"stackName", stack}, {"templateURL", "https://" + inv.buckets[0] + ".s3." + inv.region + ".amazonaws.com/cfn/" + stack + ".yaml"}, {"capabilities", []string{"CAPABILITY_IAM"}}, {"changeSetName", "gha-" + g.id.hex(8)}, {"changeSetType", "UPDATE"}},
			resp: Object{{"id", "arn:aws:cloudformation:" + inv.region + ":" + inv.account + ":changeSet/gha-" + g.id.hex(8) + "/" + g.id.uuid()}, {"stackId", "arn:aws:cloudformation:" + inv.region + ":" + inv.account + ":stack/" + stack + "/" + g.id.uuid()}}},
		{src: "cloudformation.amazonaws.com", name: "DescribeChangeSet", region: inv.region, ro: true, req: Object{{"changeSetName", "gha"}, {"stackName", stack}}},
		{src: "cloudformation.amazonaws.com", name: "ExecuteChangeSet", region: inv.region, req: Object{{"changeSetName", "gha"}, {"stackName", stack}}},
		{src: "lambda.amazonaws.com", name: "UpdateFunctionCode20150331v2", region: inv.region, req: Object{{"functionName", fn}, {"s3Bucket", inv.buckets[len(inv.buckets)-1]}, {"s3Key", "lambda/" + fn + "/" + g.id.hex(12) + ".zip"}, {"publish", true}},
			resp: Object{{"functionName", fn}, {"functionArn", "arn:aws:lambda:" + inv.region + ":" + inv.account + ":function:" + fn}, {"runtime", "provided.al2023"}, {"codeSize", int64(6_000_000 + g.id.r.IntN(2_000_000))}, {"version", "$LATEST"}, {"lastUpdateStatus", "InProgress"}}},
		{src: "ecs.amazonaws.com", name: "UpdateService", region: inv.region, req: Object{{"cluster", inv.cluster}, {"service", g.id.pick(inv.services)}, {"forceNewDeployment", true}}},
		{src: "ecs.amazonaws.com", name: "DescribeServices", region: inv.region, ro: true, req: Object{{"cluster", inv.cluster}, {"services", []string{g.id.pick(inv.services)}}}},
	}
	for i, at := range n.steps(at, len(seq), 2*time.Second, 40*time.Second) {
		out = append(out, g.rec(at, role, seq[i]))
	}
	return out
}

// serviceTick: a service assumes its role (Lambda, ECS tasks, EC2, Config,
// SSM…) and the role session makes a few calls.
func (n *noise) serviceTick(t time.Time, inv *inventory) []Record {
	g := n.g
	switch g.id.r.IntN(5) {
	case 0, 1: // Lambda function role.
		i := g.id.r.IntN(len(inv.functions))
		fn, roleName := inv.functions[i], inv.roles[i%len(inv.roles)]
		target := g.w.role(inv.account, roleName, "/service-role/", fn)
		r, role := g.assumeRole(t, service("lambda.amazonaws.com"), target, inv.region)
		role.ip, role.ua = "3.250.12."+itoa(10+g.id.r.IntN(200)), uaGoSDK+"kms#1.38.0"
		out := []Record{r}
		for _, at := range n.steps(t, 1+g.id.r.IntN(3), 100*time.Millisecond, 3*time.Second) {
			out = append(out, g.rec(at, role, n.workloadCall(inv)))
		}
		return out
	case 2: // EC2 instance role with the SSM agent, through a VPC endpoint.
		inst := g.id.pick(inv.instances)
		target := g.w.role(inv.account, "ec2-ssm-instance", "/", inst)
		target.ec2Role = true
		r, role := g.assumeRole(t, service("ec2.amazonaws.com"), target, inv.region)
		role.ip, role.ua, role.vpce = g.id.pick(privateIPs), uaSSMAgent, vpcEndpoint
		out := []Record{r}
		at := t.Add(g.id.jitter(time.Second, time.Minute))
		out = append(out, g.rec(at, role, call{src: "ssm.amazonaws.com", name: "UpdateInstanceInformation", region: inv.region,
			req: Object{{"instanceId", inst}, {"agentVersion", "3.3.1611.0"}, {"agentStatus", "Active"}, {"platformType", "Linux"}, {"platformName", "Amazon Linux"}, {"platformVersion", "2023"}, {"iPAddress", role.ip}, {"computerName", "ip-" + role.ip + ".ec2.internal"}, {"agentName", "amazon-ssm-agent"}, {"availabilityZone", inv.region + "a"}}}))
		return out
	case 3: // ECS task role.
		svc := g.id.pick(inv.services)
		target := g.w.role(inv.account, svc+"-task", "/", g.id.hex(32))
		r, role := g.assumeRole(t, service("ecs-tasks.amazonaws.com"), target, inv.region)
		role.ip, role.ua = g.id.pick(privateIPs), uaJava
		role.vpce = vpcEndpoint
		out := []Record{r}
		for _, at := range n.steps(t, 1+g.id.r.IntN(4), time.Second, 20*time.Second) {
			out = append(out, g.rec(at, role, n.workloadCall(inv)))
		}
		return out
	default: // AWS Config recorder describing resources.
		target := g.w.role(inv.account, "AWSServiceRoleForConfig", "/aws-service-role/config.amazonaws.com/", "AWSConfig-Describe")
		r, role := g.assumeRole(t, service("config.amazonaws.com"), target, inv.region)
		role.ip, role.ua = "config.amazonaws.com", "config.amazonaws.com"
		out := []Record{r}
		for _, at := range n.steps(t, 2+g.id.r.IntN(6), 200*time.Millisecond, 5*time.Second) {
			c := n.read(role, inv, false)
			out = append(out, g.rec(at, role, c))
		}
		return out
	}
}

// serviceEvent: events AWS services record on their own (AwsServiceEvent).
func (n *noise) serviceEvent(t time.Time, inv *inventory) []Record {
	g := n.g
	internal := &actor{kind: kindAWSService, name: "AWS Internal", account: inv.account}
	key := g.id.pick(inv.keys)
	r := g.rec(t, internal, call{src: "kms.amazonaws.com", name: "RotateKey", region: inv.region, evType: "AwsServiceEvent", noRequestID: true,
		resources: []Object{{{"accountId", inv.account}, {"type", "AWS::KMS::Key"}, {"ARN", "arn:aws:kms:" + inv.region + ":" + inv.account + ":key/" + key}}},
		details:   Object{{"keyId", key}}})
	r.UserIdentity = Object{{"accountId", inv.account}, {"invokedBy", "AWS Internal"}}
	r.ReadOnly = ptr(false)
	return []Record{r}
}

// audit: the security vendor's account assumes SecurityAudit and scans.
func (n *noise) audit(t time.Time, inv *inventory) []Record {
	g := n.g
	caller := &actor{kind: kindAWSAccount, account: AccountExternal, id: g.w.role(AccountExternal, "cspm-scanner", "/", "").id, session: "cspm-" + g.id.hex(8), ip: g.id.pick(scannerIPs), ua: uaSecurityHub}
	target := g.w.role(inv.account, "SecurityAuditRole", "/", caller.session)
	r, role := g.assumeRole(t, caller, target, global)
	r.SourceIPAddress, r.UserAgent = caller.ip, caller.ua
	r.TLSDetails = tls("sts.amazonaws.com", global)
	role.ip, role.ua = caller.ip, caller.ua
	out := []Record{r}
	for _, at := range n.steps(t, 10+g.id.r.IntN(40), 100*time.Millisecond, 3*time.Second) {
		out = append(out, g.rec(at, role, n.read(role, inv, false)))
	}
	return out
}

// federatedPortal: a legacy reporting portal hands out GetFederationToken sessions.
func (n *noise) federatedPortal(t time.Time, _ *inventory) []Record {
	g := n.g
	inv := n.invs[0]
	broker := *g.w.user(inv.account, "report-broker")
	broker.ip, broker.ua = "10.20.4.15", uaBoto3
	name := "reporting-" + g.id.pick([]string{"finance", "ops", "exec"})
	creds, key := g.credentials(t, 12*time.Hour)
	out := []Record{g.rec(t, &broker, call{src: "sts.amazonaws.com", name: "GetFederationToken", ro: true,
		req:  Object{{"name", name}, {"durationSeconds", 43200}, {"policyArns", []Object{{{"arn", g.policyARN("aws", "AWSBillingReadOnlyAccess")}}}}},
		resp: Object{{"credentials", creds}, {"federatedUser", Object{{"federatedUserId", inv.account + ":" + name}, {"arn", "arn:aws:sts::" + inv.account + ":federated-user/" + name}}}, {"packedPolicySize", 9}}})}
	fed := &actor{kind: kindFederatedUser, account: inv.account, name: name, key: key, issuer: &broker, since: t, ip: "10.20.4.15", ua: uaBoto3}
	for _, at := range n.steps(t, 1+g.id.r.IntN(3), time.Second, 10*time.Second) {
		out = append(out, g.rec(at, fed, call{src: "ce.amazonaws.com", name: "GetCostAndUsage", ro: true,
			req: Object{{"timePeriod", Object{{"start", at.AddDate(0, 0, -30).Format("2006-01-02")}, {"end", at.Format("2006-01-02")}}}, {"granularity", "DAILY"}, {"metrics", []string{"UnblendedCost"}}}}))
	}
	return out
}

// identityCenterSignIn is a person signing in to the AWS access portal:
// password, then MFA, then UserAuthentication. It returns the records and
// the time the sign-in completed.
func (n *noise) identityCenterSignIn(t time.Time, person, ip, ua string) ([]Record, time.Time) {
	g := n.g
	ic := n.icUser(person, t, ip, ua)
	flow := g.id.uuid()
	var out []Record
	at := t
	for _, cred := range []string{"PASSWORD", "TOTP"} {
		for _, name := range []string{"CredentialChallenge", "CredentialVerification"} {
			out = append(out, g.rec(at, ic, call{src: "signin.amazonaws.com", name: name, region: ssoHomeRegion, evType: "AwsServiceEvent", recipient: AccountMain,
				add:     Object{{"AuthWorkflowID", flow}, {"CredentialType", cred}, {"UserName", person}},
				details: Object{{name, "Success"}}}))
			at = at.Add(g.id.jitter(2*time.Second, 15*time.Second))
		}
	}
	out = append(out, g.rec(at, ic, call{src: "signin.amazonaws.com", name: "UserAuthentication", region: ssoHomeRegion, evType: "AwsServiceEvent", recipient: AccountMain,
		add:     Object{{"AuthWorkflowID", flow}, {"LoginTo", "https://" + identityStoreID + ".awsapps.com/start/"}, {"CredentialType", "PASSWORD,TOTP"}, {"UserName", person}},
		details: Object{{"UserAuthentication", "Success"}}}))
	return out, at
}

func (n *noise) icUser(person string, since time.Time, ip, ua string) *actor {
	g := n.g
	a := &actor{kind: kindIdentityCenterUser, account: AccountMain, name: person, userID: g.w.ssoUserID(person)}
	return g.session(a, since, ip, ua, true, true)
}

// consoleLogin is a successful console sign-in of a (IAM user, root, or a
// federated role session).
func (g *gen) consoleLogin(at time.Time, a *actor, ok bool, mfaUsed, samlProvider string) Record {
	signer := *a
	signer.key = ""
	add := Object{{"LoginTo", "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true"}, {"MobileVersion", "No"}}
	if samlProvider != "" {
		add = append(add, Field{"SamlProviderArn", samlProvider})
	}
	if mfaUsed == "Yes" && (a.kind == kindIAMUser || a.kind == kindRoot) {
		mfaARN := "arn:aws:iam::" + a.account + ":mfa/" + a.name
		if a.kind == kindRoot {
			mfaARN = "arn:aws:iam::" + a.account + ":mfa/root-account-mfa-device"
		}
		add = append(add, Field{"MFAIdentifier", mfaARN})
	}
	add = append(add, Field{"MFAUsed", mfaUsed})
	c := call{src: "signin.amazonaws.com", name: "ConsoleLogin", evType: "AwsConsoleSignIn", add: add,
		resp: Object{{"ConsoleLogin", "Success"}}}
	if !ok {
		c.resp = Object{{"ConsoleLogin", "Failure"}}
		c.errMsg = "Failed authentication"
	}
	if a.kind == kindIAMUser || a.kind == kindRoot {
		// The sign-in itself has no session yet.
		signer.console, signer.mfa = false, false
	}
	r := g.rec(at, &signer, c)
	r.ReadOnly = ptr(false)
	r.RequestID = ""
	return r
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	neg := i < 0
	if neg {
		i = -i
	}
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}

// recHeap orders records by event time, then event id (for determinism).
type recHeap []Record

func (h recHeap) Len() int { return len(h) }
func (h recHeap) Less(i, j int) bool {
	if !h[i].EventTime.Equal(h[j].EventTime) {
		return h[i].EventTime.Before(h[j].EventTime)
	}
	return h[i].EventID < h[j].EventID
}
func (h recHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *recHeap) Push(x any)   { *h = append(*h, x.(Record)) }
func (h *recHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = Record{}
	*h = old[:len(old)-1]
	return r
}
