package query_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/internal/sample"
	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/query/querytest"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

var (
	historyEvents = flag.Int("query.history-events", 1_000_000, "BenchmarkWholeHistory: events to store")
	historyDB     = flag.String("query.history-db", filepath.Join("testdata", "bench", "history"), "BenchmarkWholeHistory: cache the built database at this path (plus the version and size)")
)

// historyVersion names the cached database: change it when realShaped
// changes.
const historyVersion = "v2"

// historyStart is the first day of the benchmark history (90 days).
var historyStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// BenchmarkWholeHistory runs each named query over the whole history of
// -query.history-events real-shaped events (see realShaped), and prints each
// figure beside the target: under 1 s a query. The rollup/ runs are what
// query.Run does; the events/ runs read the events table instead (the
// answer before the roll-ups), for the queries a roll-up answers.
//
//	go test -run '^$' -bench BenchmarkWholeHistory ./query
//
// The database is built once (about a minute) and kept in
// testdata/bench/ (make clean removes it).
func BenchmarkWholeHistory(b *testing.B) {
	ctx := context.Background()
	st := historyStore(b, *historyEvents)
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, mode := range []string{"rollup", "events"} {
		for _, q := range query.All() {
			p := query.Params{}
			if q.NeedsUser {
				p.User = "alice"
			}
			if q.Name == "off_hours" || q.Name == "hourly_activity" {
				p.Location = paris // daylight saving in the span: the costly zone.
			}
			if mode == "events" {
				a, _ := q.Statement(query.SQLite, p)
				if e, _ := q.Statement(query.SQLite, query.WithoutRollup(p)); a.SQL == e.SQL {
					continue // no roll-up: the rollup/ run is the same.
				}
				p = query.WithoutRollup(p)
			}
			b.Run(mode+"/"+q.Name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := query.Run(ctx, st.DB(), q.Name, p); err != nil {
						b.Fatal(err)
					}
				}
				s := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(s, "s/query")
				verdict := "met"
				if s >= 1 {
					verdict = "MISSED"
				}
				if mode == "rollup" {
					b.Logf("%-24s %6.3f s over %d events (target < 1 s: %s)", q.Name, s, *historyEvents, verdict)
				} else {
					b.Logf("%-24s %6.3f s reading the events table instead (before the roll-ups)", q.Name, s)
				}
			})
		}
	}
}

// historyStore opens the cached benchmark database, building it first if
// needed (into a temporary file, renamed when complete).
func historyStore(b *testing.B, n int) *sqlite.Store {
	b.Helper()
	return querytest.CachedStore(b, fmt.Sprintf("%s-%s-%d.db", *historyDB, historyVersion, n), func(ctx context.Context, st *sqlite.Store) (string, error) {
		stored, sent, err := loadHistory(ctx, st, n)
		return fmt.Sprintf("%d events stored of %d delivered", stored, sent), err
	})
}

