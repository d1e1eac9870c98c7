package sample

import (
	"container/heap"
	"errors"
	"math"
	"time"
)

// Regions is every region folder a trail of all regions writes to (the
// regions enabled by default). Services log in all of them.
var Regions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"ca-central-1", "sa-east-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
	"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
}

// ServiceMix is how the records of a service-heavy trail divide, as
// shares of all records; what is left is people and the incident
// scenarios (the [Stream] records). The zero fields take the
// DefaultServiceMix values.
type ServiceMix struct {
	// Denied: one log-delivery service principal refused by a bucket
	// policy, all day, every day (AccessDenied PutObject, HeadBucket,
	// GetBucketAcl by delivery.logs.amazonaws.com).
	Denied float64
	// Assume: services assuming their roles (AWSService callers of
	// sts:AssumeRole), in every region.
	Assume float64
	// Linked: service-linked roles (AWSServiceRoleFor…) describing and
	// listing, with invokedBy.
	Linked float64
	// Events: AwsServiceEvent records (key rotation, shared snapshots…).
	Events float64
	// Calls: other calls a service makes in its own name (invokedBy),
	// such as CloudTrail checking its bucket.
	Calls float64
	// Bursts: an IAM user's denied calls in bursts of 20 to thousands,
	// several a second (a broken script retrying), a few times a day.
	Bursts float64
	// Agents: the SSM agents of two instances of the main account calling
	// with their instance profile's credentials (ec2RoleDelivery) all day,
	// one from its public address, the other through a VPC endpoint.
	// Not service records: the instance's session makes them.
	Agents float64
	// Objects: S3 data events of an application's task role reading
	// and writing the main account's objects (GetObject, PutObject,
	// HeadObject, DeleteObject), as a trail logging data events holds
	// by the million. Not in the default mix (see ObjectsMix).
	Objects float64
}

// DefaultServiceMix resembles a real lab account's trail of six days:
// 85% of the records made by AWS services, a third of them one service
// principal refused over and over, with two SSM-managed instances (about
// ten calls an hour each, as a real agent makes).
var DefaultServiceMix = ServiceMix{Denied: 0.33, Assume: 0.20, Linked: 0.19, Events: 0.11, Calls: 0.04, Bursts: 0.03, Agents: 0.03}

func (m ServiceMix) withDefaults() ServiceMix {
	if m == (ServiceMix{}) {
		return DefaultServiceMix
	}
	return m
}

func (m ServiceMix) total() float64 {
	return m.Denied + m.Assume + m.Linked + m.Events + m.Calls + m.Bursts + m.Agents + m.Objects
}

// ObjectsMix is an account whose trail logs S3 data events: an
// application's object calls are 80% of the records, the default mix's
// services and people share the rest.
var ObjectsMix = ServiceMix{Objects: 0.80, Denied: 0.05, Assume: 0.03, Linked: 0.03, Events: 0.01, Calls: 0.01, Bursts: 0.005, Agents: 0.01}

// StreamServices is [Stream] with AWS-service activity mixed in: of limit
// records, mix.total() are service records and bursts of denials spread
// evenly over opt.Days (services do not keep office hours), the rest the
// people and scenarios of Stream. Records come in event-time order; the
// *Record passed to emit is valid only during the call.
func StreamServices(opt Options, mix ServiceMix, limit int, emit func(*Record) error) error {
	opt = opt.withDefaults()
	mix = mix.withDefaults()
	share := math.Min(mix.total(), 0.99)
	hours := float64(opt.Days * 24)
	end := opt.Start.AddDate(0, 0, opt.Days)
	s := newServices(&gen{w: newWorld(opt.Seed), id: newIDs(opt.Seed, 8)}, mix, float64(limit)*share/hours, opt.Start)

	count := 0
	var err error
	out := func(r *Record) bool {
		if count >= limit || err != nil {
			return false
		}
		err = emit(r)
		count++
		return err == nil && count < limit
	}
	// The people: Stream's noise rate is per hour of a working day.
	people := opt
	people.RecordsPerHour = math.Max(1, float64(limit)*(1-share)/hours*1.6)
	serr := Stream(people, limit, func(r *Record) error {
		for t := s.peek(); !t.After(r.EventTime) && t.Before(end); t = s.peek() {
			sr := s.pop()
			if !out(&sr) {
				return errStop
			}
		}
		if !out(r) {
			return errStop
		}
		return nil
	})
	if serr != nil && !errors.Is(serr, errStop) {
		return serr
	}
	for count < limit && err == nil && s.peek().Before(end) {
		sr := s.pop()
		out(&sr)
	}
	return err
}

