package sample

import "time"

// instanceCredentials writes the records for instance credentials used off
// the instance and for the first-seen rules over a principal's calls.
//
// The web instance (the main account's first instance, role web-app) runs
// the SSM agent, which calls from the instance's public address all day 2.
// release-bot is an IAM user whose long-term key has run from the office
// network (AS64496 in the sample GeoIP database) since three weeks before
// day 1, changing things in the main region only.
//
// Day 2, 13:20: alice patches the instance with SendCommand from the office
// (the look-alike: the instance keeps calling from its own address). 14:41:
// release-bot's key, copied, is used from a hosting network in NL
// (192.0.2.77): it sends a shell command to the web instance, and a minute
// later the instance's credentials call from that same address; then the
// key launches an instance in a region it never used and invokes a Bedrock
// model it never used; the instance's credentials then look around (buckets,
// IAM, trails, GuardDuty), check whether the account can send mail and add
// a sender.
func (s *scenarios) instanceCredentials() {
	g, w, m := s.g, s.g.w, s.main
	const (
		instanceIP = "3.250.40.17" // the instance's public address (not in the sample GeoIP database)
		thiefIP    = "192.0.2.77"
		newRegion  = "ap-southeast-2"
	)
	instanceID := m.instances[0]
	web := w.role(AccountMain, "web-app", "/", instanceID)
	web.ec2Role, web.ip, web.ua, web.key, web.since = true, instanceIP, uaSSMAgent, g.id.iamID("ASIA"), s.at(2, 6, 0, 0)
	notInstance := []string{"negative:instance-credentials-stolen", "negative:instance-credentials-new-network", "negative:instance-credentials-outside-aws"}

	// The agent, every ten minutes from 13:00 to 16:00.
	for t := s.at(2, 13, 0, 0); t.Before(s.at(2, 16, 0, 0)); t = t.Add(10 * time.Minute) {
		s.put(g.rec(t.Add(g.id.jitter(0, 20*time.Second)), web, call{src: "ssm.amazonaws.com", name: "UpdateInstanceInformation", region: m.region,
			req: Object{{"instanceId", instanceID}, {"agentVersion", "3.3.1611.0"}, {"agentStatus", "Active"}, {"platformType", "Linux"},
				{"platformName", "Amazon Linux"}, {"platformVersion", "2023"}, {"agentName", "amazon-ssm-agent"}}}),
			ShapeTrail, notInstance...)
	}
	sendCommand := func(at time.Time, a *actor, doc string, tags ...string) {
		s.put(g.rec(at, a, call{src: "ssm.amazonaws.com", name: "SendCommand", region: m.region,
			req: Object{{"documentName", doc}, {"instanceIds", []string{instanceID}}, {"interactive", false}, {"parameters", "HIDDEN_DUE_TO_SECURITY_REASONS"}},
			resp: Object{{"command", Object{{"commandId", g.id.uuid()}, {"documentName", doc}, {"instanceIds", []string{instanceID}},
				{"status", "Pending"}}}}}), ShapeTrail, tags...)
	}
	alice := g.session(w.user(AccountMain, "alice"), s.at(2, 13, 20, 0), officeIPs[1], uaCLI+"ssm.send-command", false, true)
	sendCommand(s.at(2, 13, 20, 4), alice, "AWS-RunPatchBaseline", append([]string{"ssm-send-command"}, notInstance...)...)

	// release-bot's history: changes in the main region from the office.
	bot := w.user(AccountMain, "release-bot")
	bot.ip, bot.ua = officeIPs[1], uaBoto3
	quiet := []string{"negative:region-first-activity", "negative:service-first-use", "negative:access-key-new-asn"}
	tagInstance := func(at time.Time, tags ...string) {
		s.put(g.rec(at, bot, call{src: "ec2.amazonaws.com", name: "CreateTags", region: m.region,
			req:  Object{{"resourcesSet", Object{{"items", []Object{{{"resourceId", instanceID}}}}}}, {"tagSet", Object{{"items", []Object{{{"key", "release"}, {"value", "2025.03." + itoa(at.Day())}}}}}}},
			resp: Object{{"requestId", g.id.uuid()}, {"_return", true}}}), ShapeTrail, tags...)
	}
	for _, day := range []int{-19, -15, -8, -2} {
		tagInstance(s.at(day, 11, 5, 30), append([]string{"history"}, quiet...)...)
	}
	tagInstance(s.at(1, 11, 4, 12), quiet...)

	// Day 2: the key from the hosting network, a command on the instance...
	thief := *bot
	thief.ip, thief.ua = thiefIP, uaKali
	t := s.at(2, 14, 41, 9)
	step := func(lo, hi time.Duration) time.Time { t = t.Add(g.id.jitter(lo, hi)); return t }
	sendCommand(t, &thief, "AWS-RunShellScript", "ssm-send-command", "access-key-new-asn", "instance-credentials-stolen", "offensive-tool-user-agent")
	// ...then the instance's credentials from the same address.
	stolen := *web
	stolen.ip, stolen.ua = thiefIP, uaKali
	stolenTags := []string{"instance-credentials-stolen", "instance-credentials-new-network", "instance-credentials-outside-aws", "offensive-tool-user-agent"}
	s.put(g.rec(step(40*time.Second, 70*time.Second), &stolen, call{src: "sts.amazonaws.com", name: "GetCallerIdentity", ro: true}), ShapeTrail, stolenTags...)
	s.put(g.rec(step(2*time.Second, 5*time.Second), &stolen, call{src: "ec2.amazonaws.com", name: "DescribeInstances", region: m.region, ro: true,
		req: Object{{"instancesSet", Object{}}, {"filterSet", Object{}}}}), ShapeTrail, stolenTags...)
	// The key launches an instance in a region it never used...
	s.put(g.rec(step(5*time.Minute, 8*time.Minute), &thief, call{src: "ec2.amazonaws.com", name: "RunInstances", region: newRegion,
		req: Object{{"instancesSet", Object{{"items", []Object{{{"imageId", "ami-0c1d2e3f4a5b6c7d8"}, {"minCount", 1}, {"maxCount", 1}}}}}},
			{"instanceType", "c7i.16xlarge"}, {"blockDeviceMapping", Object{}}, {"monitoring", Object{{"enabled", false}}}, {"disableApiTermination", false}},
		resp: Object{{"requestId", g.id.uuid()}, {"reservationId", "r-" + g.id.hex(17)}, {"ownerId", AccountMain}}}),
		ShapeTrail, "region-first-activity", "negative:ec2-gpu-instances-launched")
	// ...and invokes a model, a service it never used.
	s.put(g.rec(step(2*time.Minute, 4*time.Minute), &thief, call{src: "bedrock.amazonaws.com", name: "InvokeModel", region: global, ro: true,
		req: Object{{"modelId", "anthropic.claude-3-5-sonnet-20240620-v1:0"}}}),
		ShapeTrail, "service-first-use", "negative:bedrock-model-access-enabled", "bedrock-invoked-many-regions")
	// ...and tries the model in two more regions, with a request it refuses.
	for _, region := range []string{"us-west-2", "eu-central-1"} {
		s.put(g.rec(step(2*time.Second, 5*time.Second), &thief, call{src: "bedrock.amazonaws.com", name: "InvokeModel", region: region, ro: true,
			req:     Object{{"modelId", "anthropic.claude-3-5-sonnet-20240620-v1:0"}},
			errCode: "ValidationException", errMsg: "Malformed input request: #/max_tokens: -1 is not greater or equal to 1, please reformat your input and try again."}),
			ShapeTrail, "bedrock-invoked-many-regions", "negative:bedrock-model-access-enabled")
	}
	// Back on the instance's credentials: what is there, who watches, and
	// whether the account can send mail.
	for _, c := range []call{
		{src: "s3.amazonaws.com", name: "ListBuckets", ro: true},
		{src: "iam.amazonaws.com", name: "GetAccountAuthorizationDetails", ro: true},
		{src: "cloudtrail.amazonaws.com", name: "DescribeTrails", region: m.region, ro: true},
		{src: "guardduty.amazonaws.com", name: "ListDetectors", region: m.region, ro: true},
		{src: "ses.amazonaws.com", name: "GetAccountSendingEnabled", region: m.region, ro: true},
		{src: "ses.amazonaws.com", name: "GetSendQuota", region: m.region, ro: true},
		{src: "ses.amazonaws.com", name: "ListIdentities", region: m.region, ro: true},
	} {
		tags := []string{"instance-credentials-discovery"}
		if c.src == "ses.amazonaws.com" {
			tags = append(tags, "ses-enumeration")
		}
		s.put(g.rec(step(3*time.Second, 9*time.Second), &stolen, c), ShapeTrail, tags...)
	}
	// It can: a sender identity for the spam to come.
	s.put(g.rec(step(20*time.Second, 40*time.Second), &stolen, call{src: "ses.amazonaws.com", name: "CreateEmailIdentity", region: m.region,
		req:  Object{{"emailIdentity", "billing-notice@example.net"}},
		resp: Object{{"identityType", "EMAIL_ADDRESS"}, {"verifiedForSendingStatus", false}}}), ShapeTrail, "ses-sending-setup")
	// Then a foothold of their own: is their usual key pair here already
	// (instances launched with it)? No: they make it. And a look at what the
	// instances' screens show, two of them refused.
	s.put(g.rec(step(20*time.Second, 40*time.Second), &stolen, call{src: "ec2.amazonaws.com", name: "DescribeInstances", region: m.region, ro: true,
		req: Object{{"instancesSet", Object{}}, {"filterSet", Object{{"items", []Object{{{"name", "key-name"}, {"valueSet", Object{{"items", []Object{{{"value", "xg1"}}}}}}}}}}}}}),
		ShapeTrail, "ec2-keypair-after-key-check")
	s.put(g.rec(step(5*time.Second, 15*time.Second), &stolen, call{src: "ec2.amazonaws.com", name: "CreateKeyPair", region: m.region,
		req:  Object{{"keyName", "xg1"}, {"keyType", "rsa"}, {"keyFormat", "pem"}},
		resp: Object{{"requestId", g.id.uuid()}, {"keyName", "xg1"}, {"keyFingerprint", g.id.hex(2) + ":" + g.id.hex(2) + ":" + g.id.hex(2) + ":" + g.id.hex(2)}, {"keyPairId", "key-" + g.id.hex(17)}, {"keyMaterial", "<sensitiveDataRemoved>"}}}),
		ShapeTrail, "ec2-keypair-suspicious", "ec2-keypair-after-key-check")
	for i, instance := range []string{m.instances[1], m.instances[2], m.instances[3]} {
		c := call{src: "ec2.amazonaws.com", name: "GetConsoleScreenshot", region: m.region, ro: true, req: Object{{"instanceId", instance}, {"wakeUp", true}}}
		if i > 0 {
			c.errCode, c.errMsg = "Client.UnauthorizedOperation", "You are not authorized to perform this operation."
		}
		s.put(g.rec(step(3*time.Second, 9*time.Second), &stolen, c), ShapeTrail, "ec2-console-screenshot")
	}
}