// loadHistory stores n realShaped events the way a scan does (bulk load,
// batches of 1000, redeliveries included) and alerts for daily_summary.
func loadHistory(ctx context.Context, st *sqlite.Store, n int) (stored, sent int, err error) {
	finish, _, err := st.BeginBulkLoad(ctx, 100_000)
	if err != nil {
		return 0, 0, err
	}
	var batch []iamwatch.Event
	put := func() error {
		k, err := st.PutEvents(ctx, batch)
		stored, sent, batch = stored+k, sent+len(batch), batch[:0]
		return err
	}
	err = realShaped(n, func(e iamwatch.Event) error {
		batch = append(batch, e)
		if len(batch) == 1000 {
			return put()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = put()
	}
	if _, ferr := finish(ctx); err == nil {
		err = ferr
	}
	if err != nil {
		return stored, sent, err
	}
	for d := range 90 {
		a := iamwatch.Alert{DedupKey: fmt.Sprintf("bench/%d", d), Rule: "bench", Severity: iamwatch.SeverityHigh,
			Time: historyStart.AddDate(0, 0, d).Add(10 * time.Hour), UserName: "alice", AccountID: sample.AccountMain}
		if _, err := iamwatch.ClaimAlert(ctx, st, a); err != nil {
			return stored, sent, err
		}
	}
	return stored, sent, nil
}

// realShaped generates n distinct events over 90 days from historyStart, in
// time order, shaped like a real management-event trail rather than the
// sample's mostly human one:
//   - ~8% are the sample generator's (internal/sample: people in the
//     console and the CLI, CI, sign-ins, Identity Center, the incidents);
//   - ~85% are AWS services at work: services calling on their own
//     (invokedBy: KMS for S3, CloudTrail checking its bucket, Config
//     describing, Lambda and ECS assuming their roles) and instance and
//     function role sessions polling (ssm UpdateInstanceInformation, ec2
//     Describe*), from a few dozen principals around the clock;
//   - ~5% are runs of denied calls: a principal retrying a refused call
//     200 to 2,200 times, seconds apart;
//   - about 3% of events are delivered twice (emit sees the repeat, with the
//     same ID, a few events later), as CloudTrail does.
//
// Service events are written as CloudTrail records and decoded, so their
// fields are what a scan stores. emit is called once per delivered event.
func realShaped(n int, emit func(iamwatch.Event) error) error {
	rnd := rand.New(rand.NewPCG(7, 11))
	end := historyStart.AddDate(0, 0, 90)
	accounts := []string{sample.AccountMain, sample.AccountDev}

	// The sample's events, pulled as the service clock passes them.
	human := make(chan iamwatch.Event, 1024)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(human)
		_ = sample.Stream(sample.Options{Start: historyStart, Days: 90, RecordsPerHour: 45}, n/10, func(r *sample.Record) error {
			e, err := cloudtrail.DecodeRecord(r.AppendJSON(nil))
			if err != nil {
				return nil //nolint:nilerr // Insights records and the like.
			}
			select {
			case human <- e:
				return nil
			case <-stop:
				return errStop
			}
		})
	}()
	nextHuman, haveHuman := <-human

	count := 0
	var redeliver []iamwatch.Event
	out := func(e iamwatch.Event) error {
		count++
		if err := emit(e); err != nil {
			return err
		}
		if rnd.IntN(100) < 3 {
			redeliver = append(redeliver, e)
		}
		if len(redeliver) > 0 && rnd.IntN(20) == 0 {
			r := redeliver[0]
			redeliver = redeliver[1:]
			return emit(r)
		}
		return nil
	}
	// The service clock's step spreads the ~90% of events that are not the
	// sample's over the 90 days, denied runs (1 in runOdds steps, runMean
	// events each) included.
	const runOdds, runMean = 20_000, 1_200
	step := time.Duration(float64(end.Sub(historyStart)) * (1 + float64(runMean)/runOdds) / (float64(n) * 0.9))
	var buf []byte
	t := historyStart
	for count < n {
		t = t.Add(time.Duration(rnd.Int64N(int64(2 * step))))
		for haveHuman && !nextHuman.Time.After(t) && count < n {
			if err := out(nextHuman); err != nil {
				return err
			}
			nextHuman, haveHuman = <-human
		}
		if count >= n {
			break
		}
		acct := accounts[rnd.IntN(4)/3] // three quarters in the main account.
		if rnd.IntN(runOdds) == 0 {
			// A denied run: one principal retrying one refused call.
			p, c := deniedRuns[rnd.IntN(len(deniedRuns))], 200+rnd.IntN(2*runMean-400)
			for i := 0; i < c && count < n; i++ {
				buf = serviceRecord(buf[:0], rnd, t, acct, p.caller, p.call)
				e, err := cloudtrail.DecodeRecord(buf)
				if err != nil {
					return err
				}
				if err := out(e); err != nil {
					return err
				}
				t = t.Add(time.Duration(1+rnd.IntN(5)) * time.Second)
			}
			continue
		}
		c := serviceCalls[pick(rnd, serviceCalls)]
		buf = serviceRecord(buf[:0], rnd, t, acct, c.caller, c.call)
		e, err := cloudtrail.DecodeRecord(buf)
		if err != nil {
			return err
		}
		if err := out(e); err != nil {
			return err
		}
	}
	return nil
}

var errStop = fmt.Errorf("stopped")

// A caller of the service traffic: an AWS service (invokedBy) or a role
// session (instances: sessions named after one of instances instance IDs).
type caller struct {
	service   string                                    // invokedBy, for an AWSService caller.
	role      string                                    // role name, for an AssumedRole caller.
	instances int                                       // sessions i-… per role; 0: one session named after the role.
	ip        func(rnd *rand.Rand, instance int) string // source IP of a role session; a service calls from its name.
	ua        string
}

type call struct {
	source, name string
	readOnly     bool
	errorCode    string
	assume       string // role name assumed, for AssumeRole (suffixed with a number < 20).
}

type weighted struct {
	caller caller
	call   call
	weight int
}

func pick(rnd *rand.Rand, ws []weighted) int {
	total := 0
	for _, w := range ws {
		total += w.weight
	}
	r := rnd.IntN(total)
	for i, w := range ws {
		if r -= w.weight; r < 0 {
			return i
		}
	}
	return len(ws) - 1
}

var (
	kmsViaS3 = caller{service: "s3.amazonaws.com"}
	trail    = caller{service: "cloudtrail.amazonaws.com"}
	config   = caller{service: "config.amazonaws.com"}
	lambda   = caller{service: "lambda.amazonaws.com"}
	ecsTasks = caller{service: "ecs-tasks.amazonaws.com"}
	ssmAgent = caller{role: "AmazonSSMRoleForInstances", instances: 40, ua: "aws-sdk-go/1.44.0 (go1.20; linux; amd64) amazon-ssm-agent/3.2.0",
		ip: func(_ *rand.Rand, i int) string { return fmt.Sprintf("10.0.%d.%d", i/10, 10+i) }}
	monitoring = caller{role: "monitoring", ua: "aws-sdk-go-v2/1.25.0 os/linux lang/go#1.22 md/GOOS#linux",
		ip: func(r *rand.Rand, _ int) string { return fmt.Sprintf("10.1.0.%d", 1+r.IntN(3)) }}
	appLambda = caller{role: "orders-api-lambda", ua: "aws-sdk-java/2.20.0 Linux/5.10 OpenJDK_64-Bit_Server_VM",
		ip: func(r *rand.Rand, _ int) string { return fmt.Sprintf("3.5.%d.%d", 1+r.IntN(8), 1+r.IntN(200)) }}
	batchUser = caller{role: "legacy-batch", instances: 3, ua: "Boto3/1.28.0 Python/3.9.16 Linux/5.10 Botocore/1.31.0",
		ip: func(_ *rand.Rand, i int) string { return fmt.Sprintf("203.0.113.%d", 20+i) }}
)

var serviceCalls = []weighted{
	{kmsViaS3, call{source: "kms.amazonaws.com", name: "Decrypt", readOnly: true}, 120},
	{kmsViaS3, call{source: "kms.amazonaws.com", name: "GenerateDataKey", readOnly: true}, 80},
	{trail, call{source: "s3.amazonaws.com", name: "GetBucketAcl", readOnly: true}, 60},
	{trail, call{source: "kms.amazonaws.com", name: "GenerateDataKey", readOnly: true}, 20},
	{config, call{source: "ec2.amazonaws.com", name: "DescribeInstances", readOnly: true}, 30},
	{config, call{source: "iam.amazonaws.com", name: "GetRole", readOnly: true}, 20},
	{config, call{source: "iam.amazonaws.com", name: "ListAttachedRolePolicies", readOnly: true}, 20},
	{lambda, call{source: "sts.amazonaws.com", name: "AssumeRole", readOnly: true, assume: "function-role-"}, 90},
	{ecsTasks, call{source: "sts.amazonaws.com", name: "AssumeRole", readOnly: true, assume: "task-role-"}, 40},
	{ssmAgent, call{source: "ssm.amazonaws.com", name: "UpdateInstanceInformation"}, 150},
	{ssmAgent, call{source: "ec2messages.amazonaws.com", name: "GetMessages", readOnly: true}, 60},
	{ssmAgent, call{source: "ssm.amazonaws.com", name: "ListInstanceAssociations", readOnly: true}, 40},
	{monitoring, call{source: "cloudwatch.amazonaws.com", name: "DescribeAlarms", readOnly: true}, 40},
	{monitoring, call{source: "ec2.amazonaws.com", name: "DescribeInstances", readOnly: true}, 20},
	{appLambda, call{source: "secretsmanager.amazonaws.com", name: "GetSecretValue", readOnly: true}, 30},
	{appLambda, call{source: "kms.amazonaws.com", name: "Decrypt", readOnly: true}, 30},
	{batchUser, call{source: "sts.amazonaws.com", name: "GetCallerIdentity", readOnly: true}, 10},
	{batchUser, call{source: "iam.amazonaws.com", name: "ListRoles", readOnly: true}, 5},
	{batchUser, call{source: "sts.amazonaws.com", name: "AssumeRole", readOnly: true, assume: "batch-target-"}, 10},
}

var deniedRuns = []weighted{
	{caller: appLambda, call: call{source: "secretsmanager.amazonaws.com", name: "GetSecretValue", readOnly: true, errorCode: "AccessDenied"}},
	{caller: monitoring, call: call{source: "ec2.amazonaws.com", name: "DescribeRegions", readOnly: true, errorCode: "Client.UnauthorizedOperation"}},
	{caller: batchUser, call: call{source: "sts.amazonaws.com", name: "AssumeRole", readOnly: true, errorCode: "AccessDenied", assume: "prod-admin-"}},
	{caller: ssmAgent, call: call{source: "kms.amazonaws.com", name: "Decrypt", readOnly: true, errorCode: "AccessDeniedException"}},
	{caller: batchUser, call: call{source: "s3.amazonaws.com", name: "ListBuckets", readOnly: true, errorCode: "ExpiredToken"}},
}

// serviceRecord appends one CloudTrail record of c calling k at t.
func serviceRecord(b []byte, rnd *rand.Rand, t time.Time, acct string, c caller, k call) []byte {
	id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rnd.Uint32(), rnd.Uint32()&0xffff, rnd.Uint32()&0xfff, rnd.Uint32()&0xfff, rnd.Uint64()&0xffffffffffff)
	b = fmt.Appendf(b, `{"eventVersion":"1.09","eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":"us-east-1",`,
		t.UTC().Format(iamwatch.TimeFormat), k.source, k.name)
	if c.service != "" {
		b = fmt.Appendf(b, `"userIdentity":{"type":"AWSService","invokedBy":%q},"sourceIPAddress":%q,"userAgent":%q,`, c.service, c.service, c.service)
	} else {
		session, instance := c.role, 0
		if c.instances > 0 {
			instance = rnd.IntN(c.instances)
			session = fmt.Sprintf("i-0%015x", 0xabc000+instance)
		}
		ip := c.ip(rnd, instance)
		b = fmt.Appendf(b, `"userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:%s","arn":"arn:aws:sts::%s:assumed-role/%s/%s","accountId":%q,`+
			`"sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::%s:role/%s","accountId":%q,"userName":%q},"attributes":{"creationDate":%q,"mfaAuthenticated":"false"}}},`+
			`"sourceIPAddress":%q,"userAgent":%q,`,
			session, acct, c.role, session, acct, acct, c.role, acct, c.role, t.Add(-time.Hour).UTC().Format(iamwatch.TimeFormat), ip, c.ua)
	}
	if k.errorCode != "" {
		b = fmt.Appendf(b, `"errorCode":%q,"errorMessage":"User is not authorized to perform this operation",`, k.errorCode)
	}
	switch {
	case k.assume != "":
		role := fmt.Sprintf("arn:aws:iam::%s:role/%s%d", acct, k.assume, rnd.IntN(20))
		b = fmt.Appendf(b, `"requestParameters":{"roleArn":%q,"roleSessionName":"%d","durationSeconds":3600},"responseElements":null,`, role, rnd.Int64())
	case k.source == "kms.amazonaws.com":
		b = fmt.Appendf(b, `"requestParameters":{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{"aws:s3:arn":"arn:aws:s3:::logs-%s/%d"}},"responseElements":null,`, acct, rnd.IntN(1_000_000))
	default:
		b = append(b, `"requestParameters":null,"responseElements":null,`...)
	}
	b = fmt.Appendf(b, `"requestID":"%016x","eventID":%q,"readOnly":%t,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":%q,"eventCategory":"Management"}`,
		rnd.Uint64(), id, k.readOnly, acct)
	return b
}
