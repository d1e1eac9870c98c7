package sample

// read returns one read-only call a person or a scanner typically makes, in
// inv's workload region unless the service is global. console selects the
// console's flavour of some requests. Now and then a call fails the way
// such calls do (NoSuchBucketPolicy, NoSuchEntity) — never AccessDenied,
// which the scenarios own.
func (n *noise) read(a *actor, inv *inventory, console bool) call {
	g := n.g
	region := inv.region
	if g.id.chance(0.15) {
		region = global
	}
	bucket := g.id.pick(inv.buckets)
	s3host := bucket + ".s3." + region + ".amazonaws.com"
	user := g.id.pick(append(mainUsers, "deploy-bot"))
	switch g.id.r.IntN(34) {
	case 0, 1, 2:
		return call{src: "ec2.amazonaws.com", name: "DescribeInstances", region: region, ro: true,
			req: Object{{"instancesSet", Object{}}, {"filterSet", Object{}}}}
	case 3:
		return call{src: "ec2.amazonaws.com", name: "DescribeSecurityGroups", region: region, ro: true,
			req: Object{{"securityGroupSet", Object{}}, {"securityGroupIdSet", Object{}}, {"filterSet", Object{}}}}
	case 4:
		return call{src: "ec2.amazonaws.com", name: "DescribeVpcs", region: region, ro: true,
			req: Object{{"vpcSet", Object{}}, {"filterSet", Object{}}}}
	case 5:
		return call{src: "ec2.amazonaws.com", name: "DescribeSubnets", region: region, ro: true,
			req: Object{{"subnetSet", Object{}}, {"filterSet", Object{{"items", []Object{{{"name", "vpc-id"}, {"valueSet", Object{{"items", []Object{{{"value", g.id.pick(inv.vpcs)}}}}}}}}}}}}}
	case 6:
		return call{src: "ec2.amazonaws.com", name: "DescribeVolumes", region: region, ro: true,
			req: Object{{"volumeSet", Object{}}, {"filterSet", Object{}}, {"maxResults", 500}}}
	case 7:
		return call{src: "ec2.amazonaws.com", name: "DescribeRegions", region: region, ro: true,
			req: Object{{"regionSet", Object{}}, {"allRegions", false}}}
	case 8:
		return call{src: "s3.amazonaws.com", name: "ListBuckets", region: global, ro: true,
			req: Object{{"Host", "s3.amazonaws.com"}}}
	case 9:
		return call{src: "s3.amazonaws.com", name: "GetBucketLocation", region: inv.region, ro: true,
			req: Object{{"bucketName", bucket}, {"Host", s3host}, {"location", ""}}}
	case 10:
		c := call{src: "s3.amazonaws.com", name: "GetBucketPolicy", region: inv.region, ro: true,
			req: Object{{"bucketName", bucket}, {"Host", s3host}, {"policy", ""}}}
		if bucket != inv.buckets[0] && g.id.chance(0.7) {
			c.errCode, c.errMsg = "NoSuchBucketPolicy", "The bucket policy does not exist"
		}
		return c
	case 11:
		return call{src: "s3.amazonaws.com", name: "GetBucketAcl", region: inv.region, ro: true,
			req: Object{{"bucketName", bucket}, {"Host", s3host}, {"acl", ""}}}
	case 12:
		return call{src: "s3.amazonaws.com", name: "GetBucketEncryption", region: inv.region, ro: true,
			req: Object{{"bucketName", bucket}, {"Host", s3host}, {"encryption", ""}}}
	case 13:
		return call{src: "s3.amazonaws.com", name: "GetBucketVersioning", region: inv.region, ro: true,
			req: Object{{"bucketName", bucket}, {"Host", s3host}, {"versioning", ""}}}
	case 14:
		return call{src: "iam.amazonaws.com", name: "ListUsers", region: global, ro: true, req: Object{{"maxItems", 1000}}}
	case 15:
		return call{src: "iam.amazonaws.com", name: "ListRoles", region: global, ro: true, req: Object{{"maxItems", 1000}}}
	case 16:
		c := call{src: "iam.amazonaws.com", name: "GetUser", region: global, ro: true, req: Object{{"userName", user}}}
		if inv.account != AccountMain {
			c.errCode, c.errMsg = "NoSuchEntityException", "The user with name "+user+" cannot be found."
		}
		return c
	case 17:
		return call{src: "iam.amazonaws.com", name: "ListAttachedRolePolicies", region: global, ro: true, req: Object{{"roleName", g.id.pick(inv.roles)}}}
	case 18:
		return call{src: "iam.amazonaws.com", name: "GetAccountSummary", region: global, ro: true}
	case 19:
		return call{src: "iam.amazonaws.com", name: "ListPolicies", region: global, ro: true, req: Object{{"scope", "Local"}, {"onlyAttached", false}, {"maxItems", 100}}}
	case 20:
		return call{src: "sts.amazonaws.com", name: "GetCallerIdentity", region: region, ro: true}
	case 21:
		return call{src: "kms.amazonaws.com", name: "ListKeys", region: inv.region, ro: true, req: Object{{"limit", 1000}}}
	case 22:
		return call{src: "kms.amazonaws.com", name: "DescribeKey", region: inv.region, ro: true,
			req:       Object{{"keyId", g.id.pick(inv.keys)}},
			resources: nil}
	case 23:
		return call{src: "cloudtrail.amazonaws.com", name: "DescribeTrails", region: region, ro: true, req: Object{{"includeShadowTrails", true}}}
	case 24:
		return call{src: "cloudtrail.amazonaws.com", name: "LookupEvents", region: region, ro: true,
			req: Object{{"maxResults", 50}, {"lookupAttributes", []Object{{{"attributeKey", "ReadOnly"}, {"attributeValue", "false"}}}}}}
	case 25:
		return call{src: "logs.amazonaws.com", name: "DescribeLogGroups", region: inv.region, ro: true, req: Object{{"limit", 50}}}
	case 26:
		fn := g.id.pick(inv.functions)
		return call{src: "logs.amazonaws.com", name: "DescribeLogStreams", region: inv.region, ro: true,
			req: Object{{"logGroupName", "/aws/lambda/" + fn}, {"orderBy", "LastEventTime"}, {"descending", true}, {"limit", 50}}}
	case 27:
		return call{src: "monitoring.amazonaws.com", name: "DescribeAlarms", region: inv.region, ro: true, req: Object{{"maxRecords", 100}}}
	case 28:
		return call{src: "lambda.amazonaws.com", name: "ListFunctions20150331", region: inv.region, ro: true, req: Object{{"functionVersion", "ALL"}}}
	case 29:
		return call{src: "lambda.amazonaws.com", name: "GetFunction20150331v2", region: inv.region, ro: true, req: Object{{"functionName", g.id.pick(inv.functions)}}}
	case 30:
		return call{src: "cloudformation.amazonaws.com", name: "DescribeStacks", region: inv.region, ro: true, req: Object{{"stackName", g.id.pick(inv.stacks)}}}
	case 31:
		return call{src: "ssm.amazonaws.com", name: "GetParameter", region: inv.region, ro: true, req: Object{{"name", g.id.pick(inv.params)}, {"withDecryption", false}}}
	case 32:
		return call{src: "rds.amazonaws.com", name: "DescribeDBInstances", region: inv.region, ro: true}
	default:
		if console {
			return call{src: "health.amazonaws.com", name: "DescribeEventAggregates", region: global, ro: true,
				req: Object{{"aggregateField", "eventTypeCategory"}, {"filter", Object{{"eventStatusCodes", []string{"open", "upcoming"}}}}}}
		}
		return call{src: "config.amazonaws.com", name: "DescribeConfigurationRecorderStatus", region: inv.region, ro: true}
	}
}

