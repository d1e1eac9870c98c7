package sample

import "time"

// Resource policies of the backdoor scenarios: the attacker's grants to an
// outside account, and the look-alikes a responder must not be woken for.
const (
	bucketPolicyExternal = `{"Version":"2012-10-17","Statement":[{"Sid":"Replication","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::777788889999:root"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::example-corp-prod-assets","arn:aws:s3:::example-corp-prod-assets/*"]}]}`
	bucketPolicyTrail    = `{"Version":"2012-10-17","Statement":[{"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::example-corp-cloudtrail-logs"},{"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::example-corp-cloudtrail-logs/AWSLogs/111122223333/*","Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control","aws:SourceAccount":"111122223333"}}}]}`
	keyPolicyExternal    = `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},{"Sid":"Allow use of the key","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::777788889999:root"},"Action":["kms:Decrypt","kms:DescribeKey","kms:CreateGrant"],"Resource":"*"}]}`
	queuePolicyPublic    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["sqs:ReceiveMessage","sqs:SendMessage"],"Resource":"arn:aws:sqs:eu-west-1:111122223333:invoice-jobs"}]}`
	topicPolicyDefault   = `{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:Subscribe","SNS:Publish"],"Resource":"arn:aws:sns:eu-west-1:111122223333:ops-alerts","Condition":{"StringEquals":{"AWS:SourceOwner":"111122223333"}}}]}`
)

