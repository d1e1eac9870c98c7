package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awsathena "github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamwatch/iamwatch/athena"
	"github.com/iamwatch/iamwatch/export"
	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/untrusted"
)

// athenaFlags are the flags of `query --engine athena`.
type athenaFlags struct {
	engine         string
	workgroup      string
	database       string
	outputLocation string
	timeout        time.Duration
}

func (a *athenaFlags) add(fl *pflag.FlagSet) {
	fl.StringVar(&a.engine, "engine", "sqlite", "where a named query runs: sqlite (the local database) or athena (the Parquet export, through the Athena API)")
	fl.StringVar(&a.workgroup, "workgroup", "iamwatch", "--engine athena: the workgroup")
	fl.StringVar(&a.database, "database", "iamwatch", "--engine athena: the database holding the events table")
	fl.StringVar(&a.outputLocation, "output-location", "", "--engine athena: s3:// result location (default: the workgroup's)")
	fl.DurationVar(&a.timeout, "athena-timeout", 10*time.Minute, "--engine athena: stop the query execution after this long")
}

// athenaQuery runs q's Athena text through the Athena API and renders the
// result as the SQLite engine's; the data scanned and its cost go to stderr.
func (e *env) athenaQuery(ctx context.Context, q query.Query, p query.Params, f athenaFlags, opt query.Options) error {
	if f.engine != "athena" {
		return usageErrorf("--engine: want sqlite or athena, not %q", f.engine)
	}
	if f.outputLocation != "" && !strings.HasPrefix(f.outputLocation, "s3://") {
		return usageErrorf("--output-location: want s3://bucket/prefix, not %q", f.outputLocation)
	}
	if p.Location == nil {
		p.Location = time.UTC
	}
	st, err := q.Statement(query.Athena, p)
	if err != nil {
		return usageErrorf("%v", err)
	}
	// The SDK reads its own settings (profiles, AWS_REGION, AWS_ENDPOINT_URL_ATHENA) from the process.
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("aws configuration: %w", err)
	}
	c, err := athena.New(awsathena.NewFromConfig(cfg), athena.Config{Workgroup: f.workgroup, Database: f.database, OutputLocation: f.outputLocation})
	if err != nil {
		return usageErrorf("%v", err)
	}
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	res, stats, err := c.Query(ctx, st.Inline(), st.Limit)
	var qe *athena.QueryError
	if errors.As(err, &qe) {
		return fmt.Errorf("%s: %s", q.Name, untrusted.Terminal(qe.Error()))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", q.Name, err)
	}
	if err := query.Write(e.stdout, res, opt); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Athena query %s: scanned %s (billed %s), about $%.6f at $%g per TB; engine time %s.\n",
		stats.ExecutionID, byteSize(stats.DataScanned), byteSize(stats.BilledBytes), stats.CostEstimate, athena.PricePerTB, stats.EngineTime)
	return nil
}

type athenaDDLFlags struct {
	location, database, table, workgroup, results string
	byRegion                                      bool
	firstYear, lastYear                           int
}

func newAthenaCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "athena",
		Short: "Athena over the Parquet export: the table definition",
		Args:  cobra.NoArgs,
	}
	var f athenaDDLFlags
	ddl := &cobra.Command{
		Use:   "ddl --location s3://BUCKET/PREFIX",
		Short: "Print the Athena database, table (with partition projection) and workgroup",
		Long: `ddl prints the statements that make an export (iamwatch export --to s3://…)
queryable by Athena: CREATE DATABASE, and CREATE EXTERNAL TABLE … STORED AS
PARQUET with partition projection over year/month/day (and region with
--by-region), so no crawler and no MSCK REPAIR are needed: a day is visible
as soon as its file is written. A second table, alerts, reads the exported
alert history (alerts/ under the location), by day too. With --result-location it also prints the
workgroup, as a CloudFormation resource (commented), with that result
location, engine version 3 and a 10 GB per-query scan cutoff.

Run the statements in the Athena console, or with
  aws athena start-query-execution --work-group W --query-string "$(…)"`,
		Example: `  iamwatch athena ddl --location s3://my-analytics/iamwatch --result-location s3://my-athena-results/`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			d, err := export.AthenaDDL(export.DDLOptions{
				Location: f.location, Database: f.database, Table: f.table, ByRegion: f.byRegion,
				FirstYear: f.firstYear, LastYear: f.lastYear, Workgroup: f.workgroup, ResultLocation: f.results,
			})
			if err != nil {
				return usageErrorf("%v", err)
			}
			fmt.Fprintf(e.stdout, "-- iamwatch: Athena objects over the Parquet export at %s\n\n%s;\n\n%s;\n\n%s;\n", f.location, d.CreateDatabase, d.CreateTable, d.CreateAlertsTable)
			if d.Workgroup != "" {
				fmt.Fprint(e.stdout, "\n-- Workgroup (CloudFormation, under Resources:):\n")
				for _, l := range strings.Split(strings.TrimRight(d.Workgroup, "\n"), "\n") {
					fmt.Fprintf(e.stdout, "-- %s\n", l)
				}
			}
			return nil
		},
	}
	fl := ddl.Flags()
	fl.StringVar(&f.location, "location", "", "the export's root, s3://bucket/prefix (required)")
	fl.StringVar(&f.database, "database", "iamwatch", "database name")
	fl.StringVar(&f.table, "table", "events", "table name")
	fl.BoolVar(&f.byRegion, "by-region", false, "the export was written with --by-region")
	fl.IntVar(&f.firstYear, "first-year", 2015, "first year of the year partition projection")
	fl.IntVar(&f.lastYear, "last-year", 2040, "last year of the year partition projection")
	fl.StringVar(&f.workgroup, "workgroup", "iamwatch", "workgroup name")
	fl.StringVar(&f.results, "result-location", "", "s3:// query result location of the workgroup (prints the workgroup)")
	cmd.AddCommand(ddl)
	return cmd
}