// errStop ends Stream early once enough records were emitted.
var errStop = errors.New("sample: enough records")

// services generates service records as a Poisson process, in time order.
// It is not safe for concurrent use.
type services struct {
	g       *gen
	mix     ServiceMix
	perHour float64   // service records per hour.
	next    time.Time // the next arrival, not yet generated.
	pending recHeap
	invs    []*inventory
}

func newServices(g *gen, mix ServiceMix, perHour float64, start time.Time) *services {
	return &services{g: g, mix: mix, perHour: math.Max(perHour, 1), next: start,
		invs: []*inventory{newInventory(g.w, AccountMain), newInventory(g.w, AccountDev)}}
}

// peek returns the time of the earliest record not yet popped: arrivals
// are generated until none could come before the earliest pending record
// (a burst spans minutes, and other records interleave with it).
func (s *services) peek() time.Time {
	for s.pending.Len() == 0 || !s.next.After(s.pending[0].EventTime) {
		s.arrive()
	}
	return s.pending[0].EventTime
}

func (s *services) pop() Record { return heap.Pop(&s.pending).(Record) }

// meanBurst is about the mean of burstSize.
const meanBurst = 100

// burstSize draws the records of a burst: 20 and more, log-normal, at
// most 5,000 (a script retrying in a loop).
func (s *services) burstSize() int {
	return 20 + int(min(math.Exp(3.5+1.3*s.g.id.r.NormFloat64()), 5000))
}

// arrive generates the records of the arrival at s.next and draws the one
// after. A burst is one arrival of many records, so bursts arrive more
// rarely in proportion to their share of records.
func (s *services) arrive() {
	g, m := s.g, s.mix
	total := m.total()
	arrivals := (total - m.Bursts) + m.Bursts/meanBurst // arrivals per record, times total
	at := s.next
	gap := -math.Log(1-g.id.r.Float64()) / (s.perHour / total * arrivals)
	s.next = s.next.Add(time.Duration(gap * float64(time.Hour)))
	inv := s.invs[0]
	if g.id.chance(0.1) {
		inv = s.invs[1]
	}
	x := g.id.r.Float64() * arrivals
	var recs []Record
	switch {
	case x < m.Denied:
		recs = []Record{s.denied(at, s.invs[0])}
	case x < m.Denied+m.Assume:
		recs = []Record{s.assume(at, inv)}
	case x < m.Denied+m.Assume+m.Linked:
		recs = []Record{s.linked(at, inv)}
	case x < m.Denied+m.Assume+m.Linked+m.Events:
		recs = []Record{s.event(at, inv)}
	case x < m.Denied+m.Assume+m.Linked+m.Events+m.Calls:
		recs = []Record{s.call(at, inv)}
	case x < m.Denied+m.Assume+m.Linked+m.Events+m.Calls+m.Agents:
		recs = []Record{s.agent(at, s.invs[0])}
	case x < m.Denied+m.Assume+m.Linked+m.Events+m.Calls+m.Agents+m.Objects:
		recs = []Record{s.object(at, s.invs[0])}
	default:
		recs = s.burst(at, s.burstSize(), s.invs[0])
	}
	for _, r := range recs {
		heap.Push(&s.pending, r)
	}
}

// region draws a region: us-east-1 mostly, the account's workload region
// often, every other one now and then.
func (s *services) region(inv *inventory) string {
	switch x := s.g.id.r.Float64(); {
	case x < 0.8:
		return global
	case x < 0.95:
		return inv.region
	}
	return s.g.id.pick(Regions)
}

const logDelivery = "delivery.logs.amazonaws.com"

