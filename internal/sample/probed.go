package sample

import (
	"fmt"
	"time"
)

// probedCalls are what leaked credentials are tried on: mostly reads,
// some writes. Reads are denied at the rate StreamProbed gives, writes
// always.
var probedCalls = []call{
	{src: "ec2.amazonaws.com", name: "DescribeInstances", ro: true},
	{src: "ec2.amazonaws.com", name: "DescribeSnapshots", ro: true},
	{src: "ec2.amazonaws.com", name: "DescribeVolumes", ro: true},
	{src: "ec2.amazonaws.com", name: "DescribeSecurityGroups", ro: true},
	{src: "ec2.amazonaws.com", name: "DescribeImages", ro: true},
	{src: "ec2.amazonaws.com", name: "RunInstances"},
	{src: "ec2.amazonaws.com", name: "CreateSnapshot"},
	{src: "iam.amazonaws.com", name: "ListUsers", ro: true},
	{src: "iam.amazonaws.com", name: "ListRoles", ro: true},
	{src: "iam.amazonaws.com", name: "GetUser", ro: true},
	{src: "iam.amazonaws.com", name: "ListPolicies", ro: true},
	{src: "iam.amazonaws.com", name: "ListAttachedUserPolicies", ro: true},
	{src: "iam.amazonaws.com", name: "ListAccessKeys", ro: true},
	{src: "iam.amazonaws.com", name: "CreateUser"},
	{src: "s3.amazonaws.com", name: "ListBuckets", ro: true},
	{src: "s3.amazonaws.com", name: "GetBucketPolicy", ro: true},
	{src: "s3.amazonaws.com", name: "GetBucketAcl", ro: true},
	{src: "s3.amazonaws.com", name: "PutBucketPolicy"},
	{src: "lambda.amazonaws.com", name: "ListFunctions20150331", ro: true},
	{src: "sts.amazonaws.com", name: "GetCallerIdentity", ro: true},
}

// probedUsers are the IAM users whose keys leaked, with the share of the
// calls each makes (out of 100).
var probedUsers = []struct {
	name  string
	share int
}{{"backup", 70}, {"level6", 20}, {"flaws", 10}}

// probedRegions are where the calls go (IAM and STS: us-east-1).
var probedRegions = []string{"us-east-1", "us-west-2", "eu-west-1"}

// ProbedDenied is the share of read calls StreamProbed makes denied.
const ProbedDenied = 0.8

// StreamProbed emits limit records shaped like the trail of an account
// whose keys are public (flaws.cloud's published trail is one): the calls
// of three IAM users, made from addresses thousands of people use, most
// of them denied, spread evenly over opt.Days and in event-time order.
// There are no AWS-service events and no repeats: every record is a
// distinct call by a person, which a default scan keeps. The *Record
// passed to emit is valid only during the call.
func StreamProbed(opt Options, addresses, limit int, emit func(*Record) error) error {
	opt = opt.withDefaults()
	if addresses <= 0 {
		return fmt.Errorf("sample: probed trail: %d addresses; want at least 1", addresses)
	}
	g := &gen{w: newWorld(opt.Seed), id: newIDs(opt.Seed, 9)}
	users := make([]*actor, len(probedUsers))
	for i, u := range probedUsers {
		users[i] = g.w.user(AccountMain, u.name)
	}
	ips := make([]string, addresses)
	for i := range ips {
		// Public unicast addresses outside 10/8 and the documentation blocks.
		ips[i] = fmt.Sprintf("%d.%d.%d.%d", 11+g.id.r.IntN(212), g.id.r.IntN(256), g.id.r.IntN(256), 1+g.id.r.IntN(254))
	}
	uas := []string{uaCLI, uaBoto3}
	step := time.Duration(opt.Days) * 24 * time.Hour / time.Duration(max(limit, 1))
	for i := range limit {
		at := opt.Start.Add(time.Duration(i) * step)
		share := g.id.r.IntN(100)
		u := users[len(users)-1]
		for k, pu := range probedUsers {
			if share < pu.share {
				u = users[k]
				break
			}
			share -= pu.share
		}
		a := *u
		a.ip, a.ua = g.id.pick(ips), g.id.pick(uas)
		c := probedCalls[g.id.r.IntN(len(probedCalls))]
		c.region = g.id.pick(probedRegions)
		if c.src == "iam.amazonaws.com" || c.src == "sts.amazonaws.com" {
			c.region = global
		}
		if !c.ro || g.id.r.Float64() < ProbedDenied {
			c.errCode, c.errMsg = "AccessDenied", fmt.Sprintf("User: arn:aws:iam::%s:user/%s is not authorized to perform: %s:%s",
				AccountMain, a.name, c.src[:len(c.src)-len(".amazonaws.com")], c.name)
			if c.src == "ec2.amazonaws.com" {
				c.errCode = "Client.UnauthorizedOperation"
			}
		}
		r := g.rec(at, &a, c)
		if err := emit(&r); err != nil {
			return err
		}
	}
	return nil
}
