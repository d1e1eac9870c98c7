package export_test

import (
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch/export"
)

func TestAthenaDDLGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    export.DDLOptions
	}{
		{"ddl.golden", export.DDLOptions{Location: "s3://my-analytics/iamwatch", ResultLocation: "s3://my-athena-results/iamwatch/"}},
		{"ddl_by_region.golden", export.DDLOptions{Location: "s3://my-analytics/", Database: "audit", Table: "trail_events", AlertsTable: "trail_alerts",
			ByRegion: true, Regions: []string{"eu-west-1", "us-east-1"}, FirstYear: 2020, LastYear: 2030}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := export.AthenaDDL(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, d.CreateDatabase+";\n\n"+d.CreateTable+";\n\n"+d.CreateAlertsTable+";\n\n"+d.Workgroup)
		})
	}
}

func TestAthenaDDLRefuses(t *testing.T) {
	ok := export.DDLOptions{Location: "s3://bkt/p"}
	for _, tc := range []struct {
		name string
		edit func(*export.DDLOptions)
		want string
	}{
		{"no location", func(o *export.DDLOptions) { o.Location = "" }, "location"},
		{"quote in location", func(o *export.DDLOptions) { o.Location = "s3://bkt/p'; DROP TABLE x; --" }, "location"},
		{"bad database", func(o *export.DDLOptions) { o.Database = "a-b" }, "name"},
		{"bad table", func(o *export.DDLOptions) { o.Table = "x y" }, "name"},
		{"bad alerts table", func(o *export.DDLOptions) { o.AlertsTable = "alerts;" }, "name"},
		{"same tables", func(o *export.DDLOptions) { o.Table = "alerts" }, "both named"},
		{"bad region", func(o *export.DDLOptions) { o.ByRegion, o.Regions = true, []string{"us-east-1'"} }, "region"},
		{"years", func(o *export.DDLOptions) { o.FirstYear, o.LastYear = 2030, 2020 }, "years"},
		{"bad result location", func(o *export.DDLOptions) { o.ResultLocation = "/tmp" }, "result location"},
		{"cutoff", func(o *export.DDLOptions) { o.BytesScannedCutoff = 1 }, "10 MB"},
	} {
		o := ok
		tc.edit(&o)
		if _, err := export.AthenaDDL(o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one about %q", tc.name, err, tc.want)
		}
	}
}