// denied: VPC flow logs delivery refused by the log bucket's policy.
func (s *services) denied(at time.Time, inv *inventory) Record {
	g := s.g
	bucket := "example-corp-flow-logs-" + inv.account
	region := global
	var c call
	switch x := g.id.r.IntN(10); {
	case x < 7:
		c = call{src: "s3.amazonaws.com", name: "PutObject", region: region,
			req: Object{{"bucketName", bucket}, {"Host", bucket + ".s3." + region + ".amazonaws.com"},
				{"key", "AWSLogs/" + inv.account + "/vpcflowlogs/" + region + "/" + at.Format("2006/01/02") + "/" + inv.account + "_vpcflowlogs_" + region + "_fl-0a1b2c3d4e5f6_" + at.Format("20060102T1504Z") + "_" + g.id.hex(8) + ".log.gz"},
				{"x-amz-acl", "bucket-owner-full-control"}}}
	case x < 9:
		c = call{src: "s3.amazonaws.com", name: "HeadBucket", region: region, ro: true,
			req: Object{{"bucketName", bucket}, {"Host", bucket + ".s3." + region + ".amazonaws.com"}}}
	default:
		c = call{src: "s3.amazonaws.com", name: "GetBucketAcl", region: region, ro: true,
			req: Object{{"bucketName", bucket}, {"Host", bucket + ".s3." + region + ".amazonaws.com"}, {"acl", ""}}}
	}
	c.errCode, c.errMsg, c.recipient = "AccessDenied", "Access Denied", inv.account
	c.resources = []Object{{{"type", "AWS::S3::Bucket"}, {"ARN", "arn:aws:s3:::" + bucket}}}
	c.add = Object{{"SignatureVersion", "SigV4"}, {"CipherSuite", "TLS_AES_128_GCM_SHA256"}, {"bytesTransferredIn", 0}, {"AuthenticationMethod", "AuthHeader"}, {"x-amz-id-2", g.id.token(76)}, {"bytesTransferredOut", 243}}
	r := g.rec(at, service(logDelivery), c)
	if c.name == "PutObject" {
		r.ManagementEvent, r.EventCategory = false, "Data"
		r.ReadOnly = ptr(false)
	}
	return r
}

