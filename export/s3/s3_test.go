package s3_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/parquet-go/parquet-go"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/export"
	exports3 "github.com/iamwatch/iamwatch/export/s3"
	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

const bucket = "analytics"

// client is the real SDK client, configured from the environment as the
// CLI does (AWS_ENDPOINT_URL_S3), path-style for the local server.
func client(t *testing.T, endpoint string) *awss3.Client {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL_S3", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKE111122223333")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return awss3.NewFromConfig(cfg, func(o *awss3.Options) { o.UsePathStyle = true })
}

func events(n int) []iamwatch.Event {
	var evs []iamwatch.Event
	base := time.Date(2024, 1, 14, 22, 0, 0, 0, time.UTC)
	for i := range n {
		evs = append(evs, iamwatch.Event{
			ID: fmt.Sprintf("ev-%04d", i), Time: base.Add(time.Duration(i) * 17 * time.Minute),
			Source: "sts.amazonaws.com", Name: "AssumeRole", Type: iamwatch.TypeSTS,
			UserName: "bob", Region: []string{"us-east-1", "eu-central-1"}[i%2],
			RequestParameters: json.RawMessage(`{"roleArn":"arn:aws:iam::111122223333:role/admin"}`),
		})
	}
	return evs
}

func TestExportToS3(t *testing.T) {
	ctx := context.Background()
	srv := testserver.StartS3(t, bucket)
	dst := exports3.New(client(t, srv.URL), bucket, "/cloudtrail/parquet/")
	if got := dst.URL(); got != "s3://analytics/cloudtrail/parquet/" {
		t.Errorf("URL %s", got)
	}

	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs := events(200) // 2024-01-14 22:00 to 2024-01-17 06:23: four days.
	if _, err := st.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 1, 18, 1, 2, 3, 0, time.UTC)
	opt := export.Options{Now: func() time.Time { return now }, ByRegion: true, TempDir: t.TempDir()}
	src := st

	if _, err := dst.Get(ctx, export.ManifestKey); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get of a missing key: %v, want fs.ErrNotExist", err)
	}
	rep, err := export.Run(ctx, src, dst, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written != 4 || rep.Events != 200 || len(rep.Files) != 8 {
		t.Fatalf("report %+v", rep)
	}
	keys, err := dst.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range []string{"day=14", "day=15", "day=16", "day=17"} {
		for _, r := range []string{"eu-central-1", "us-east-1"} {
			want = append(want, "year=2024/month=1/"+d+"/region="+r+"/events_20240118_010203.parquet")
		}
	}
	want = append(want, export.ManifestKey)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("keys\n%s\nwant\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}

	// Objects read back through the SDK are the same Parquet the export wrote.
	var total int
	for _, k := range keys {
		if !strings.HasSuffix(k, ".parquet") {
			continue
		}
		b, err := dst.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := parquet.Read[export.Row](bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		for _, r := range rows {
			if !strings.Contains(k, "region="+r.AWSRegion+"/") || *r.RequestParameters != `{"roleArn":"arn:aws:iam::111122223333:role/admin"}` {
				t.Errorf("%s: row %+v", k, r)
			}
		}
		total += len(rows)
	}
	if total != 200 {
		t.Errorf("read back %d rows, want 200", total)
	}

	// Second run: nothing. Then one late event on the 15th: that day's two
	// files are replaced by one (the late event is in us-east-1 only).
	if rep, err := export.Run(ctx, src, dst, opt); err != nil || rep.Written != 0 || rep.Unchanged != 4 {
		t.Fatalf("second run: %+v, %v", rep, err)
	}
	late := evs[10]
	late.ID = "late"
	if _, err := st.PutEvents(ctx, []iamwatch.Event{late}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(24 * time.Hour)
	rep, err = export.Run(ctx, src, dst, opt)
	if err != nil || rep.Written != 1 || len(rep.Deleted) != 2 || len(rep.Files) != 2 {
		t.Fatalf("after late event: %+v, %v", rep, err)
	}
	day15, err := dst.List(ctx, "year=2024/month=1/day=15/")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{
		"year=2024/month=1/day=15/region=eu-central-1/events_20240119_010203.parquet",
		"year=2024/month=1/day=15/region=us-east-1/events_20240119_010203.parquet",
	}; !slices.Equal(day15, want) {
		t.Errorf("day 15 after rewrite: %v, want %v", day15, want)
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ in, bucket, prefix string }{
		{"s3://b", "b", ""},
		{"s3://b/", "b", ""},
		{"s3://b/a/b/", "b", "a/b"},
	} {
		b, p, err := exports3.ParseURL(tc.in)
		if err != nil || b != tc.bucket || p != tc.prefix {
			t.Errorf("ParseURL(%q) = %q, %q, %v", tc.in, b, p, err)
		}
	}
	for _, bad := range []string{"", "b/p", "https://b/p", "s3:///p", "s3://b/p?x=1"} {
		if _, _, err := exports3.ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) succeeded", bad)
		}
	}
}
