package web

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/query/querytest"
	"github.com/iamwatch/iamwatch/rules"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

var (
	benchEvents = flag.Int("web.events", 1_000_000, "BenchmarkPages: events to store")
	benchDB     = flag.String("web.db", filepath.Join("testdata", "bench", "console"), "BenchmarkPages: cache the built database at this path (plus the version and size)")
)

// benchVersion names the cached database: change it when benchHistory
// changes (or the schema does).
const benchVersion = "v1"

// pageTarget is what every console page must answer within.
const pageTarget = 200 * time.Millisecond

// BenchmarkPages times every page handler of the console over a store of
// -web.events events (90 days; see benchHistory) and 5,000 alerts, and
// logs each figure beside the target of 200 ms a page.
//
//	go test -run '^$' -bench BenchmarkPages -benchtime 5x ./web
//
// The database is built once (a few minutes) and kept in testdata/bench/
// (gitignored; make clean removes it).
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	st := benchStore(b, *benchEvents)
	rs, err := rules.Load()
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{Store: st, Rules: rs})
	if err != nil {
		b.Fatal(err)
	}
	s.RuleTests()
	cookie := randomHex(32)
	ss := sqlite.Session{IDHash: hashID(cookie), UserName: AdminUser, CSRF: randomHex(32), Created: time.Now(), Expires: time.Now().Add(time.Hour)}
	if err := st.PutSession(ctx, ss); err != nil {
		b.Fatal(err)
	}
	as, err := st.Alerts(ctx, iamwatch.AlertFilter{Limit: 1})
	if err != nil || len(as) == 0 {
		b.Fatal("no alert stored", err)
	}
	evs, err := st.Events(ctx, sqlite.EventFilter{UserName: "alice", NewestFirst: true, Offset: 20_000, Limit: 1})
	if err != nil || len(evs) == 0 {
		b.Fatal("alice has too few events", err)
	}
	deep := url.Values{"user": {"alice"}, "before": {cursorOf(evs[0])}}.Encode()
	pages := []string{
		"/", "/alerts", "/alerts?severity=high&status=open", "/alerts?actor=alice&page=3",
		"/alert?" + url.Values{"key": {as[0].DedupKey}}.Encode(),
		"/events", "/events?page=200", "/events?user=alice&errors=1", "/events?source-ip=203.0.113.7",
		"/events?source-ip=203.0.113.0/24", "/events?source-ip=203.0.113.8/29&page=20", "/events?source-ip=2001:db8::/32",
		"/actor?user=alice", "/actor?" + deep, "/actor?user=alice&errors=1", "/actor?user=deploy-bot/ci",
		"/event?id=" + url.QueryEscape(evs[0].ID),
		"/questions", "/rules",
	}
	for _, q := range query.All() {
		p := "/question/" + q.Name
		if q.NeedsUser {
			p += "?user=alice"
		}
		pages = append(pages, p)
	}
	for _, p := range pages {
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", p, nil)
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d\n%.500s", p, w.Code, w.Body.String())
				}
			}
			d := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(d)/float64(time.Millisecond), "ms/page")
			verdict := "met"
			if d >= pageTarget {
				verdict = "MISSED"
			}
			b.Logf("%-60.60s %6.1f ms over %d events (target < 200 ms: %s)", p, float64(d)/float64(time.Millisecond), *benchEvents, verdict)
		})
	}
}

// benchStore opens the cached benchmark database, building it first if
// needed (into a temporary file, renamed when complete).
func benchStore(b *testing.B, n int) *sqlite.Store {
	b.Helper()
	return querytest.CachedStore(b, fmt.Sprintf("%s-%s-%d.db", *benchDB, benchVersion, n), func(ctx context.Context, st *sqlite.Store) (string, error) {
		return fmt.Sprintf("%d events", n), benchHistory(ctx, st, n)
	})
}

