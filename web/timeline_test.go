package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

var rawLinkRe = regexp.MustCompile(`href="/event\?id=([^"]+)">raw</a>`)

// TestTimelinePaged: an actor's timeline lists every event of the actor,
// newest first, a page at a time through the Older links, marks failed
// calls and the events that raised alerts, and links each event's record.
func TestTimelinePaged(t *testing.T) {
	c := newConsole(t, false, true)
	ctx := context.Background()
	c.signIn()
	// The busiest actor of the sample that has an alert.
	as, err := c.st.Alerts(ctx, iamwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var user string
	var want []iamwatch.Event
	for _, a := range as {
		evs, err := c.st.Events(ctx, sqlite.EventFilter{UserName: a.UserName, NewestFirst: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) > len(want) && len(a.EventIDs) > 0 {
			user, want = a.UserName, evs
		}
	}
	if len(want) <= PageSize {
		t.Fatalf("the busiest alerted actor %q has %d events: too few to page", user, len(want))
	}
	var got []string
	next := "/actor?" + url.Values{"user": {user}}.Encode()
	pages := 0
	marked := false // some page marks the actor's alert
	for next != "" {
		r := c.get(next)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d", next, r.status)
		}
		pages++
		for _, m := range rawLinkRe.FindAllStringSubmatch(r.body, -1) {
			id, _ := url.QueryUnescape(m[1])
			got = append(got, id)
		}
		next = ""
		if m := regexp.MustCompile(`<a href="([^"]+)" rel="next">Older</a>`).FindStringSubmatch(r.body); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
		marked = marked || strings.Contains(r.body, `class="badge sev-`)
		if pages == 1 {
			if strings.Contains(r.body, ">Newest</a>") {
				t.Error("the first page links to itself as Newest")
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("the timeline of %s lists %d events over %d pages, want %d", user, len(got), pages, len(want))
	}
	if !marked {
		t.Errorf("no page of %s's timeline marks the event that raised an alert", user)
	}
	for i := range want {
		if got[i] != want[i].ID {
			t.Fatalf("timeline event %d is %s, want %s", i, got[i], want[i].ID)
		}
	}
	// Errors only.
	var failed int
	for _, e := range want {
		if e.Failed() {
			failed++
		}
	}
	r := c.get("/actor?" + url.Values{"user": {user}, "errors": {"1"}}.Encode())
	if n := len(rawLinkRe.FindAllString(r.body, -1)); n != min(failed, PageSize) {
		t.Errorf("errors-only timeline lists %d events, want %d", n, min(failed, PageSize))
	}
	for _, bad := range []string{"/actor", "/actor?user=x&before=yesterday", "/actor?user=x&since=soon"} {
		if r := c.get(bad); r.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", bad, r.status)
		}
	}
	// Every page that names an actor links the timeline.
	a := as[0]
	for _, p := range []string{"/", "/events", "/alert?" + url.Values{"key": {a.DedupKey}}.Encode()} {
		if !strings.Contains(c.get(p).body, `href="/actor?user=`) {
			t.Errorf("%s does not link any timeline", p)
		}
	}
}

// TestRawRecordPage: the raw page shows the stored record, indented and
// escaped, and the alerts the event raised.
func TestRawRecordPage(t *testing.T) {
	c := newConsole(t, false, true)
	ctx := context.Background()
	c.signIn()
	as, err := c.st.Alerts(ctx, iamwatch.AlertFilter{MinSeverity: iamwatch.SeverityCritical, Limit: 1})
	if err != nil || len(as) == 0 || len(as[0].EventIDs) == 0 {
		t.Fatalf("a critical alert: %v %v", as, err)
	}
	id := as[0].EventIDs[0]
	e, err := c.st.Event(ctx, id)
	if err != nil || len(e.Raw) == 0 {
		t.Fatalf("event %s: raw %d %v", id, len(e.Raw), err)
	}
	r := c.get("/event?" + url.Values{"id": {id}}.Encode())
	if r.status != http.StatusOK {
		t.Fatalf("GET /event: %d", r.status)
	}
	for _, want := range []string{`<pre class="raw">{`, template.HTMLEscapeString(`"eventID": "` + id + `"`), `href="/alert?key=`, `href="/actor?user=`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("raw page lacks %q", want)
		}
	}
	if r := c.get("/event?id=nothing"); r.status != http.StatusNotFound {
		t.Errorf("missing event: %d, want 404", r.status)
	}
}
