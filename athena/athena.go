// Package athena runs iamwatch's queries on Amazon Athena: it starts a
// query execution, polls it with backoff until it ends, and pages through
// its results. It is the only package that imports the Athena SDK.
//
// Results come back as a query.Result (values nil, int64, float64 or
// string, converted by the column types Athena reports), so they render
// exactly like the SQLite engine's.
package athena

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/iamwatch/iamwatch/query"
)

// api is the part of the Athena client this package uses.
type api interface {
	StartQueryExecution(context.Context, *athena.StartQueryExecutionInput, ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error)
	GetQueryExecution(context.Context, *athena.GetQueryExecutionInput, ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error)
	GetQueryResults(context.Context, *athena.GetQueryResultsInput, ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error)
	StopQueryExecution(context.Context, *athena.StopQueryExecutionInput, ...func(*athena.Options)) (*athena.StopQueryExecutionOutput, error)
}

// Config says where queries run.
type Config struct {
	Workgroup string // required: its settings (result location, scan cutoff) apply.
	Database  string // the database of the events table; required.
	Catalog   string // "" means AwsDataCatalog.
	// OutputLocation overrides the workgroup's result location (unless the
	// workgroup enforces its own). "" uses the workgroup's.
	OutputLocation string
	// PollMin and PollMax bound the wait between two status checks: it
	// starts at PollMin and grows by half each time up to PollMax. Zero
	// means 250 ms and 5 s.
	PollMin, PollMax time.Duration
	// PageSize is the rows asked per GetQueryResults call (at most 1000,
	// Athena's limit); 0 means 1000.
	PageSize int32
}

// Client runs queries. Safe for concurrent use.
type Client struct {
	api api
	cfg Config
}

// New returns a client over the SDK client c.
func New(c *athena.Client, cfg Config) (*Client, error) { return newClient(c, cfg) }

func newClient(c api, cfg Config) (*Client, error) {
	if cfg.Workgroup == "" || cfg.Database == "" {
		return nil, errors.New("athena: a workgroup and a database are required")
	}
	if cfg.PollMin <= 0 {
		cfg.PollMin = 250 * time.Millisecond
	}
	if cfg.PollMax <= 0 {
		cfg.PollMax = 5 * time.Second
	}
	if cfg.PollMax < cfg.PollMin {
		cfg.PollMax = cfg.PollMin
	}
	if cfg.PageSize <= 0 || cfg.PageSize > 1000 {
		cfg.PageSize = 1000
	}
	return &Client{api: c, cfg: cfg}, nil
}

// Stats describe one finished query execution.
type Stats struct {
	ExecutionID  string
	State        string        // SUCCEEDED, FAILED or CANCELLED.
	DataScanned  int64         // bytes.
	EngineTime   time.Duration // Athena's engine execution time.
	OutputLoc    string        // where Athena wrote the result file.
	BilledBytes  int64         // DataScanned rounded up to a MB, 10 MB at least.
	CostEstimate float64       // US dollars at PricePerTB.
}

// Pricing of Athena's SQL queries (per query, on data scanned).
const (
	PricePerTB     = 5.0      // US dollars per TB (2^40 bytes) scanned.
	MinBilledBytes = 10 << 20 // every query is billed for 10 MB at least.
)

// BilledBytes is what Athena bills for scanning n bytes: rounded up to the
// next megabyte (2^20 bytes), 10 MB at least.
func BilledBytes(n int64) int64 {
	const mb = 1 << 20
	b := (n + mb - 1) / mb * mb
	return max(b, MinBilledBytes)
}

// Cost is the estimated price in US dollars of a query scanning n bytes.
func Cost(n int64) float64 { return float64(BilledBytes(n)) / (1 << 40) * PricePerTB }

// QueryError is a query Athena ran and that ended FAILED or CANCELLED.
type QueryError struct {
	ExecutionID string
	State       string
	Reason      string // StateChangeReason.
	Category    int32  // AthenaError.ErrorCategory: 1 system, 2 user, 3 other; 0 unknown.
	Type        int32  // AthenaError.ErrorType.
}

