package query_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

var (
	benchEvents = flag.Int("query.events", 1_000_000, "BenchmarkQueries: events to generate")
	benchDB     = flag.String("query.db", "", "BenchmarkQueries: keep the generated database at this path and reuse it when it exists")
)

// benchNow is the clock of the benchmark: the generated history covers the
// 90 days before it.
var benchNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// BenchmarkQueries loads -query.events synthetic events (90 days, 500
// users, a realistic mix of identity events with raw records) into a SQLite
// file once, then times every pre-built query over the default window
// (7 days) and over the whole history, with the roll-ups (all) and without
// (all-events). Every event here is nearly unique in the roll-ups' keys
// (500 users, 3 accounts, 65k source IPs, uniformly mixed), so they shrink
// little: BenchmarkWholeHistory has the real shape.
//
//	go test -run '^$' -bench BenchmarkQueries -benchtime 3x ./query
func BenchmarkQueries(b *testing.B) {
	ctx := context.Background()
	path := *benchDB
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.db")
	}
	_, statErr := os.Stat(path)
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if statErr != nil {
		start := time.Now()
		if err := loadSynthetic(ctx, st, *benchEvents); err != nil {
			b.Fatal(err)
		}
		b.Logf("loaded %d events in %s", *benchEvents, time.Since(start).Round(time.Millisecond))
	}
	ranges := []struct {
		name string
		p    query.Params
	}{
		{"7d", query.Params{Since: benchNow.Add(-7 * 24 * time.Hour), Until: benchNow}},
		{"all", query.Params{}},
		{"all-events", query.WithoutRollup(query.Params{})}, // the whole history without the roll-ups.
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, q := range query.All() {
		for _, r := range ranges {
			b.Run(q.Name+"/"+r.name, func(b *testing.B) {
				p := r.p
				if q.NeedsUser {
					p.User = "user-7"
				}
				if q.Name == "off_hours" || q.Name == "hourly_activity" {
					p.Location = paris // the slow path: a zone with daylight saving.
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := query.Run(ctx, st.DB(), q.Name, p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// loadSynthetic stores n generated events in batches.
func loadSynthetic(ctx context.Context, st *sqlite.Store, n int) error {
	const batch = 10_000
	span := 90 * 24 * time.Hour
	start := benchNow.Add(-span)
	step := span / time.Duration(n)
	buf := make([]iamwatch.Event, 0, batch)
	type kind struct {
		src, name string
		typ       iamwatch.EventType
		weight    int
	}
	kinds := []kind{
		{"sts.amazonaws.com", "AssumeRole", iamwatch.TypeSTS, 30},
		{"sts.amazonaws.com", "GetCallerIdentity", iamwatch.TypeSTS, 10},
		{"iam.amazonaws.com", "ListUsers", iamwatch.TypeIAM, 15},
		{"iam.amazonaws.com", "GetRole", iamwatch.TypeIAM, 15},
		{"signin.amazonaws.com", "ConsoleLogin", iamwatch.TypeSignin, 10},
		{"iam.amazonaws.com", "AttachUserPolicy", iamwatch.TypeIAM, 3},
		{"iam.amazonaws.com", "CreateAccessKey", iamwatch.TypeIAM, 2},
		{"iam.amazonaws.com", "PutRolePolicy", iamwatch.TypeIAM, 2},
		{"sso.amazonaws.com", "ListPermissionSets", iamwatch.TypeSSO, 5},
		{"sso.amazonaws.com", "CreateAccountAssignment", iamwatch.TypeSSO, 2},
		{"sso.amazonaws.com", "AttachManagedPolicyToPermissionSet", iamwatch.TypeSSO, 2},
		{"sso.amazonaws.com", "CreateApplication", iamwatch.TypeSSO, 1},
		{"identitystore.amazonaws.com", "CreateUser", iamwatch.TypeSSO, 2},
		{"ec2.amazonaws.com", "DescribeInstances", iamwatch.TypeOther, 1},
	}
	var table []kind
	for _, k := range kinds {
		for range k.weight {
			table = append(table, k)
		}
	}
	x := uint64(0x9e3779b97f4a7c15)
	rnd := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	for i := range n {
		r := rnd()
		k := table[r%uint64(len(table))]
		user := fmt.Sprintf("user-%d", (r>>8)%500*((r>>20)%3)/2) // skewed: low numbers busier.
		if r%997 == 0 {
			user = "root"
		}
		acct := []string{"111122223333", "444455556666", "777788889999"}[(r>>30)%3]
		ip := fmt.Sprintf("198.51.%d.%d", (r>>36)%256, (r>>44)%256)
		e := iamwatch.Event{
			ID:   fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i, r&0xffff, (r>>16)&0xfff, (r>>28)&0xfff, r>>40),
			Time: start.Add(time.Duration(i) * step).Truncate(time.Second), Source: k.src, Name: k.name, Type: k.typ,
			Category: "AwsApiCall", UserName: user, IdentityType: "IAMUser", AccountID: acct, Region: "us-east-1",
			SourceIP: ip, UserAgent: "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0", ReadOnly: "false",
			PrincipalARN: "arn:aws:iam::" + acct + ":user/" + user,
		}
		if user == "root" {
			e.IdentityType = "Root"
		}
		switch k.name {
		case "AssumeRole":
			e.RequestParameters = json.RawMessage(fmt.Sprintf(`{"roleArn":"arn:aws:iam::%s:role/role-%d","roleSessionName":"s"}`, acct, r%40))
		case "AttachUserPolicy":
			e.RequestParameters = json.RawMessage(`{"userName":"` + user + `","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`)
		case "ConsoleLogin":
			e.Category, e.MFAUsed = "AwsConsoleSignIn", "yes"
			if r%5 == 0 {
				e.ErrorCode = "Failed authentication"
			}
		case "AttachManagedPolicyToPermissionSet":
			e.RequestParameters = json.RawMessage(`{"permissionSetArn":"arn:aws:sso:::permissionSet/ssoins-1/ps-1","managedPolicyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`)
		}
		if e.ErrorCode == "" && r%50 == 0 {
			e.ErrorCode = "AccessDenied"
		}
		e.Raw = json.RawMessage(fmt.Sprintf(`{"eventVersion":"1.10","eventID":%q,"eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":%q,"userAgent":%q,"userIdentity":{"type":%q,"arn":%q,"accountId":%q},"recipientAccountId":%q}`,
			e.ID, e.Time.Format(iamwatch.TimeFormat), e.Source, e.Name, e.SourceIP, e.UserAgent, e.IdentityType, e.PrincipalARN, acct, acct))
		buf = append(buf, e)
		if len(buf) == batch || i == n-1 {
			if _, err := st.PutEvents(ctx, buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	// Some alerts for daily_summary.
	for d := range 90 {
		a := iamwatch.Alert{DedupKey: fmt.Sprintf("bench/%d", d), Rule: "bench", Severity: iamwatch.SeverityHigh,
			Time: start.Add(time.Duration(d) * 24 * time.Hour), UserName: "user-1", AccountID: "111122223333"}
		if _, err := iamwatch.ClaimAlert(ctx, st, a); err != nil {
			return err
		}
	}
	return nil
}
