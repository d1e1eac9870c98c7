package export

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// DDLOptions describe the Athena objects over an export.
type DDLOptions struct {
	// Location is the export's root, s3://bucket/prefix. Required.
	Location string
	// Database and Table name the table; "" means "iamwatch" and "events".
	Database, Table string
	// AlertsTable names the table of the alert history (under AlertsDir);
	// "" means "alerts", the name the query package's Athena dialect reads.
	AlertsTable string
	// ByRegion declares the region partition (for exports with ByRegion).
	ByRegion bool
	// Regions are the values of the region partition's projection; nil
	// means DefaultRegions. UnknownRegion is always added.
	Regions []string
	// FirstYear and LastYear bound the year partition's projection; zero
	// means 2015 and 2040.
	FirstYear, LastYear int
	// Workgroup names the workgroup; "" means "iamwatch".
	Workgroup string
	// ResultLocation is the workgroup's query result location
	// (s3://bucket/prefix). Required for the workgroup.
	ResultLocation string
	// BytesScannedCutoff bounds the data one query may scan, in bytes; 0
	// means 10 GB (5 cents a query at most).
	BytesScannedCutoff int64
}

// DefaultRegions are the AWS commercial regions, the default values of the
// region partition projection.
var DefaultRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
	"eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
	"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// DDL is the Athena definition of an export: statements to run in order,
// and the workgroup.
type DDL struct {
	CreateDatabase string // CREATE DATABASE IF NOT EXISTS …
	CreateTable    string // CREATE EXTERNAL TABLE IF NOT EXISTS … with partition projection.
	// CreateAlertsTable is the alerts table, over AlertsDir, with the same
	// projection of year/month/day (never region).
	CreateAlertsTable string
	// Workgroup is an AWS::Athena::WorkGroup resource (CloudFormation YAML,
	// indented for a Resources: section) with the result location, engine
	// version 3 and a per-query scan cutoff.
	Workgroup string
}

// The names AthenaDDL accepts, compiled on first use: their bounded
// repeats compile to thousands of instructions, 1.5 to 8 ms at the start of
// every iamwatch command (package init) when they were compiled up front.
var (
	identRE    = lazyRegexp(`^[a-z_][a-z0-9_]{0,127}$`)
	s3RE       = lazyRegexp(`^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[A-Za-z0-9!\-_.*()/=]*)?$`)
	workRE     = lazyRegexp(`^[A-Za-z0-9._\-]{1,128}$`)
	regionName = lazyRegexp(`^[a-z0-9\-]{1,32}$`)
)