func (e *QueryError) Error() string {
	s := fmt.Sprintf("athena: query %s %s", e.ExecutionID, strings.ToLower(e.State))
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Query runs sql and returns its result, at most limit rows (0: all; one
// row more sets Result.Truncated, as the query package's statements ask
// for limit+1). Stats are returned with the error too when the execution
// ended FAILED or CANCELLED (the error is then a *QueryError). When ctx is
// cancelled while the query runs, the execution is stopped.
func (c *Client) Query(ctx context.Context, sql string, limit int) (*query.Result, Stats, error) {
	in := &athena.StartQueryExecutionInput{
		QueryString:           aws.String(sql),
		WorkGroup:             aws.String(c.cfg.Workgroup),
		QueryExecutionContext: &types.QueryExecutionContext{Database: aws.String(c.cfg.Database)},
	}
	if c.cfg.Catalog != "" {
		in.QueryExecutionContext.Catalog = aws.String(c.cfg.Catalog)
	}
	if c.cfg.OutputLocation != "" {
		in.ResultConfiguration = &types.ResultConfiguration{OutputLocation: aws.String(c.cfg.OutputLocation)}
	}
	out, err := c.api.StartQueryExecution(ctx, in)
	if err != nil {
		return nil, Stats{}, fmt.Errorf("athena: start query: %w", err)
	}
	id := aws.ToString(out.QueryExecutionId)
	qe, err := c.wait(ctx, id)
	st := stats(id, qe)
	if err != nil {
		return nil, st, err
	}
	if st.State != string(types.QueryExecutionStateSucceeded) {
		qerr := &QueryError{ExecutionID: id, State: st.State}
		if qe.Status != nil {
			qerr.Reason = aws.ToString(qe.Status.StateChangeReason)
			if ae := qe.Status.AthenaError; ae != nil {
				qerr.Category, qerr.Type = aws.ToInt32(ae.ErrorCategory), aws.ToInt32(ae.ErrorType)
			}
		}
		return nil, st, qerr
	}
	res, err := c.results(ctx, id, qe.StatementType == types.StatementTypeDml, limit)
	return res, st, err
}

// wait polls the execution until it ends, with growing pauses.
func (c *Client) wait(ctx context.Context, id string) (*types.QueryExecution, error) {
	pause := c.cfg.PollMin
	for {
		out, err := c.api.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err != nil {
			c.stop(ctx, id)
			return nil, fmt.Errorf("athena: query %s: status: %w", id, err)
		}
		qe := out.QueryExecution
		if qe == nil || qe.Status == nil {
			return nil, fmt.Errorf("athena: query %s: status: empty answer", id)
		}
		switch qe.Status.State {
		case types.QueryExecutionStateSucceeded, types.QueryExecutionStateFailed, types.QueryExecutionStateCancelled:
			return qe, nil
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			c.stop(ctx, id)
			return nil, fmt.Errorf("athena: query %s: %w (execution stopped)", id, ctx.Err())
		case <-t.C:
		}
		pause = min(time.Duration(float64(pause)*1.5), c.cfg.PollMax)
	}
}

// stop asks Athena to cancel a query we no longer wait for; best effort.
func (c *Client) stop(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	c.api.StopQueryExecution(ctx, &athena.StopQueryExecutionInput{QueryExecutionId: aws.String(id)}) //nolint:errcheck // best effort; the query's own error is reported.
}

func stats(id string, qe *types.QueryExecution) Stats {
	st := Stats{ExecutionID: id}
	if qe == nil {
		return st
	}
	if qe.Status != nil {
		st.State = string(qe.Status.State)
	}
	if s := qe.Statistics; s != nil {
		st.DataScanned = aws.ToInt64(s.DataScannedInBytes)
		st.EngineTime = time.Duration(aws.ToInt64(s.EngineExecutionTimeInMillis)) * time.Millisecond
	}
	if rc := qe.ResultConfiguration; rc != nil {
		st.OutputLoc = aws.ToString(rc.OutputLocation)
	}
	st.BilledBytes = BilledBytes(st.DataScanned)
	st.CostEstimate = Cost(st.DataScanned)
	return st
}

// results pages through GetQueryResults. For a DML statement (SELECT) the
// first row of the first page holds the column names, not data.
func (c *Client) results(ctx context.Context, id string, header bool, limit int) (*query.Result, error) {
	res := &query.Result{Rows: [][]any{}}
	var (
		token *string
		types []string
		first = true
	)
	for {
		out, err := c.api.GetQueryResults(ctx, &athena.GetQueryResultsInput{
			QueryExecutionId: aws.String(id), NextToken: token, MaxResults: aws.Int32(c.cfg.PageSize),
		})
		if err != nil {
			return nil, fmt.Errorf("athena: query %s: results: %w", id, err)
		}
		rs := out.ResultSet
		if rs == nil {
			return nil, fmt.Errorf("athena: query %s: results: no result set", id)
		}
		if first {
			if rs.ResultSetMetadata != nil {
				for _, ci := range rs.ResultSetMetadata.ColumnInfo {
					res.Columns = append(res.Columns, aws.ToString(ci.Name))
					types = append(types, strings.ToLower(aws.ToString(ci.Type)))
				}
			}
		}
		rows := rs.Rows
		if first && header && len(rows) > 0 {
			rows = rows[1:]
		}
		first = false
		for i, r := range rows {
			if limit > 0 && len(res.Rows) == limit {
				res.Truncated = true
				return res, nil
			}
			if len(r.Data) != len(res.Columns) {
				return nil, fmt.Errorf("athena: query %s: results: row %d has %d values for %d columns", id, len(res.Rows)+i, len(r.Data), len(res.Columns))
			}
			vals := make([]any, len(r.Data))
			for j, d := range r.Data {
				if vals[j], err = value(d.VarCharValue, types[j]); err != nil {
					return nil, fmt.Errorf("athena: query %s: results: column %s: %w", id, res.Columns[j], err)
				}
			}
			res.Rows = append(res.Rows, vals)
		}
		if out.NextToken == nil || *out.NextToken == "" {
			return res, nil
		}
		token = out.NextToken
	}
}

// value converts one Athena result value (always text on the wire) by its
// column type: integers to int64, floating and decimal numbers to float64,
// anything else stays text; an absent value is NULL.
func value(v *string, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	base, _, _ := strings.Cut(typ, "(")
	switch base {
	case "tinyint", "smallint", "integer", "int", "bigint":
		n, err := strconv.ParseInt(*v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s value %q: %w", typ, *v, err)
		}
		return n, nil
	case "real", "float", "double", "decimal":
		f, err := strconv.ParseFloat(*v, 64)
		if err != nil && !math.IsInf(f, 0) {
			return nil, fmt.Errorf("%s value %q: %w", typ, *v, err)
		}
		return f, nil
	}
	return *v, nil
}
