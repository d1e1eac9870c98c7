package athena

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/athena"

	"github.com/iamwatch/iamwatch/internal/testserver"
)

// sdkClient is the real SDK client pointed at the test server.
func sdkClient(url string) *sdk.Client {
	return sdk.NewFromConfig(aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIAFAKE111122223333", SecretAccessKey: "secret"}, nil
		}),
	})
}

func strp(s string) *string { return &s }

func fastClient(t *testing.T, url string, page int32) *Client {
	t.Helper()
	c, err := New(sdkClient(url), Config{Workgroup: "iamwatch", Database: "audit", OutputLocation: "s3://results-bucket/q/",
		PollMin: time.Millisecond, PollMax: 4 * time.Millisecond, PageSize: page})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestQueryPagesAndTypes(t *testing.T) {
	var got testserver.AthenaQuery
	srv := testserver.StartAthena(t, func(_ context.Context, q testserver.AthenaQuery) testserver.AthenaAnswer {
		got = q
		ans := testserver.AthenaAnswer{
			Columns:     []testserver.AthenaColumn{{Name: "user_name", Type: "varchar"}, {Name: "events", Type: "bigint"}, {Name: "error_rate", Type: "double"}, {Name: "note", Type: "varchar"}},
			DataScanned: 123_456_789,
		}
		for i := range 5 {
			var note *string
			if i%2 == 0 {
				note = strp("n" + fmt.Sprint(i))
			}
			ans.Rows = append(ans.Rows, []*string{strp(fmt.Sprintf("user%d", i)), strp(fmt.Sprint(100 - i)), strp("12.5"), note})
		}
		return ans
	})
	srv.Polls = 3
	c := fastClient(t, srv.URL, 2)
	res, st, err := c.Query(context.Background(), "SELECT user_name, events FROM events", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.SQL != "SELECT user_name, events FROM events" || got.Database != "audit" || got.Workgroup != "iamwatch" || got.OutputLocation != "s3://results-bucket/q/" {
		t.Errorf("server saw %+v", got)
	}
	if want := []string{"user_name", "events", "error_rate", "note"}; !reflect.DeepEqual(res.Columns, want) {
		t.Errorf("columns %v", res.Columns)
	}
	if len(res.Rows) != 5 || res.Truncated {
		t.Fatalf("%d rows (truncated %v), want 5", len(res.Rows), res.Truncated)
	}
	if want := []any{"user0", int64(100), 12.5, "n0"}; !reflect.DeepEqual(res.Rows[0], want) {
		t.Errorf("row 0 = %#v, want %#v", res.Rows[0], want)
	}
	if res.Rows[1][3] != nil {
		t.Errorf("NULL became %#v", res.Rows[1][3])
	}
	// Header + 5 rows in pages of 2: three GetQueryResults calls.
	if n := srv.Count("GetQueryResults"); n != 3 {
		t.Errorf("%d GetQueryResults calls, want 3", n)
	}
	if n := srv.Count("GetQueryExecution"); n != 4 {
		t.Errorf("%d status checks, want 4 (queued, running ×2, succeeded)", n)
	}
	if st.State != "SUCCEEDED" || st.DataScanned != 123_456_789 || st.BilledBytes != 118<<20 || st.EngineTime != 123*time.Millisecond {
		t.Errorf("stats %+v", st)
	}
	if !strings.HasPrefix(st.OutputLoc, "s3://results-bucket/q/") {
		t.Errorf("output location %q", st.OutputLoc)
	}
	for _, r := range srv.Requests() {
		if r.Operation == "StartQueryExecution" && r.Body["ClientRequestToken"] == nil {
			t.Error("StartQueryExecution without a ClientRequestToken (the SDK's idempotency token)")
		}
	}
}

func TestQueryLimitTruncates(t *testing.T) {
	srv := testserver.StartAthena(t, func(context.Context, testserver.AthenaQuery) testserver.AthenaAnswer {
		ans := testserver.AthenaAnswer{Columns: []testserver.AthenaColumn{{Name: "n", Type: "integer"}}}
		for i := range 4 {
			ans.Rows = append(ans.Rows, []*string{strp(fmt.Sprint(i))})
		}
		return ans
	})
	res, _, err := fastClient(t, srv.URL, 1000).Query(context.Background(), "SELECT n FROM t LIMIT 4", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 3 || !res.Truncated {
		t.Errorf("%d rows, truncated %v; want 3, true", len(res.Rows), res.Truncated)
	}
}

func TestQueryFailed(t *testing.T) {
	reason := "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved or requester is not authorized to access requested resources"
	srv := testserver.StartAthena(t, func(context.Context, testserver.AthenaQuery) testserver.AthenaAnswer {
		return testserver.AthenaAnswer{Fail: reason}
	})
	_, st, err := fastClient(t, srv.URL, 0).Query(context.Background(), "SELECT nope FROM events", 0)
	var qe *QueryError
	if !errors.As(err, &qe) {
		t.Fatalf("error %v, want a *QueryError", err)
	}
	if qe.State != "FAILED" || qe.Reason != reason || qe.Category != 2 || qe.Type != 1006 || st.State != "FAILED" {
		t.Errorf("error %+v, stats %+v", qe, st)
	}
	if !strings.Contains(err.Error(), "failed: COLUMN_NOT_FOUND") {
		t.Errorf("message %q", err)
	}
	if n := srv.Count("GetQueryResults"); n != 0 {
		t.Errorf("%d GetQueryResults calls after a failure", n)
	}
}

func TestQueryCancelledStops(t *testing.T) {
	srv := testserver.StartAthena(t, func(context.Context, testserver.AthenaQuery) testserver.AthenaAnswer {
		return testserver.AthenaAnswer{}
	})
	srv.Polls = 1 << 30 // never finishes.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := fastClient(t, srv.URL, 0).Query(ctx, "SELECT 1", 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the deadline", err)
	}
	if n := srv.Count("StopQueryExecution"); n != 1 {
		t.Errorf("%d StopQueryExecution calls, want 1", n)
	}
}

func TestUnknownExecutionIsAnError(t *testing.T) {
	srv := testserver.StartAthena(t, nil)
	c := fastClient(t, srv.URL, 0)
	_, err := c.wait(context.Background(), "nope")
	if err == nil || !strings.Contains(err.Error(), "InvalidRequestException") {
		t.Errorf("error %v", err)
	}
}

func TestCost(t *testing.T) {
	const mb, tb = 1 << 20, 1 << 40
	for _, tc := range []struct {
		scanned, billed int64
		cost            float64
	}{
		{0, 10 * mb, 10.0 * mb / tb * 5},
		{1, 10 * mb, 10.0 * mb / tb * 5},
		{10*mb + 1, 11 * mb, 11.0 * mb / tb * 5},
		{tb, tb, 5},
		{3 * tb / 2, 3 * tb / 2, 7.5},
	} {
		if b := BilledBytes(tc.scanned); b != tc.billed {
			t.Errorf("BilledBytes(%d) = %d, want %d", tc.scanned, b, tc.billed)
		}
		if c := Cost(tc.scanned); c != tc.cost {
			t.Errorf("Cost(%d) = %g, want %g", tc.scanned, c, tc.cost)
		}
	}
}

func TestValue(t *testing.T) {
	for _, tc := range []struct {
		v    *string
		typ  string
		want any
		bad  bool
	}{
		{nil, "bigint", nil, false},
		{strp("7"), "bigint", int64(7), false},
		{strp("7"), "integer", int64(7), false},
		{strp("1.25"), "double", 1.25, false},
		{strp("3.10"), "decimal(10,2)", 3.1, false},
		{strp("x"), "varchar", "x", false},
		{strp("2025-01-01 00:00:00.000"), "timestamp", "2025-01-01 00:00:00.000", false},
		{strp("x"), "bigint", nil, true},
	} {
		got, err := value(tc.v, tc.typ)
		if (err != nil) != tc.bad || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("value(%v, %s) = %#v, %v", tc.v, tc.typ, got, err)
		}
	}
}
