package web

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch/query"
)

// TestQuestionPages: every pre-built question answers on its page over the
// sample, with its form, a table, the downloads, and a chart where one
// reads better.
func TestQuestionPages(t *testing.T) {
	c := newConsole(t, false, true)
	c.signIn()
	r := c.get("/questions")
	for _, q := range query.All() {
		if !strings.Contains(r.body, `href="/question/`+q.Name+`"`) {
			t.Errorf("/questions does not link %s", q.Name)
		}
		p := "/question/" + q.Name
		if q.NeedsUser {
			p += "?user=alice"
		}
		r := c.get(p)
		if r.status != http.StatusOK {
			t.Errorf("GET %s: %d\n%.2000s", p, r.status, r.body)
			continue
		}
		for _, want := range []string{`<table class="answer">`, "format=csv", "format=json", `name="since" value="2025-03-`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("GET %s lacks %q", p, want)
			}
		}
		if chart := strings.Contains(r.body, "<svg"); chart != (q.Name == "daily_summary" || q.Name == "hourly_activity") {
			t.Errorf("GET %s: chart %v", p, chart)
		}
	}
	// The sample's days, in the daily summary's chart: one bar each (the
	// three days of the story, and the days of history before them).
	r = c.get("/question/daily_summary?since=&until=")
	days := strings.Count(strings.TrimSpace(c.get("/question/daily_summary?since=&until=&format=json").body), "\n") + 1
	if n := strings.Count(r.body, `<rect class="bar"`); n != days || days < 3 {
		t.Errorf("daily_summary over the whole sample draws %d bars for %d days, want one a day and 3 days at least", n, days)
	}
	if n := strings.Count(c.get("/question/hourly_activity?tz=Europe/Paris").body, `<rect class="bar"`); n != 24 {
		t.Errorf("hourly_activity draws %d bars, want 24", n)
	}
	for _, bad := range []string{"/question/user_lookup", "/question/failed_auth?since=someday", "/question/off_hours?tz=Mars/Olympus",
		"/question/off_hours?hours=25:00-26:00", "/question/failed_auth?since=2025-03-12&until=2025-03-10", "/question/root_usage?limit=0&format=csv"} {
		if r := c.get(bad); r.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", bad, r.status)
		}
	}
	if r := c.get("/question/drop_tables"); r.status != http.StatusNotFound {
		t.Errorf("unknown question: %d, want 404", r.status)
	}
}

// TestQuestionPagedAndDownloaded: the answer pages by PageSize rows, the
// pager keeps the parameters, and the downloads carry every row (CSV with
// a header, JSON lines), as attachments.
func TestQuestionPagedAndDownloaded(t *testing.T) {
	c := newConsole(t, false, true)
	c.signIn()
	v := url.Values{"since": {""}, "until": {""}, "hours": {"11:00-12:00"}}
	r := c.get("/question/off_hours?" + v.Encode())
	rows := strings.Count(r.body, "</td></tr>")
	if rows != PageSize || !strings.Contains(r.body, `rel="next"`) {
		t.Fatalf("off_hours page 1: %d rows, next %v; want %d and a next page", rows, strings.Contains(r.body, `rel="next"`), PageSize)
	}
	res := c.get("/question/off_hours?" + v.Encode() + "&format=csv")
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Disposition"), "attachment;") || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV download: %d %v", res.status, res.header)
	}
	recs, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[0][0] != "event_time" || len(recs) < PageSize+2 {
		t.Errorf("CSV: header %v, %d records", recs[0], len(recs))
	}
	// Page 2 starts at the CSV's 51st row.
	p2 := c.get("/question/off_hours?" + v.Encode() + "&page=2")
	if !strings.Contains(p2.body, ">"+recs[PageSize+1][8]+"</a>") {
		t.Errorf("page 2 does not show event %s", recs[PageSize+1][8])
	}
	js := c.get("/question/off_hours?" + v.Encode() + "&format=json&limit=5")
	lines := strings.Split(strings.TrimSpace(js.body), "\n")
	if len(lines) != 5 || js.header.Get("X-Iamwatch-Truncated") != "5" {
		t.Fatalf("JSON limit 5: %d lines, truncated %q", len(lines), js.header.Get("X-Iamwatch-Truncated"))
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &obj); err != nil || obj["event_name"] == nil {
		t.Errorf("JSON line %s: %v", lines[0], err)
	}
}

// TestRulesPage: the catalog with severities, descriptions, references,
// tags and its inline tests' status.
func TestRulesPage(t *testing.T) {
	c := newConsole(t, true, true)
	c.signIn()
	r := c.get("/rules")
	if r.status != http.StatusOK {
		t.Fatalf("GET /rules: %d", r.status)
	}
	for _, want := range []string{`id="rule-root-console-signin"`, `<td class="sev-critical">critical</td>`, "T1078", "passed", "inline tests: <strong>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/rules lacks %q", want)
		}
	}
	if strings.Contains(r.body, " failed</strong>") {
		t.Error("/rules shows a failed built-in test")
	}
	crit := c.get("/rules?severity=critical")
	if strings.Contains(crit.body, `class="sev-low"`) || !strings.Contains(crit.body, `class="sev-critical"`) {
		t.Error("/rules?severity=critical lists other severities")
	}
}