// backdoors writes the records for sharing and resource-policy backdoors,
// remote execution and compute backdoors:
//
//   - day 1: the same calls made for good reasons, which still alert when
//     they are risky (an ML engineer's GPU launch, an operator's SSM
//     command), and look-alikes that must not (a CloudTrail bucket policy,
//     the default topic policy, an S3-invoked Lambda permission, HTTPS open
//     to the world, termination protection);
//   - day 2, 15:05: bob's stolen session comes back from the attacker's
//     address and plants backdoors: a snapshot, an AMI and a DB snapshot
//     shared out, a function made public, bucket, key and queue policies
//     opened, block public access removed, RDP opened to the internet,
//     commands, sessions and SSH keys on instances, serial console access,
//     new user data, a foreign Lambda layer, GPU launches stopped by the
//     vCPU quota, Bedrock model access;
//   - day 3: alice revokes the shares and restores block public access.
func (s *scenarios) backdoors() {
	g, w, m := s.g, s.g.w, s.main
	ec2 := func(name string, req, resp Object) call {
		return call{src: "ec2.amazonaws.com", name: name, region: m.region, req: req, resp: resp}
	}
	rid := func() Field { return Field{"requestId", g.id.uuid()} }
	ok := func() Object { return Object{rid(), {"_return", true}} }
	s3 := func(name, bucket string, extra ...Field) call {
		req := Object{{"bucketName", bucket}, {"Host", bucket + ".s3." + m.region + ".amazonaws.com"}}
		return call{src: "s3.amazonaws.com", name: name, region: m.region, req: append(req, extra...),
			resources: []Object{{{"accountId", AccountMain}, {"type", "AWS::S3::Bucket"}, {"ARN", "arn:aws:s3:::" + bucket}}}}
	}
	fnARN := func(fn string) string { return "arn:aws:lambda:" + m.region + ":" + AccountMain + ":function:" + fn }
	snapshot, image := "snap-"+g.id.hex(17), "ami-"+g.id.hex(17)

	// Day 1, 10:40: an ML engineer launches a GPU training box (a true
	// positive a team that runs GPUs will allow-list), an operator patches
	// two instances with SSM, and routine changes that must stay quiet.
	maya := g.session(w.ssoRole(AccountMain, psAdmin, "maya@example.com"), s.at(1, 10, 38, 0), officeIPs[2], uaCLI+"ec2.run-instances", false, false)
	t := s.at(1, 10, 40, 12)
	step := func(lo, hi time.Duration) time.Time { t = t.Add(g.id.jitter(lo, hi)); return t }
	run := func(instanceType string, n int) Object {
		return Object{{"instancesSet", Object{{"items", []Object{{{"imageId", "ami-" + g.id.hex(17)}, {"minCount", 1}, {"maxCount", n}}}}}},
			{"instanceType", instanceType}, {"blockDeviceMapping", Object{}}, {"monitoring", Object{{"enabled", false}}},
			{"subnetId", m.subnets[0]}, {"disableApiTermination", false}, {"disableApiStop", false}, {"clientToken", g.id.uuid()}}
	}
	s.put(g.rec(t, maya, ec2("RunInstances", run("p4d.24xlarge", 1), Object{rid(), {"reservationId", "r-" + g.id.hex(17)}, {"ownerId", AccountMain}})),
		ShapeTrail, "ec2-gpu-instances-launched")
	s.put(g.rec(step(time.Minute, 2*time.Minute), maya, ec2("RunInstances", run("t3.large", 1), Object{rid(), {"reservationId", "r-" + g.id.hex(17)}, {"ownerId", AccountMain}})),
		ShapeTrail, "negative:ec2-gpu-instances-launched")
	s.put(g.rec(step(time.Minute, 2*time.Minute), maya, call{src: "ssm.amazonaws.com", name: "SendCommand", region: m.region,
		req:  Object{{"documentName", "AWS-RunPatchBaseline"}, {"instanceIds", []string{m.instances[0], m.instances[1]}}, {"interactive", false}, {"parameters", "HIDDEN_DUE_TO_SECURITY_REASONS"}},
		resp: Object{{"command", Object{{"commandId", g.id.uuid()}, {"documentName", "AWS-RunPatchBaseline"}, {"status", "Pending"}}}}}),
		ShapeTrail, "ssm-send-command")
	s.put(g.rec(step(time.Minute, 2*time.Minute), maya, ec2("ModifyInstanceAttribute", Object{{"instanceId", m.instances[2]}, {"disableApiTermination", Object{{"value", true}}}}, ok())),
		ShapeTrail, "negative:ec2-user-data-changed")
	s.put(g.rec(step(time.Minute, 2*time.Minute), maya, ec2("AuthorizeSecurityGroupIngress",
		Object{{"groupId", m.groups[1]}, {"ipPermissions", Object{{"items", []Object{{{"ipProtocol", "tcp"}, {"fromPort", 443}, {"toPort", 443}, {"groups", Object{}},
			{"ipRanges", Object{{"items", []Object{{{"cidrIp", "0.0.0.0/0"}, {"description", "HTTPS from the internet"}}}}}}, {"ipv6Ranges", Object{}}, {"prefixListIds", Object{}}}}}}}},
		ok())),
		ShapeTrail, "security-group-changed", "negative:security-group-open-admin-port")
	s.put(g.rec(step(time.Minute, 2*time.Minute), maya, call{src: "lambda.amazonaws.com", name: "AddPermission20150331v2", region: m.region,
		req: Object{{"functionName", m.functions[1]}, {"statementId", "s3-invoke"}, {"action", "lambda:InvokeFunction"}, {"principal", "s3.amazonaws.com"},
			{"sourceArn", "arn:aws:s3:::" + m.buckets[1]}, {"sourceAccount", AccountMain}}}),
		ShapeTrail, "negative:lambda-permission-external")
	s.put(g.rec(step(time.Minute, 2*time.Minute), maya, s3("PutBucketPolicy", m.buckets[2], Field{"bucketPolicy", jsonObject(bucketPolicyTrail)}, Field{"policy", ""})),
		ShapeTrail, "s3-bucket-policy-changed", "negative:s3-bucket-policy-external")
	s.put(g.rec(step(time.Minute, 2*time.Minute), maya, call{src: "sns.amazonaws.com", name: "SetTopicAttributes", region: m.region,
		req: Object{{"topicArn", "arn:aws:sns:" + m.region + ":" + AccountMain + ":ops-alerts"}, {"attributeName", "Policy"}, {"attributeValue", topicPolicyDefault}}}),
		ShapeTrail, "negative:resource-policy-external")

	// Day 2, 15:05: bob's password again, from the attacker's address.
	t = s.at(2, 15, 5, 31)
	bob := g.session(w.user(AccountMain, "bob"), t, attackerIP, uaFirefoxWin, true, false)
	s.put(g.consoleLogin(t, bob, true, "No", ""), ShapeTrail, "console-signin-without-mfa")
	s.put(g.rec(step(time.Minute, 2*time.Minute), bob, ec2("ModifySnapshotAttribute",
		Object{{"snapshotId", snapshot}, {"attributeType", "CREATE_VOLUME_PERMISSION"}, {"createVolumePermission", Object{{"add", Object{{"items", []Object{{{"userId", AccountExternal}}}}}}}}}, ok())),
		ShapeTrail, "ebs-snapshot-shared")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, ec2("ModifyImageAttribute",
		Object{{"imageId", image}, {"attributeType", "launchPermission"}, {"launchPermission", Object{{"add", Object{{"items", []Object{{{"group", "all"}}}}}}}}}, ok())),
		ShapeTrail, "ami-shared")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, call{src: "rds.amazonaws.com", name: "ModifyDBSnapshotAttribute", region: m.region,
		req:  Object{{"dBSnapshotIdentifier", "payments-ledger-nightly"}, {"attributeName", "restore"}, {"valuesToAdd", []string{AccountExternal}}},
		resp: Object{{"dBSnapshotIdentifier", "payments-ledger-nightly"}, {"dBSnapshotAttributes", []Object{{{"attributeName", "restore"}, {"attributeValues", []string{AccountExternal}}}}}}}),
		ShapeTrail, "rds-snapshot-shared")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, call{src: "lambda.amazonaws.com", name: "AddPermission20150331v2", region: m.region,
		req: Object{{"functionName", m.functions[0]}, {"statementId", "support"}, {"action", "lambda:InvokeFunction"}, {"principal", "*"}}}),
		ShapeTrail, "lambda-permission-external")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, s3("DeleteBucketPublicAccessBlock", m.buckets[0], Field{"publicAccessBlock", ""})),
		ShapeTrail, "s3-public-access-block-removed")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, s3("PutBucketPolicy", m.buckets[0], Field{"bucketPolicy", jsonObject(bucketPolicyExternal)}, Field{"policy", ""})),
		ShapeTrail, "s3-bucket-policy-external")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, call{src: "kms.amazonaws.com", name: "PutKeyPolicy", region: m.region,
		req:       Object{{"keyId", m.keys[1]}, {"policyName", "default"}, {"policy", keyPolicyExternal}, {"bypassPolicyLockoutSafetyCheck", false}},
		resources: []Object{{{"accountId", AccountMain}, {"type", "AWS::KMS::Key"}, {"ARN", "arn:aws:kms:" + m.region + ":" + AccountMain + ":key/" + m.keys[1]}}}}),
		ShapeTrail, "resource-policy-external")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, call{src: "sqs.amazonaws.com", name: "SetQueueAttributes", region: m.region,
		req: Object{{"queueUrl", "https://sqs." + m.region + ".amazonaws.com/" + AccountMain + "/invoice-jobs"}, {"attributes", Object{{"Policy", queuePolicyPublic}}}}}),
		ShapeTrail, "resource-policy-external")
	s.put(g.rec(step(time.Minute, 2*time.Minute), bob, ec2("AuthorizeSecurityGroupIngress",
		Object{{"groupId", m.groups[2]}, {"ipPermissions", Object{{"items", []Object{{{"ipProtocol", "tcp"}, {"fromPort", 3389}, {"toPort", 3389}, {"groups", Object{}},
			{"ipRanges", Object{{"items", []Object{{{"cidrIp", "0.0.0.0/0"}}}}}}, {"ipv6Ranges", Object{}}, {"prefixListIds", Object{}}}}}}}},
		ok())),
		ShapeTrail, "security-group-open-admin-port", "negative:security-group-changed")
	s.put(g.rec(step(time.Minute, 2*time.Minute), bob, ec2("EnableSerialConsoleAccess", Object{{"EnableSerialConsoleAccessRequest", ""}},
		Object{{"EnableSerialConsoleAccessResponse", Object{{"xmlns", "http://ec2.amazonaws.com/doc/2016-11-15/"}, rid(), {"serialConsoleAccessEnabled", true}}}})),
		ShapeTrail, "ec2-serial-console-enabled")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, call{src: "ec2-instance-connect.amazonaws.com", name: "SendSSHPublicKey", region: m.region,
		req:  Object{{"instanceId", m.instances[3]}, {"instanceOSUser", "ec2-user"}, {"sSHPublicKey", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + g.id.token(43)}},
		resp: Object{rid(), {"success", true}}}),
		ShapeTrail, "ec2-instance-connect-key-pushed")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, call{src: "ssm.amazonaws.com", name: "StartSession", region: m.region,
		req:  Object{{"target", m.instances[4]}},
		resp: Object{{"sessionId", "bob-" + g.id.hex(17)}, {"tokenValue", "Value hidden due to security reasons."}, {"streamUrl", "wss://ssmmessages." + m.region + ".amazonaws.com/v1/data-channel/bob-" + g.id.hex(17) + "?role=publish_subscribe"}}}),
		ShapeTrail, "ssm-start-session")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, call{src: "ssm.amazonaws.com", name: "SendCommand", region: m.region,
		req:  Object{{"documentName", "AWS-RunShellScript"}, {"instanceIds", []string{m.instances[3], m.instances[4], m.instances[5]}}, {"interactive", false}, {"parameters", "HIDDEN_DUE_TO_SECURITY_REASONS"}},
		resp: Object{{"command", Object{{"commandId", g.id.uuid()}, {"documentName", "AWS-RunShellScript"}, {"status", "Pending"}}}}}),
		ShapeTrail, "ssm-send-command")
	s.put(g.rec(step(time.Minute, 2*time.Minute), bob, ec2("StopInstances", Object{{"instancesSet", Object{{"items", []Object{{{"instanceId", m.instances[5]}}}}}}, {"force", false}}, Object{rid()})),
		ShapeTrail)
	s.put(g.rec(step(time.Minute, 2*time.Minute), bob, ec2("ModifyInstanceAttribute", Object{{"instanceId", m.instances[5]}, {"userData", "<sensitiveDataRemoved>"}}, ok())),
		ShapeTrail, "ec2-user-data-changed")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, ec2("StartInstances", Object{{"instancesSet", Object{{"items", []Object{{{"instanceId", m.instances[5]}}}}}}}, Object{rid()})),
		ShapeTrail)
	s.put(g.rec(step(time.Minute, 2*time.Minute), bob, call{src: "lambda.amazonaws.com", name: "UpdateFunctionConfiguration20150331v2", region: m.region,
		req: Object{{"functionName", fnARN(m.functions[2])}, {"layers", []string{"arn:aws:lambda:" + m.region + ":" + AccountExternal + ":layer:otel-collector:7"}}}}),
		ShapeTrail, "lambda-function-changed")
	for range 2 {
		r := g.rec(step(20*time.Second, time.Minute), bob, ec2("RunInstances", run("g5.12xlarge", 10), nil))
		r.ErrorCode, r.ErrorMessage = "Client.VcpuLimitExceeded", "You have requested more vCPU capacity than your current vCPU limit of 0 allows for the instance bucket that the specified instance type belongs to."
		s.put(r, ShapeTrail, "ec2-gpu-instances-launched")
	}
	bedrock := func(name string, req Object) call {
		return call{src: "bedrock.amazonaws.com", name: name, region: "us-east-1", req: req}
	}
	s.put(g.rec(step(time.Minute, 2*time.Minute), bob, bedrock("PutUseCaseForModelAccess", nil)), ShapeTrail, "bedrock-model-access-enabled")
	s.put(g.rec(step(10*time.Second, 30*time.Second), bob, bedrock("CreateFoundationModelAgreement", Object{{"modelId", "anthropic.claude-3-5-sonnet-20240620-v1:0"}, {"offerToken", "HIDDEN_DUE_TO_SECURITY_REASONS"}})),
		ShapeTrail, "bedrock-model-access-enabled")
	s.put(g.rec(step(10*time.Second, 30*time.Second), bob, bedrock("PutFoundationModelEntitlement", Object{{"modelId", "anthropic.claude-3-5-sonnet-20240620-v1:0"}})),
		ShapeTrail, "bedrock-model-access-enabled")
	// The payments database: snapshots of new volumes unencrypted from now
	// on, the master password reset, a public copy of last night's snapshot;
	// a function anyone can call; the web ACL off the load balancer; the
	// golden image gone with its snapshots.
	rds := func(name string, req, resp Object) call {
		return call{src: "rds.amazonaws.com", name: name, region: m.region, req: req, resp: resp}
	}
	s.put(g.rec(step(time.Minute, 2*time.Minute), bob, ec2("DisableEbsEncryptionByDefault", Object{{"DisableEbsEncryptionByDefaultRequest", ""}},
		Object{{"DisableEbsEncryptionByDefaultResponse", Object{{"xmlns", "http://ec2.amazonaws.com/doc/2016-11-15/"}, rid(), {"ebsEncryptionByDefault", false}}}})),
		ShapeTrail, "ebs-default-encryption-disabled")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, rds("ModifyDBInstance",
		Object{{"dBInstanceIdentifier", "payments-ledger"}, {"masterUserPassword", "****"}, {"applyImmediately", true}},
		Object{{"dBInstanceIdentifier", "payments-ledger"}, {"dBInstanceStatus", "available"}, {"pendingModifiedValues", Object{{"masterUserPassword", "****"}}}, {"publiclyAccessible", false}})),
		ShapeTrail, "rds-master-password-reset", "negative:rds-made-public")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, rds("RestoreDBInstanceFromDBSnapshot",
		Object{{"dBInstanceIdentifier", "payments-ledger-copy"}, {"dBSnapshotIdentifier", "payments-ledger-nightly"}, {"dBInstanceClass", "db.t3.medium"}, {"publiclyAccessible", true}},
		Object{{"dBInstanceIdentifier", "payments-ledger-copy"}, {"dBInstanceStatus", "creating"}, {"publiclyAccessible", true}})),
		ShapeTrail, "rds-made-public", "negative:rds-master-password-reset")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, call{src: "lambda.amazonaws.com", name: "CreateFunctionUrlConfig20211031", region: m.region,
		req:  Object{{"functionName", m.functions[0]}, {"authType", "NONE"}, {"cors", Object{{"allowOrigins", []string{"*"}}}}},
		resp: Object{{"functionUrl", "https://" + g.id.hex(32) + ".lambda-url." + m.region + ".on.aws/"}, {"functionArn", fnARN(m.functions[0])}, {"authType", "NONE"}}}),
		ShapeTrail, "lambda-function-url-public")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, call{src: "wafv2.amazonaws.com", name: "DisassociateWebACL", region: m.region,
		req: Object{{"resourceArn", "arn:aws:elasticloadbalancing:" + m.region + ":" + AccountMain + ":loadbalancer/app/payments-web/" + g.id.hex(16)}}}),
		ShapeTrail, "waf-protection-removed")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, ec2("DeregisterImage", Object{{"imageId", image}, {"deleteAssociatedSnapshots", true}}, ok())),
		ShapeTrail, "ami-deregistered")
	// A whole machine written out to a bucket of theirs, a KMS key whose
	// only copy of the material is theirs, a region nobody watches, and
	// the company's domain unlocked for a transfer.
	s.put(g.rec(step(20*time.Second, time.Minute), bob, ec2("CreateInstanceExportTask",
		Object{{"instanceId", m.instances[3]}, {"targetEnvironment", "vmware"},
			{"exportToS3", Object{{"diskImageFormat", "VMDK"}, {"containerFormat", "ova"}, {"s3Bucket", "vm-archive-" + g.id.hex(6)}, {"s3Prefix", "exports/"}}}},
		Object{rid(), {"exportTask", Object{{"exportTaskId", "export-i-" + g.id.hex(17)}, {"state", "active"}}}})),
		ShapeTrail, "ec2-instance-exported")
	extKey := g.id.uuid()
	kms := func(name string, req, resp Object) call {
		return call{src: "kms.amazonaws.com", name: name, region: m.region, req: req, resp: resp}
	}
	s.put(g.rec(step(20*time.Second, time.Minute), bob, kms("CreateKey", Object{{"origin", "EXTERNAL"}, {"keySpec", "SYMMETRIC_DEFAULT"}, {"keyUsage", "ENCRYPT_DECRYPT"}},
		Object{{"keyMetadata", Object{{"keyId", extKey}, {"origin", "EXTERNAL"}, {"keyState", "PendingImport"}}}})),
		ShapeTrail, "negative:kms-key-material-imported")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, kms("ImportKeyMaterial",
		Object{{"keyId", extKey}, {"importType", "NEW_KEY_MATERIAL"}, {"expirationModel", "KEY_MATERIAL_EXPIRES"}, {"validTo", "Mar 19, 2025, 12:00:00 AM"}},
		Object{{"keyId", "arn:aws:kms:" + m.region + ":" + AccountMain + ":key/" + extKey}, {"keyMaterialId", g.id.hex(64)}})),
		ShapeTrail, "kms-key-material-imported")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, call{src: "account.amazonaws.com", name: "EnableRegion", region: "us-east-1",
		req: Object{{"RegionName", "me-central-1"}}}),
		ShapeTrail, "region-enabled")
	s.put(g.rec(step(20*time.Second, time.Minute), bob, call{src: "route53domains.amazonaws.com", name: "DisableDomainTransferLock", region: "us-east-1",
		req: Object{{"domainName", "example-corp.com"}}, resp: Object{{"operationId", g.id.uuid()}}}),
		ShapeTrail, "route53-domain-transfer")

	// Day 3, 11:15: alice takes the shares back and restores block public access.
	t = s.at(3, 11, 15, 2)
	alice := g.session(w.user(AccountMain, "alice"), t, officeIPs[1], uaChromeMac, true, true)
	s.put(g.rec(t, alice, ec2("ModifySnapshotAttribute",
		Object{{"snapshotId", snapshot}, {"attributeType", "CREATE_VOLUME_PERMISSION"}, {"createVolumePermission", Object{{"remove", Object{{"items", []Object{{{"userId", AccountExternal}}}}}}}}}, ok())),
		ShapeTrail, "negative:ebs-snapshot-shared")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, ec2("ModifyImageAttribute",
		Object{{"imageId", image}, {"attributeType", "launchPermission"}, {"launchPermission", Object{{"remove", Object{{"items", []Object{{{"group", "all"}}}}}}}}}, ok())),
		ShapeTrail, "negative:ami-shared")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, call{src: "rds.amazonaws.com", name: "ModifyDBSnapshotAttribute", region: m.region,
		req: Object{{"dBSnapshotIdentifier", "payments-ledger-nightly"}, {"attributeName", "restore"}, {"valuesToRemove", []string{AccountExternal}}}}),
		ShapeTrail, "negative:rds-snapshot-shared")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, s3("PutBucketPublicAccessBlock", m.buckets[0], Field{"publicAccessBlock", ""},
		Field{"PublicAccessBlockConfiguration", Object{{"xmlns", "http://s3.amazonaws.com/doc/2006-03-01/"}, {"RestrictPublicBuckets", true}, {"BlockPublicPolicy", true}, {"BlockPublicAcls", true}, {"IgnorePublicAcls", true}}})),
		ShapeTrail, "s3-bucket-policy-changed", "negative:s3-public-access-block-removed")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, ec2("DisableSerialConsoleAccess", Object{{"DisableSerialConsoleAccessRequest", ""}}, nil)),
		ShapeTrail, "negative:ec2-serial-console-enabled")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, ec2("EnableEbsEncryptionByDefault", Object{{"EnableEbsEncryptionByDefaultRequest", ""}},
		Object{{"EnableEbsEncryptionByDefaultResponse", Object{{"xmlns", "http://ec2.amazonaws.com/doc/2016-11-15/"}, rid(), {"ebsEncryptionByDefault", true}}}})),
		ShapeTrail, "negative:ebs-default-encryption-disabled")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, call{src: "rds.amazonaws.com", name: "ModifyDBInstance", region: m.region,
		req:  Object{{"dBInstanceIdentifier", "payments-ledger-copy"}, {"publiclyAccessible", false}, {"applyImmediately", true}},
		resp: Object{{"dBInstanceIdentifier", "payments-ledger-copy"}, {"dBInstanceStatus", "available"}, {"publiclyAccessible", true}}}),
		ShapeTrail, "negative:rds-made-public", "negative:rds-master-password-reset")
	s.put(g.rec(step(20*time.Second, time.Minute), alice, call{src: "lambda.amazonaws.com", name: "UpdateFunctionUrlConfig20211031", region: m.region,
		req: Object{{"functionName", m.functions[0]}, {"authType", "AWS_IAM"}}}),
		ShapeTrail, "negative:lambda-function-url-public")
}