var assumingServices = []string{"lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "ec2.amazonaws.com", "config.amazonaws.com", "ssm.amazonaws.com", "states.amazonaws.com", "events.amazonaws.com", "backup.amazonaws.com"}

// assume: a service assumes a role of the account for its work.
func (s *services) assume(at time.Time, inv *inventory) Record {
	g := s.g
	svc := g.id.pick(assumingServices)
	var target *actor
	switch svc {
	case "lambda.amazonaws.com":
		i := g.id.r.IntN(len(inv.functions))
		target = g.w.role(inv.account, inv.roles[i%len(inv.roles)], "/service-role/", inv.functions[i])
	case "ecs-tasks.amazonaws.com":
		target = g.w.role(inv.account, g.id.pick(inv.services)+"-task", "/", g.id.hex(32))
	case "ec2.amazonaws.com":
		target = g.w.role(inv.account, "ec2-ssm-instance", "/", g.id.pick(inv.instances))
	default:
		name := svc[:len(svc)-len(".amazonaws.com")]
		target = g.w.role(inv.account, name+"-service-role", "/service-role/", "aws-"+name+"-"+g.id.hex(8))
	}
	r, _ := g.assumeRole(at, service(svc), target, s.region(inv))
	return r
}

// linkedRoles are service-linked roles and what they call.
var linkedRoles = []struct{ role, svc string }{
	{"AWSServiceRoleForConfig", "config.amazonaws.com"},
	{"AWSServiceRoleForAmazonGuardDuty", "guardduty.amazonaws.com"},
	{"AWSServiceRoleForSecurityHub", "securityhub.amazonaws.com"},
	{"AWSServiceRoleForTrustedAdvisor", "trustedadvisor.amazonaws.com"},
	{"AWSServiceRoleForAccessAnalyzer", "access-analyzer.amazonaws.com"},
	{"AWSServiceRoleForAmazonInspector2", "inspector2.amazonaws.com"},
}

var linkedCalls = []call{
	{src: "ec2.amazonaws.com", name: "DescribeInstances", ro: true},
	{src: "ec2.amazonaws.com", name: "DescribeSecurityGroups", ro: true},
	{src: "ec2.amazonaws.com", name: "DescribeVpcs", ro: true},
	{src: "ec2.amazonaws.com", name: "DescribeNetworkInterfaces", ro: true},
	{src: "s3.amazonaws.com", name: "ListBuckets", ro: true},
	{src: "s3.amazonaws.com", name: "GetBucketPolicyStatus", ro: true},
	{src: "iam.amazonaws.com", name: "ListRoles", ro: true},
	{src: "iam.amazonaws.com", name: "GetAccountPasswordPolicy", ro: true},
	{src: "kms.amazonaws.com", name: "ListKeys", ro: true},
	{src: "lambda.amazonaws.com", name: "ListFunctions20150331", ro: true},
	{src: "cloudtrail.amazonaws.com", name: "DescribeTrails", ro: true},
	{src: "logs.amazonaws.com", name: "DescribeLogGroups", ro: true},
}

// linked: a service-linked role session describing resources, invokedBy its service.
func (s *services) linked(at time.Time, inv *inventory) Record {
	g := s.g
	lr := linkedRoles[g.id.r.IntN(len(linkedRoles))]
	target := g.w.role(inv.account, lr.role, "/aws-service-role/"+lr.svc+"/", g.id.pick([]string{"AWSConfig-Describe", lr.role[len("AWSServiceRoleFor"):], "aws-go-sdk-" + g.id.hex(10)}))
	role := g.session(target, at.Add(-time.Duration(g.id.r.IntN(3000))*time.Second), lr.svc, lr.svc, false, false)
	c := linkedCalls[g.id.r.IntN(len(linkedCalls))]
	c.region = s.region(inv)
	if c.src == "iam.amazonaws.com" {
		c.region = global
	}
	r := g.rec(at, role, c)
	r.UserIdentity = append(r.UserIdentity, Field{"invokedBy", lr.svc})
	r.TLSDetails = nil
	return r
}

var serviceEvents = []struct{ src, name string }{
	{"kms.amazonaws.com", "RotateKey"},
	{"kms.amazonaws.com", "DeleteExpiredKeyMaterial"},
	{"ec2.amazonaws.com", "SharedSnapshotCopyInitiated"},
	{"ec2.amazonaws.com", "SharedSnapshotVolumeCreated"},
	{"backup.amazonaws.com", "BackupJobCompleted"},
	{"health.amazonaws.com", "AWSHealthEvent"},
}

// event: an AwsServiceEvent, made by AWS on its own.
func (s *services) event(at time.Time, inv *inventory) Record {
	g := s.g
	e := serviceEvents[g.id.r.IntN(len(serviceEvents))]
	svc := &actor{kind: kindAWSService, name: e.src, account: inv.account}
	key := g.id.pick(inv.keys)
	region := s.region(inv)
	r := g.rec(at, svc, call{src: e.src, name: e.name, region: region, evType: "AwsServiceEvent", noRequestID: true,
		resources: []Object{{{"accountId", inv.account}, {"type", "AWS::KMS::Key"}, {"ARN", "arn:aws:kms:" + region + ":" + inv.account + ":key/" + key}}},
		details:   Object{{"keyId", key}}})
	r.UserIdentity = Object{{"accountId", inv.account}, {"invokedBy", e.src}}
	r.ReadOnly = ptr(false)
	return r
}

// call: a service calling in its own name, such as CloudTrail checking the trail bucket.
func (s *services) call(at time.Time, inv *inventory) Record {
	g := s.g
	bucket := "example-corp-cloudtrail-logs"
	c := call{src: "s3.amazonaws.com", name: g.id.pick([]string{"GetBucketAcl", "PutObject"}), region: global,
		req:       Object{{"bucketName", bucket}, {"Host", bucket + ".s3.amazonaws.com"}},
		resources: []Object{{{"type", "AWS::S3::Bucket"}, {"ARN", "arn:aws:s3:::" + bucket}}}, recipient: inv.account}
	return g.rec(at, service("cloudtrail.amazonaws.com"), c)
}

// agentIP is the public address of the main account's second instance;
// the third calls through a VPC endpoint.
const agentIP = "3.250.41.20"

// agent: an instance's SSM agent reporting in or asking for its
// associations, with the instance profile's credentials (the session is
// named after the instance). The scenarios' web instance is the first.
func (s *services) agent(at time.Time, inv *inventory) Record {
	g := s.g
	i := 1 + g.id.r.IntN(2)
	inst := inv.instances[i]
	a := g.w.role(inv.account, "ec2-ssm-instance", "/", inst)
	// The instance's credentials are renewed every six hours.
	a.ec2Role, a.ua, a.since = true, uaSSMAgent, at.UTC().Truncate(6*time.Hour)
	a.key = g.w.stable(g.w.keys, inv.account+"/agent/"+inst+"/"+a.since.Format(time.RFC3339), func() string { return g.w.ids.iamID("ASIA") })
	a.ip = agentIP
	if i == 2 {
		a.ip, a.vpce = privateIPs[i%len(privateIPs)], vpcEndpoint
	}
	c := call{src: "ssm.amazonaws.com", name: "ListInstanceAssociations", region: inv.region, req: Object{{"instanceId", inst}, {"maxResults", 20}}}
	if g.id.chance(0.5) {
		c = call{src: "ssm.amazonaws.com", name: "UpdateInstanceInformation", region: inv.region,
			req: Object{{"instanceId", inst}, {"agentVersion", "3.3.1611.0"}, {"agentStatus", "Active"}, {"platformType", "Linux"},
				{"platformName", "Amazon Linux"}, {"platformVersion", "2023"}, {"agentName", "amazon-ssm-agent"}}}
	}
	c.recipient = inv.account
	return g.rec(at, a, c)
}

// objectCalls are an application's calls on its objects, with their
// weights out of 10.
var objectCalls = []struct {
	name   string
	ro     bool
	weight int
}{{"GetObject", true, 4}, {"PutObject", false, 4}, {"HeadObject", true, 1}, {"DeleteObject", false, 1}}

// object: an S3 data event of the invoice service's task role on its
// bucket, through the VPC's gateway endpoint.
func (s *services) object(at time.Time, inv *inventory) Record {
	g := s.g
	a := g.w.role(inv.account, inv.services[0]+"-task", "/", "invoice-"+at.UTC().Truncate(time.Hour).Format("20060102T15"))
	a.ip, a.ua, a.vpce, a.since = privateIPs[0], uaJava, vpcEndpoint, at.UTC().Truncate(time.Hour)
	a.key = g.w.stable(g.w.keys, inv.account+"/objects/"+a.session, func() string { return g.w.ids.iamID("ASIA") })
	w := g.id.r.IntN(10)
	c := objectCalls[len(objectCalls)-1]
	for _, oc := range objectCalls {
		if w < oc.weight {
			c = oc
			break
		}
		w -= oc.weight
	}
	bucket := inv.buckets[1]
	key := "invoices/" + at.Format("2006/01/02") + "/" + g.id.hex(12) + ".pdf"
	req := Object{{"bucketName", bucket}, {"Host", bucket + ".s3." + inv.region + ".amazonaws.com"}, {"key", key}}
	if c.name == "PutObject" {
		req = append(req, Field{"x-amz-server-side-encryption", "aws:kms"})
	}
	r := g.rec(at, a, call{src: "s3.amazonaws.com", name: c.name, region: inv.region, ro: c.ro, recipient: inv.account, req: req,
		resources: []Object{{{"type", "AWS::S3::Object"}, {"ARN", "arn:aws:s3:::" + bucket + "/" + key}},
			{{"accountId", inv.account}, {"type", "AWS::S3::Bucket"}, {"ARN", "arn:aws:s3:::" + bucket}}},
		add: Object{{"SignatureVersion", "SigV4"}, {"CipherSuite", "TLS_AES_128_GCM_SHA256"}, {"bytesTransferredIn", 0}, {"AuthenticationMethod", "AuthHeader"}, {"x-amz-id-2", g.id.token(76)}, {"bytesTransferredOut", 0}}})
	r.ManagementEvent, r.EventCategory = false, "Data"
	return r
}

var burstCalls = []call{
	{src: "s3.amazonaws.com", name: "GetObject", ro: true, errCode: "AccessDenied", errMsg: "Access Denied"},
	{src: "ssm.amazonaws.com", name: "GetParameter", ro: true, errCode: "AccessDenied", errMsg: "User is not authorized to perform: ssm:GetParameter"},
	{src: "iam.amazonaws.com", name: "ListRoles", ro: true, errCode: "AccessDenied", errMsg: "User is not authorized to perform: iam:ListRoles"},
	{src: "ec2.amazonaws.com", name: "DescribeInstances", ro: true, errCode: "Client.UnauthorizedOperation", errMsg: "You are not authorized to perform this operation."},
	{src: "secretsmanager.amazonaws.com", name: "GetSecretValue", ro: true, errCode: "AccessDenied", errMsg: "User is not authorized to perform: secretsmanager:GetSecretValue"},
}

// burst: an IAM user's script failing n times in a few minutes.
func (s *services) burst(at time.Time, n int, inv *inventory) []Record {
	g := s.g
	u := *g.w.user(inv.account, g.id.pick([]string{"ci-runner", "report-export", "etl-loader"}))
	u.ip, u.ua = g.id.pick(append(ciIPs, vpnIPs...)), uaBoto3
	u.key = g.w.stable(g.w.keys, inv.account+"/"+u.name, func() string { return g.w.ids.iamID("AKIA") })
	c := burstCalls[g.id.r.IntN(len(burstCalls))]
	c.region = inv.region
	if c.src == "iam.amazonaws.com" {
		c.region = global
	}
	out := make([]Record, 0, n)
	for range n {
		at = at.Add(time.Duration(20+g.id.r.IntN(180)) * time.Millisecond)
		out = append(out, g.rec(at, &u, c))
	}
	return out
}
