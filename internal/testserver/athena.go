package testserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Athena is an httptest server speaking Amazon Athena's JSON 1.1 protocol
// (POST /, X-Amz-Target: AmazonAthena.<Operation>, application/x-amz-json-1.1)
// for StartQueryExecution, GetQueryExecution, GetQueryResults and
// StopQueryExecution, as the real SDK client calls them. Queries are
// answered by an AthenaExecutor (canned answers, or a real engine such as
// DuckDB); an execution reports QUEUED, then RUNNING for Polls status
// checks, then its final state. Results are paged by MaxResults (at most
// 1000) with an opaque NextToken, the first row of the first page being
// the column names, as Athena does for SELECT. Safe for concurrent use.
type Athena struct {
	URL string
	// Polls is how many GetQueryExecution calls see RUNNING before the
	// final state. Set it before starting queries.
	Polls int

	exec AthenaExecutor
	mu   sync.Mutex
	seq  int
	runs map[string]*athenaRun
	reqs []AthenaRequest
}

// AthenaQuery is what StartQueryExecution asked.
type AthenaQuery struct {
	SQL, Database, Catalog, Workgroup, OutputLocation string
}

// AthenaColumn is one result column: its name and Athena type (varchar,
// bigint, double, …).
type AthenaColumn struct{ Name, Type string }

// AthenaAnswer is how an execution ends. A non-empty Fail makes it FAILED
// with Fail as StateChangeReason.
type AthenaAnswer struct {
	Columns     []AthenaColumn
	Rows        [][]*string // nil is NULL.
	DataScanned int64
	Fail        string
}

// AthenaExecutor answers one query.
type AthenaExecutor func(ctx context.Context, q AthenaQuery) AthenaAnswer

// AthenaRequest is one request the server received.
type AthenaRequest struct {
	Operation string
	Body      map[string]any
}

type athenaRun struct {
	q       AthenaQuery
	ans     AthenaAnswer
	checks  int
	stopped bool
	start   time.Time
}

// StartAthena starts the server; it stops in t.Cleanup.
func StartAthena(t testing.TB, exec AthenaExecutor) *Athena {
	t.Helper()
	a := &Athena{exec: exec, runs: map[string]*athenaRun{}, Polls: 1}
	srv := httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	return a
}

// Requests returns the requests received so far.
func (a *Athena) Requests() []AthenaRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]AthenaRequest(nil), a.reqs...)
}

// Count returns how many requests of one operation were received.
func (a *Athena) Count(op string) int {
	n := 0
	for _, r := range a.Requests() {
		if r.Operation == op {
			n++
		}
	}
	return n
}

func athenaError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "Message": msg}) //nolint:errcheck // test server.
}

func (a *Athena) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "AmazonAthena.")
	if r.Method != http.MethodPost || !ok || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.1") {
		athenaError(w, http.StatusBadRequest, "UnknownOperationException", "bad target "+target)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		athenaError(w, http.StatusBadRequest, "MissingAuthenticationTokenException", "request is not signed")
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		athenaError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	a.mu.Lock()
	a.reqs = append(a.reqs, AthenaRequest{Operation: op, Body: body})
	a.mu.Unlock()
	str := func(v any) string { s, _ := v.(string); return s }
	var out any
	switch op {
	case "StartQueryExecution":
		q := AthenaQuery{SQL: str(body["QueryString"]), Workgroup: str(body["WorkGroup"])}
		if c, ok := body["QueryExecutionContext"].(map[string]any); ok {
			q.Database, q.Catalog = str(c["Database"]), str(c["Catalog"])
		}
		if c, ok := body["ResultConfiguration"].(map[string]any); ok {
			q.OutputLocation = str(c["OutputLocation"])
		}
		if q.SQL == "" {
			athenaError(w, http.StatusBadRequest, "InvalidRequestException", "QueryString is required")
			return
		}
		if q.Workgroup == "" {
			q.Workgroup = "primary"
		}
		ans := a.exec(r.Context(), q)
		a.mu.Lock()
		a.seq++
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", a.seq)
		a.runs[id] = &athenaRun{q: q, ans: ans, start: time.Now()}
		a.mu.Unlock()
		out = map[string]any{"QueryExecutionId": id}
	case "GetQueryExecution", "StopQueryExecution", "GetQueryResults":
		id := str(body["QueryExecutionId"])
		a.mu.Lock()
		run := a.runs[id]
		a.mu.Unlock()
		if run == nil {
			athenaError(w, http.StatusBadRequest, "InvalidRequestException", "QueryExecution "+id+" was not found")
			return
		}
		switch op {
		case "GetQueryExecution":
			out = a.execution(id, run)
		case "StopQueryExecution":
			a.mu.Lock()
			run.stopped = true
			a.mu.Unlock()
			out = map[string]any{}
		default:
			res, err := a.results(id, run, body)
			if err != nil {
				athenaError(w, http.StatusBadRequest, "InvalidRequestException", err.Error())
				return
			}
			out = res
		}
	default:
		athenaError(w, http.StatusBadRequest, "UnknownOperationException", op+" is not implemented by the test server")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out) //nolint:errcheck // test server.
}