func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// AthenaDDL returns the statements that make the export queryable by
// Athena with no crawler: the table's partitions are projected from the
// year/month/day (and region) integer ranges and the location template, so
// a new day is visible as soon as its file is written.
//
// Column types: every column is string but the alerts' count (bigint), as the Parquet file says (see the
// package documentation); the partition columns are int (region string).
// The alerts table lives under the events table's location (AlertsDir);
// with partition projection Athena reads only the locations the template
// gives, so neither table sees the other's files.
func AthenaDDL(o DDLOptions) (DDL, error) {
	if o.Database == "" {
		o.Database = "iamwatch"
	}
	if o.Table == "" {
		o.Table = "events"
	}
	if o.AlertsTable == "" {
		o.AlertsTable = "alerts"
	}
	if o.Workgroup == "" {
		o.Workgroup = "iamwatch"
	}
	if o.FirstYear == 0 {
		o.FirstYear = 2015
	}
	if o.LastYear == 0 {
		o.LastYear = 2040
	}
	if o.BytesScannedCutoff == 0 {
		o.BytesScannedCutoff = 10 << 30
	}
	if o.Regions == nil {
		o.Regions = DefaultRegions
	}
	if o.AlertsTable == o.Table {
		return DDL{}, fmt.Errorf("athena ddl: the events and alerts tables are both named %q", o.Table)
	}
	for _, id := range []string{o.Database, o.Table, o.AlertsTable} {
		if !identRE().MatchString(id) {
			return DDL{}, fmt.Errorf("athena ddl: name %q: want lower-case letters, digits and _", id)
		}
	}
	if !workRE().MatchString(o.Workgroup) {
		return DDL{}, fmt.Errorf("athena ddl: workgroup %q: want letters, digits, ., _ and -", o.Workgroup)
	}
	loc, err := s3Dir(o.Location, "location")
	if err != nil {
		return DDL{}, err
	}
	if o.FirstYear > o.LastYear || o.FirstYear < 1970 {
		return DDL{}, fmt.Errorf("athena ddl: years %d–%d", o.FirstYear, o.LastYear)
	}
	if o.BytesScannedCutoff < 10<<20 {
		return DDL{}, fmt.Errorf("athena ddl: bytes scanned cutoff %d is under Athena's 10 MB minimum", o.BytesScannedCutoff)
	}
	var ddl DDL
	ddl.CreateDatabase = fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s\n  COMMENT 'iamwatch: CloudTrail identity events'", o.Database)

	if ddl.CreateTable, err = createTable(o, o.Table, RowColumns, loc, o.ByRegion); err != nil {
		return DDL{}, err
	}
	if ddl.CreateAlertsTable, err = createTable(o, o.AlertsTable, AlertColumns, loc+AlertsDir, false); err != nil {
		return DDL{}, err
	}

	if o.ResultLocation != "" {
		res, err := s3Dir(o.ResultLocation, "result location")
		if err != nil {
			return DDL{}, err
		}
		ddl.Workgroup = fmt.Sprintf(`  AthenaWorkGroup:
    Type: AWS::Athena::WorkGroup
    Properties:
      Name: %s
      Description: iamwatch queries over the Parquet export
      State: ENABLED
      WorkGroupConfiguration:
        EnforceWorkGroupConfiguration: true
        PublishCloudWatchMetricsEnabled: true
        BytesScannedCutoffPerQuery: %d
        EngineVersion:
          SelectedEngineVersion: Athena engine version 3
        ResultConfiguration:
          OutputLocation: %s
          EncryptionConfiguration:
            EncryptionOption: SSE_S3
`, o.Workgroup, o.BytesScannedCutoff, res)
	}
	return ddl, nil
}

// createTable is the CREATE EXTERNAL TABLE of one table of string columns
// at loc (with a trailing slash), partitioned by day (and region).
func createTable(o DDLOptions, table string, cols []string, loc string, byRegion bool) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s.%s (\n", o.Database, table)
	for i, c := range cols {
		sep := ","
		if i == len(cols)-1 {
			sep = ""
		}
		typ := "string"
		if c == "count" { // the one number: AlertRow.Count is INT64
			typ = "bigint"
		}
		fmt.Fprintf(&b, "  `%s` %s%s\n", c, typ, sep)
	}
	b.WriteString(")\n")
	parts := "`year` int, `month` int, `day` int"
	tmpl := loc + "year=${year}/month=${month}/day=${day}/"
	if byRegion {
		parts += ", `region` string"
		tmpl += "region=${region}/"
	}
	fmt.Fprintf(&b, "PARTITIONED BY (%s)\nSTORED AS PARQUET\nLOCATION '%s'\nTBLPROPERTIES (\n", parts, loc)
	props := [][2]string{
		{"parquet.compression", "SNAPPY"},
		{"projection.enabled", "true"},
		{"projection.year.type", "integer"},
		{"projection.year.range", fmt.Sprintf("%d,%d", o.FirstYear, o.LastYear)},
		{"projection.month.type", "integer"},
		{"projection.month.range", "1,12"},
		{"projection.day.type", "integer"},
		{"projection.day.range", "1,31"},
	}
	if byRegion {
		var vals []string
		for _, r := range append(append([]string{}, o.Regions...), UnknownRegion) {
			if !regionName().MatchString(r) {
				return "", fmt.Errorf("athena ddl: region %q", r)
			}
			vals = append(vals, r)
		}
		props = append(props, [2]string{"projection.region.type", "enum"}, [2]string{"projection.region.values", strings.Join(vals, ",")})
	}
	props = append(props, [2]string{"storage.location.template", tmpl})
	for i, p := range props {
		sep := ","
		if i == len(props)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  '%s' = '%s'%s\n", p[0], p[1], sep)
	}
	b.WriteString(")")
	return b.String(), nil
}

// s3Dir checks an s3:// location and returns it with a trailing slash.
func s3Dir(s, what string) (string, error) {
	if !s3RE().MatchString(s) {
		return "", fmt.Errorf("athena ddl: %s %q: want s3://bucket[/prefix] (no quotes or spaces)", what, s)
	}
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s, nil
}
