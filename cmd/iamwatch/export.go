package main

import (
	"context"
	"fmt"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch/export"
	exports3 "github.com/iamwatch/iamwatch/export/s3"
)

type exportFlags struct {
	db        string
	to        string
	rng       rangeFlags
	byRegion  bool
	raw       bool
	force     bool
	pathStyle bool
	tempDir   string
}

func newExportCmd(e *env) *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export --to DIR|s3://BUCKET/PREFIX",
		Short: "Write the stored events and alerts as Parquet, partitioned by day for Athena",
		Long: `Export writes the stored events as Parquet files (Snappy), one per UTC day
(and per region with --by-region), in Hive-style partitions without leading
zeros, which Athena's partition projection reads (iamwatch athena ddl):

  year=2024/month=1/day=15/events_YYYYMMDD_HHMMSS.parquet

The alert history goes alongside, one file per UTC day of the alerts'
event time, for Athena's alerts table:

  alerts/year=2024/month=1/day=15/alerts_YYYYMMDD_HHMMSS.parquet

The run's time names the files. A manifest at the destination root
(_iamwatch_export.json) records what was exported: a run writes only days
that are new or gained events (alerts) since, and replaces such a day's file.
Running it again with nothing new writes nothing. A day the database was
pruned of is kept as exported: the export is the long-term history. --since/--until select the days
they touch (partitions are whole days). S3 destinations use the usual AWS
settings (profile, AWS_REGION, AWS_ENDPOINT_URL_S3).`,
		Example: `  iamwatch export --to ./parquet
  iamwatch export --to s3://my-analytics/iamwatch --since 30d --by-region`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return e.export(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	dbFlag(fl, &f.db)
	fl.StringVar(&f.to, "to", "", "destination: a directory, or s3://bucket/prefix (required)")
	f.rng.add(fl, "all")
	fl.BoolVar(&f.byRegion, "by-region", false, "add a region=… partition under each day")
	fl.BoolVar(&f.raw, "raw", false, "keep each event's raw CloudTrail record (JSON) in the raw column")
	fl.BoolVar(&f.force, "force", false, "rewrite every day in range, changed or not")
	fl.BoolVar(&f.pathStyle, "path-style", false, "S3: path-style addressing (for S3-compatible servers)")
	fl.StringVar(&f.tempDir, "temp-dir", "", "directory for files being written (default: the system's)")
	return cmd
}

func (e *env) export(ctx context.Context, f exportFlags) error {
	if f.to == "" {
		return usageErrorf("export needs --to DIR or --to s3://bucket/prefix")
	}
	since, until, err := e.times(f.rng, nil)
	if err != nil {
		return err
	}
	var (
		dst  export.Destination
		name string
	)
	if strings.HasPrefix(f.to, "s3://") {
		bucket, prefix, err := exports3.ParseURL(f.to)
		if err != nil {
			return usageErrorf("--to: %v", err)
		}
		// The SDK reads its own settings (profiles, AWS_ENDPOINT_URL_*) from the process.
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("aws configuration: %w", err)
		}
		d := exports3.New(awss3.NewFromConfig(cfg, func(o *awss3.Options) { o.UsePathStyle = f.pathStyle }), bucket, prefix)
		dst, name = d, d.URL()
	} else {
		d, err := export.NewDir(f.to)
		if err != nil {
			return err
		}
		dst, name = d, d.Root()
	}
	st, err := e.openHistory(ctx, f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := export.Run(ctx, st, dst, export.Options{
		Now: e.now, Since: since, Until: until,
		ByRegion: f.byRegion, Raw: f.raw, Force: f.force, TempDir: f.tempDir,
	})
	for _, file := range rep.Files {
		fmt.Fprintf(e.stdout, "wrote   %s (%d events, %s)\n", file.Key, file.Rows, byteSize(file.Bytes))
	}
	for _, k := range rep.Deleted {
		fmt.Fprintf(e.stdout, "removed %s (replaced)\n", k)
	}
	for _, file := range rep.Alerts.Files {
		fmt.Fprintf(e.stdout, "wrote   %s (%d alerts, %s)\n", file.Key, file.Rows, byteSize(file.Bytes))
	}
	for _, k := range rep.Alerts.Deleted {
		fmt.Fprintf(e.stdout, "removed %s (replaced)\n", k)
	}
	for _, d := range rep.Kept {
		fmt.Fprintf(e.stderr, "iamwatch: kept the export of %s: the database now holds fewer events for it (pruned?); --force rewrites it\n", d)
	}
	for _, d := range rep.Alerts.Kept {
		fmt.Fprintf(e.stderr, "iamwatch: kept the alert export of %s: the database now holds fewer alerts for it (pruned?); --force rewrites it\n", d)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Exported %d of %d days to %s: %d events, %d files, %s; %d days unchanged.\n",
		rep.Written, rep.Days, name, rep.Events, len(rep.Files), byteSize(rep.Bytes), rep.Unchanged)
	a := rep.Alerts
	fmt.Fprintf(e.stdout, "Exported %d of %d alert days: %d alerts, %d files, %s; %d alert days unchanged.\n",
		a.Written, a.Days, a.Alerts, len(a.Files), byteSize(a.Bytes), a.Unchanged)
	return nil
}

// byteSize formats n bytes for people: 512 B, 1.5 KiB, 20.3 MiB.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