func (a *Athena) execution(id string, run *athenaRun) map[string]any {
	a.mu.Lock()
	run.checks++
	checks, stopped := run.checks, run.stopped
	a.mu.Unlock()
	state, reason := "SUCCEEDED", ""
	switch {
	case stopped:
		state, reason = "CANCELLED", "Query was cancelled by user"
	case checks == 1 && a.Polls > 0:
		state = "QUEUED"
	case checks <= a.Polls:
		state = "RUNNING"
	case run.ans.Fail != "":
		state, reason = "FAILED", run.ans.Fail
	}
	status := map[string]any{"State": state, "SubmissionDateTime": float64(run.start.UnixMilli()) / 1000}
	if reason != "" {
		status["StateChangeReason"] = reason
	}
	if state == "FAILED" {
		status["AthenaError"] = map[string]any{"ErrorCategory": 2, "ErrorType": 1006, "Retryable": false, "ErrorMessage": reason}
	}
	out := location(run)
	qe := map[string]any{
		"QueryExecutionId": id, "Query": run.q.SQL, "StatementType": statementType(run.q.SQL),
		"WorkGroup": run.q.Workgroup, "Status": status,
		"QueryExecutionContext": map[string]any{"Database": run.q.Database},
		"ResultConfiguration":   map[string]any{"OutputLocation": out + id + ".csv"},
		"EngineVersion":         map[string]any{"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"},
	}
	if state == "SUCCEEDED" || state == "FAILED" {
		qe["Statistics"] = map[string]any{"DataScannedInBytes": run.ans.DataScanned, "EngineExecutionTimeInMillis": 123, "TotalExecutionTimeInMillis": 150}
	}
	return map[string]any{"QueryExecution": qe}
}

func location(run *athenaRun) string {
	out := run.q.OutputLocation
	if out == "" {
		out = "s3://aws-athena-query-results-111122223333-us-east-1/"
	}
	if !strings.HasSuffix(out, "/") {
		out += "/"
	}
	return out
}

func statementType(sql string) string {
	f := strings.ToUpper(strings.Fields(sql + " x")[0])
	switch f {
	case "SELECT", "WITH", "INSERT", "VALUES":
		return "DML"
	case "CREATE", "DROP", "ALTER", "MSCK", "SHOW", "DESCRIBE":
		return "DDL"
	}
	return "UTILITY"
}

// results answers one GetQueryResults page.
func (a *Athena) results(id string, run *athenaRun, body map[string]any) (map[string]any, error) {
	a.mu.Lock()
	done := run.checks > a.Polls && !run.stopped && run.ans.Fail == ""
	a.mu.Unlock()
	if !done {
		return nil, fmt.Errorf("Query has not yet finished. Current state: RUNNING")
	}
	max := 1000
	if v, ok := body["MaxResults"].(float64); ok {
		if v < 1 || v > 1000 {
			return nil, fmt.Errorf("MaxResults %v: must be between 1 and 1000", v)
		}
		max = int(v)
	}
	rows := make([]map[string]any, 0, len(run.ans.Rows)+1)
	datum := func(v *string) map[string]any {
		if v == nil {
			return map[string]any{}
		}
		return map[string]any{"VarCharValue": *v}
	}
	header := make([]map[string]any, len(run.ans.Columns))
	for i, c := range run.ans.Columns {
		n := c.Name
		header[i] = datum(&n)
	}
	if statementType(run.q.SQL) == "DML" {
		rows = append(rows, map[string]any{"Data": header})
	}
	for _, r := range run.ans.Rows {
		d := make([]map[string]any, len(r))
		for i, v := range r {
			d[i] = datum(v)
		}
		rows = append(rows, map[string]any{"Data": d})
	}
	off := 0
	if tok, ok := body["NextToken"].(string); ok && tok != "" {
		rest, ok := strings.CutPrefix(tok, "tok."+id+".")
		n, err := strconv.Atoi(rest)
		if !ok || err != nil || n <= 0 || n > len(rows) {
			return nil, fmt.Errorf("invalid NextToken %q", tok)
		}
		off = n
	}
	end := min(off+max, len(rows))
	cols := make([]map[string]any, len(run.ans.Columns))
	for i, c := range run.ans.Columns {
		cols[i] = map[string]any{"CatalogName": "hive", "Name": c.Name, "Label": c.Name, "Type": c.Type,
			"Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": c.Type == "varchar"}
	}
	out := map[string]any{
		"UpdateCount": 0,
		"ResultSet":   map[string]any{"Rows": rows[off:end], "ResultSetMetadata": map[string]any{"ColumnInfo": cols}},
	}
	if end < len(rows) {
		out["NextToken"] = "tok." + id + "." + strconv.Itoa(end)
	}
	return out, nil
}
