package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/rules"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

var alertLinkRe = regexp.MustCompile(`href="/alert\?key=([^"]+)"`)

// alertKeys are the dedup keys the list page at path links to, in order.
func alertKeys(t *testing.T, body string) []string {
	t.Helper()
	var keys []string
	for _, m := range alertLinkRe.FindAllStringSubmatch(body, -1) {
		k, err := url.QueryUnescape(strings.ReplaceAll(m[1], "&amp;", "&"))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return keys
}

func TestAlertsFilteredAndTriaged(t *testing.T) {
	c := newConsole(t, false, true)
	ctx := context.Background()
	c.signIn()
	all, err := c.st.Alerts(ctx, iamwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 10 {
		t.Fatalf("the sample holds %d alerts", len(all))
	}
	r := c.get("/alerts")
	if r.status != http.StatusOK {
		t.Fatalf("GET /alerts: %d", r.status)
	}
	keys := alertKeys(t, r.body)
	if want := min(len(all), PageSize); len(keys) != want {
		t.Fatalf("/alerts lists %d alerts, want %d", len(keys), want)
	}
	// Filters in the query string select what the store selects.
	high := 0
	for _, a := range all {
		if a.Severity >= iamwatch.SeverityHigh {
			high++
		}
	}
	if got := len(alertKeys(t, c.get("/alerts?severity=high").body)); got != min(high, PageSize) {
		t.Errorf("/alerts?severity=high lists %d, want %d", got, min(high, PageSize))
	}
	pick := all[len(all)-1]
	got := alertKeys(t, c.get("/alerts?"+url.Values{"rule": {pick.Rule}, "actor": {pick.UserName}, "account": {pick.AccountID}}.Encode()).body)
	if len(got) == 0 {
		t.Fatalf("no alert of rule %s by %s listed", pick.Rule, pick.UserName)
	}
	for _, k := range got {
		as, _ := c.st.Alerts(ctx, iamwatch.AlertFilter{Key: k})
		if len(as) != 1 || as[0].Rule != pick.Rule || as[0].UserName != pick.UserName {
			t.Errorf("filtered list shows %s", k)
		}
	}
	if r := c.get("/alerts?severity=urgent"); r.status != http.StatusBadRequest {
		t.Errorf("bad severity: %d, want 400", r.status)
	}

	// Triage the newest alert: it leaves the open ones, its page says who
	// and when, and the status filter finds it.
	key := keys[0]
	tok := c.csrf("/alert?" + url.Values{"key": {key}}.Encode())
	r = c.post("/alert/triage", url.Values{"csrf": {tok}, "key": {key}, "status": {"resolved"}, "note": {"rotated the key"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("triage: %d\n%s", r.status, r.body)
	}
	tr, err := c.st.Triage(ctx, key)
	if err != nil || tr.Status != iamwatch.TriageResolved || tr.By != AdminUser || tr.Note != "rotated the key" || tr.At.IsZero() {
		t.Fatalf("stored triage %+v %v", tr, err)
	}
	page := c.get(r.header.Get("Location"))
	if !strings.Contains(page.body, `id="triage-status">resolved</strong>, set by admin at `) || !strings.Contains(page.body, "rotated the key") {
		t.Errorf("alert page after triage:\n%s", page.body)
	}
	if got := alertKeys(t, c.get("/alerts?status=resolved").body); len(got) != 1 || got[0] != key {
		t.Errorf("/alerts?status=resolved lists %v, want [%s]", got, key)
	}
	if len(all) <= PageSize {
		// Open first: the resolved alert moved to the end.
		if got := alertKeys(t, c.get("/alerts").body); got[len(got)-1] != key {
			t.Errorf("resolved alert %s is not listed after the open ones", key)
		}
	}
	for _, p := range []string{"/alerts?status=open", "/"} {
		for _, k := range alertKeys(t, c.get(p).body) {
			if k == key {
				t.Errorf("%s still lists the resolved alert", p)
			}
		}
	}
	if r := c.post("/alert/triage", url.Values{"csrf": {tok}, "key": {"no/such/alert"}, "status": {"resolved"}}); r.status != http.StatusNotFound {
		t.Errorf("triage of a missing alert: %d, want 404", r.status)
	}
	if r := c.post("/alert/triage", url.Values{"csrf": {tok}, "key": {key}, "status": {"done"}}); r.status != http.StatusBadRequest {
		t.Errorf("triage to an unknown status: %d, want 400", r.status)
	}
}

func TestAlertPage(t *testing.T) {
	c := newConsole(t, false, true)
	ctx := context.Background()
	c.signIn()
	all, err := c.st.Alerts(ctx, iamwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// The alert with the most events, to see them paged.
	big := all[0]
	for _, a := range all {
		if a.Count > big.Count {
			big = a
		}
	}
	r := c.get("/alert?" + url.Values{"key": {big.DedupKey}}.Encode())
	if r.status != http.StatusOK {
		t.Fatalf("alert page: %d", r.status)
	}
	rs, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	var desc string
	for _, r := range rs {
		if r.ID == big.Rule {
			desc = r.Description
		}
	}
	if desc == "" {
		t.Fatalf("rule %s has no description", big.Rule)
	}
	for _, want := range []string{template.HTMLEscapeString(big.Summary), template.HTMLEscapeString(desc), "Deliveries", "Sent nowhere."} {
		if !strings.Contains(r.body, want) {
			t.Errorf("alert page lacks %q", want)
		}
	}
	rows := strings.Count(r.body, "<tr><td>20") // an event row starts with its time.
	if want := min(big.Count, PageSize); rows != want {
		t.Errorf("alert of %d events shows %d event rows, want %d", big.Count, rows, want)
	}
	if big.Count > PageSize != strings.Contains(r.body, `rel="next"`) {
		t.Errorf("alert of %d events: next link %v", big.Count, strings.Contains(r.body, `rel="next"`))
	}
	// An impossible-travel alert: where its source IP is, and each event's.
	travel, err := c.st.Alerts(ctx, iamwatch.AlertFilter{Rule: "signin-impossible-travel"})
	if err != nil || len(travel) == 0 {
		t.Fatalf("the sample raised no impossible travel: %v", err)
	}
	r = c.get("/alert?" + url.Values{"key": {travel[0].DedupKey}}.Encode())
	for _, want := range []string{`<dt>Located</dt><dd class="geo">NL, AS64500 Example Hosting B.V.</dd>`,
		`<td class="geo">US AS64496</td>`, `<td class="geo">NL AS64500</td>`, "from Amsterdam, NL"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("impossible-travel alert page lacks %q", want)
		}
	}
	if r := c.get("/alert?key=nothing"); r.status != http.StatusNotFound {
		t.Errorf("missing alert: %d, want 404", r.status)
	}
	// Deliveries show each sink's state.
	if err := c.st.Enqueue(ctx, big.DedupKey, []string{"slack", "email"}, big.Time); err != nil {
		t.Fatal(err)
	}
	r = c.get("/alert?" + url.Values{"key": {big.DedupKey}}.Encode())
	for _, want := range []string{"<td>slack</td><td>pending</td>", "<td>email</td><td>pending</td>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("alert page lacks delivery %q", want)
		}
	}
}

func TestEventsSearchPaged(t *testing.T) {
	c := newConsole(t, false, true)
	ctx := context.Background()
	c.signIn()
	all, err := c.st.Events(ctx, sqlite.EventFilter{NewestFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) <= PageSize {
		t.Fatalf("the sample holds %d events, too few to page", len(all))
	}
	ids := func(body string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`<td><a href="/event\?id=[^"]*">([^<]*)</a></td></tr>`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	p1 := ids(c.get("/events").body)
	p2 := ids(c.get("/events?page=2").body)
	if len(p1) != PageSize || p1[0] != all[0].ID || p2[0] != all[PageSize].ID {
		t.Errorf("pages start at %v / %v, want %s / %s", p1[:1], p2[:1], all[0].ID, all[PageSize].ID)
	}
	last := (len(all)-1)/PageSize + 1
	if got := ids(c.get("/events?page=" + strconv.Itoa(last)).body); len(got) != len(all)-(last-1)*PageSize {
		t.Errorf("last page holds %d, want %d", len(got), len(all)-(last-1)*PageSize)
	}
	// Filters are those of iamwatch events, and the pager keeps them.
	user := all[0].UserName
	want, _ := c.st.Events(ctx, sqlite.EventFilter{UserName: user, ErrorsOnly: true, NewestFirst: true})
	r := c.get("/events?" + url.Values{"user": {user}, "errors": {"1"}}.Encode())
	if got := ids(r.body); len(got) != min(len(want), PageSize) {
		t.Errorf("events of %s with errors: %d rows, want %d", user, len(got), min(len(want), PageSize))
	}
	if len(want) > PageSize && !strings.Contains(r.body, "errors=1&amp;page=2") {
		t.Error("the next-page link drops the filters")
	}
	if r := c.get("/events?since=yesterday-ish"); r.status != http.StatusBadRequest {
		t.Errorf("bad since: %d, want 400", r.status)
	}
}

// The events page searches by address and CIDR block (IPv4 and IPv6) as
// iamwatch events does, and refuses a malformed block with a 400 that
// says why.
func TestEventsBySourceBlock(t *testing.T) {
	c := newConsole(t, false, true)
	ctx := context.Background()
	c.signIn()
	evs := []iamwatch.Event{
		{ID: "v6-1", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Name: "GetRole", UserName: "v6user", SourceIP: "2001:db8:1::7"},
		{ID: "v6-2", Time: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC), Name: "GetRole", UserName: "v6user", SourceIP: "2001:db8:2::7"},
		{ID: "v4-1", Time: time.Date(2026, 1, 2, 3, 4, 7, 0, time.UTC), Name: "GetRole", UserName: "v6user", SourceIP: "203.0.113.200"},
	}
	if _, err := c.st.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		source string
		want   []string
	}{
		{"2001:db8:1::/48", []string{"v6-1"}},
		{"2001:db8::/32", []string{"v6-2", "v6-1"}},
		{"203.0.113.192/27", []string{"v4-1"}},
		{"203.0.113.200", []string{"v4-1"}},
	} {
		r := c.get("/events?" + url.Values{"source-ip": {tt.source}, "user": {"v6user"}, "since": {"2026-01-01"}}.Encode())
		var got []string
		for _, m := range regexp.MustCompile(`<td><a href="/event\?id=[^"]*">([^<]*)</a></td></tr>`).FindAllStringSubmatch(r.body, -1) {
			got = append(got, m[1])
		}
		if r.status != http.StatusOK || !slices.Equal(got, tt.want) {
			t.Errorf("events from %s: %d %v, want %v", tt.source, r.status, got, tt.want)
		}
	}
	for _, bad := range []string{"203.0.113.0/33", "2001:db8::/200", "203.0.113.999", "<b>x</b>"} {
		r := c.get("/events?" + url.Values{"source-ip": {bad}}.Encode())
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "not a") {
			t.Errorf("events from %q: %d, want 400 saying why\n%.500s", bad, r.status, r.body)
		}
	}
}