// workloadCall is what an application role does all day.
func (n *noise) workloadCall(inv *inventory) call {
	g := n.g
	key := g.id.pick(inv.keys)
	keyARN := "arn:aws:kms:" + inv.region + ":" + inv.account + ":key/" + key
	kmsRes := []Object{{{"accountId", inv.account}, {"type", "AWS::KMS::Key"}, {"ARN", keyARN}}}
	switch g.id.r.IntN(6) {
	case 0, 1:
		return call{src: "kms.amazonaws.com", name: "Decrypt", region: inv.region, ro: true,
			req:       Object{{"encryptionAlgorithm", "SYMMETRIC_DEFAULT"}, {"encryptionContext", Object{{"aws:lambda:FunctionArn", "arn:aws:lambda:" + inv.region + ":" + inv.account + ":function:" + g.id.pick(inv.functions)}}}},
			resources: kmsRes}
	case 2:
		return call{src: "kms.amazonaws.com", name: "GenerateDataKey", region: inv.region, ro: true,
			req:       Object{{"keyId", "alias/" + g.id.pick([]string{"app-data", "s3-default"})}, {"keySpec", "AES_256"}, {"encryptionContext", Object{{"aws:s3:arn", "arn:aws:s3:::" + g.id.pick(inv.buckets)}}}},
			resources: kmsRes}
	case 3:
		return call{src: "secretsmanager.amazonaws.com", name: "GetSecretValue", region: inv.region, ro: true,
			req: Object{{"secretId", "arn:aws:secretsmanager:" + inv.region + ":" + inv.account + ":secret:" + g.id.pick(inv.secrets) + "-" + g.id.from(mixedAlnum, 6)}}}
	case 4:
		return call{src: "dynamodb.amazonaws.com", name: "DescribeTable", region: inv.region, ro: true,
			req: Object{{"tableName", g.id.pick(inv.tables)}}}
	default:
		return call{src: "ssm.amazonaws.com", name: "GetParameters", region: inv.region, ro: true,
			req: Object{{"names", []string{g.id.pick(inv.params)}}, {"withDecryption", true}}}
	}
}