// benchHistory stores n events over 90 days, in time order, shaped as a
// busy account: most from AWS services and a few role sessions polling
// around the clock, a tenth from people (alice the busiest, with about
// 5% of all events), 2% denied calls, a console sign-in now and then with
// some failures; and 5,000 alerts on the actors, each naming its event.
func benchHistory(ctx context.Context, st *sqlite.Store, n int) error {
	finish, _, err := st.BeginBulkLoad(ctx, 100_000)
	if err != nil {
		return err
	}
	finished := false
	defer func() {
		if !finished {
			_, _ = finish(ctx)
		}
	}()
	rnd := rand.New(rand.NewPCG(17, 4))
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	step := 90 * 24 * time.Hour / time.Duration(n)
	type actor struct {
		name, typ, ua string
		weight        int
	}
	actors := []actor{
		{"s3.amazonaws.com", "AWSService", "s3.amazonaws.com", 300},
		{"config.amazonaws.com", "AWSService", "config.amazonaws.com", 150},
		{"lambda.amazonaws.com", "AWSService", "lambda.amazonaws.com", 120},
		{"AmazonSSMRoleForInstances/i-0abc001", "AssumedRole", "amazon-ssm-agent/3.2.0", 150},
		{"monitoring/monitoring", "AssumedRole", "aws-sdk-go-v2/1.25.0", 80},
		{"deploy-bot/ci", "AssumedRole", "aws-cli/2.15.30 Python/3.11.8", 50},
		{"alice", "IAMUser", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", 50},
		{"bob@example.com", "AssumedRole", "aws-cli/2.15.30 Python/3.11.8", 30},
		{"carol", "IAMUser", "Boto3/1.28.0 Python/3.9.16", 20},
		{"root", "Root", "Mozilla/5.0 (Macintosh) Safari/605.1.15", 1},
	}
	for i := range 40 {
		actors = append(actors, actor{fmt.Sprintf("user-%02d", i), "IAMUser", "aws-cli/2.15.30 Python/3.11.8", 1})
	}
	var table []int
	for i, a := range actors {
		for range a.weight {
			table = append(table, i)
		}
	}
	calls := []struct{ source, name string }{
		{"kms.amazonaws.com", "Decrypt"}, {"sts.amazonaws.com", "AssumeRole"}, {"iam.amazonaws.com", "GetRole"},
		{"ec2.amazonaws.com", "DescribeInstances"}, {"ssm.amazonaws.com", "UpdateInstanceInformation"},
		{"iam.amazonaws.com", "ListUsers"}, {"s3.amazonaws.com", "GetBucketAcl"}, {"iam.amazonaws.com", "PutRolePolicy"},
		{"iam.amazonaws.com", "CreateAccessKey"}, {"sso.amazonaws.com", "CreateAccountAssignment"},
	}
	accounts := []string{"111122223333", "444455556666"}
	batch := make([]iamwatch.Event, 0, 1000)
	var alertEvents []iamwatch.Event
	for i := range n {
		a := actors[table[rnd.IntN(len(table))]]
		c := calls[rnd.IntN(len(calls))]
		acct := accounts[rnd.IntN(4)/3]
		e := iamwatch.Event{
			ID:   fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i, rnd.Uint32()&0xffff, rnd.Uint32()&0xfff, rnd.Uint32()&0xfff, rnd.Uint64()&0xffffffffffff),
			Time: start.Add(time.Duration(i) * step).Truncate(time.Second), Source: c.source, Name: c.name, Type: iamwatch.TypeOther,
			Category: "AwsApiCall", UserName: a.name, IdentityType: a.typ, AccountID: acct, Region: "us-east-1",
			SourceIP: fmt.Sprintf("203.0.113.%d", rnd.IntN(40)), UserAgent: a.ua, ReadOnly: "true",
			PrincipalARN: "arn:aws:iam::" + acct + ":user/" + a.name,
		}
		if a.typ == "AWSService" {
			e.SourceIP, e.InvokedBy = a.name, a.name
		}
		if (a.typ == "IAMUser" || a.typ == "Root") && rnd.IntN(20) == 0 {
			e.Source, e.Name, e.Type, e.Category = "signin.amazonaws.com", "ConsoleLogin", iamwatch.TypeSignin, "AwsConsoleSignIn"
			e.MFAUsed = []string{"Yes", "No"}[rnd.IntN(2)]
			if rnd.IntN(5) == 0 {
				e.ErrorCode = "Failed authentication"
			}
		}
		if e.ErrorCode == "" && rnd.IntN(50) == 0 {
			e.ErrorCode, e.ErrorMessage = "AccessDenied", "User is not authorized to perform this operation"
		}
		e.Raw = json.RawMessage(fmt.Sprintf(`{"eventVersion":"1.10","eventID":%q,"eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":%q,"userAgent":%q,"userIdentity":{"type":%q,"arn":%q,"accountId":%q},"recipientAccountId":%q}`,
			e.ID, e.Time.Format(iamwatch.TimeFormat), e.Source, e.Name, e.SourceIP, e.UserAgent, e.IdentityType, e.PrincipalARN, acct, acct))
		batch = append(batch, e)
		if a.typ != "AWSService" && rnd.IntN(n/5000+1) == 0 {
			alertEvents = append(alertEvents, e)
		}
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := st.PutEvents(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	finished = true
	if _, err := finish(ctx); err != nil {
		return err
	}
	for i, e := range alertEvents {
		sev := iamwatch.Severity(i % 5)
		al := iamwatch.Alert{DedupKey: "bench/" + e.ID, Rule: "access-key-created", Severity: sev, Title: "Access Key Created",
			Summary: e.UserName + " called " + e.Name, Time: e.Time, AccountID: e.AccountID, Region: e.Region,
			UserName: e.UserName, SourceIP: e.SourceIP, EventName: e.Name, EventIDs: []string{e.ID}, EventID: e.ID}
		if _, err := iamwatch.ClaimAlert(ctx, st, al); err != nil {
			return err
		}
	}
	return nil
}
