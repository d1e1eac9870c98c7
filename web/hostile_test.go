package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/untrusted"
	"github.com/iamwatch/iamwatch/untrusted/untrustedtest"
)

// hostile is the one table of hostile strings, plus an escape from the
// console's server-drawn SVG charts.
func hostile() []untrustedtest.String {
	return append(untrustedtest.Strings[:len(untrustedtest.Strings):len(untrustedtest.Strings)],
		untrustedtest.String{Name: "svg escape", Value: `</text></svg><svg onload=alert(7)>`})
}

// rawMarkup reports what must never reach a page from data, reading the
// page as a browser would: a script element, an event-handler attribute, a
// javascript: URL, or an element the templates never write.
func rawMarkup(body string) []string {
	var bad []string
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return bad
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if !templateTags[tok.Data] {
				bad = append(bad, "element <"+tok.Data+">")
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case strings.HasPrefix(a.Key, "on"), a.Key == "autofocus" && tok.Data != "input", a.Key == "x" && !svgTags[tok.Data]:
					bad = append(bad, fmt.Sprintf("attribute %s on <%s>", a.Key, tok.Data))
				case (a.Key == "href" || a.Key == "src" || a.Key == "action") && (strings.HasPrefix(v, "javascript:") || strings.Contains(v, "//evil")):
					bad = append(bad, fmt.Sprintf("%s=%q on <%s>", a.Key, a.Val, tok.Data))
				}
			}
		}
	}
}

// templateTags are the elements the templates write.
var templateTags = map[string]bool{}

// svgTags are the chart's elements, which carry an x attribute of their own
// (the attribute-quote string's x="…" is flagged elsewhere).
var svgTags = map[string]bool{"rect": true, "text": true}

func init() {
	for _, t := range strings.Fields("html head meta title link body header nav a form input span button main h1 h2 p section dl dt dd strong blockquote label select option textarea table thead tbody tr th td ul li code div pre br em figure figcaption svg g rect line text") {
		templateTags[t] = true
	}
}

// TestHostileStringsEscaped stores alerts and events carrying every hostile
// string in every attacker-written field, renders every page over them,
// with hostile filters in the URL too, and checks no raw markup gets out.
func TestHostileStringsEscaped(t *testing.T) {
	c := newConsole(t, true, true)
	ctx := context.Background()
	hs := hostile()
	base := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	var evs []iamwatch.Event
	var alerts []iamwatch.Alert
	for i, h := range hs {
		id := fmt.Sprintf("ev-%02d", i)
		evs = append(evs, iamwatch.Event{
			ID: id, Time: base.Add(time.Duration(i) * time.Minute), Source: "signin.amazonaws.com", Name: "ConsoleLogin",
			UserName: h.Value, UserAgent: h.Value, SourceIP: h.Value, AccountID: "111122223333", Region: "us-east-1",
			IdentityType: "Root", ErrorCode: h.Value, MFAUsed: "no", PrincipalARN: h.Value, ErrorMessage: h.Value,
			Raw: rawRecord(id, h.Value),
		})
		a := notifytest.HostileAlert(h.Value)
		key := h.Value
		if len(key) > 256 {
			key = key[:256] // a dedup key is the rule and event IDs: bounded by the record, not 1 MB
		}
		a.DedupKey = fmt.Sprintf("hostile/%02d/%s", i, key)
		a.EventIDs = []string{id}
		a.Time = base.Add(time.Duration(i) * time.Minute)
		alerts = append(alerts, a)
	}
	if _, err := c.st.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if _, err := c.st.CommitAlerts(ctx, nil, func(context.Context, iamwatch.StateView) ([]iamwatch.Alert, error) { return alerts, nil }); err != nil {
		t.Fatal(err)
	}
	if err := c.st.Enqueue(ctx, alerts[0].DedupKey, []string{"slack"}, base); err != nil {
		t.Fatal(err)
	}
	// A failed delivery with a hostile error: the page draws its Retry form.
	if err := c.st.UpdateDelivery(ctx, iamwatch.Delivery{AlertKey: alerts[0].DedupKey, Severity: alerts[0].Severity, Sink: "slack", Status: iamwatch.DeliveryFailed, NextTry: base, LastError: hs[0].Value}); err != nil {
		t.Fatal(err)
	}
	c.signIn()
	// A triage note is attacker-influenced too (a colleague's paste).
	for _, a := range alerts {
		note := a.UserName
		if len(note) > iamwatch.MaxTriageNote {
			note = note[:iamwatch.MaxTriageNote]
		}
		if r := c.post("/alert/triage", url.Values{"csrf": {c.csrf("/")}, "key": {a.DedupKey}, "status": {"acknowledged"}, "note": {note}}); r.status != http.StatusSeeOther {
			t.Fatalf("triage %.300q: %d\n%.2000s", a.DedupKey, r.status, r.body)
		}
	}
	pages := []string{"/", "/alerts", "/alerts?status=acknowledged", "/events", "/events?errors=1", "/questions", "/rules"}
	for _, q := range query.All() {
		pages = append(pages, "/question/"+q.Name+"?since=&until=&user=")
	}
	for _, h := range hs {
		if len(h.Value) > 4096 {
			continue // the 1 MB string does not fit a URL (1 MB of headers): it is on the pages through the store.
		}
		v := url.QueryEscape(h.Value)
		pages = append(pages, "/alerts?rule="+v+"&actor="+v+"&account="+v, "/events?user="+v+"&source-ip="+v+"&event-name="+v,
			"/alert?key="+v, "/signin?next="+v, "/actor?user="+v, "/question/user_lookup?since=&user="+v, "/question/root_usage?since="+v,
			"/question/off_hours?tz="+v+"&hours="+v, "/question/"+v, "/rules?tag="+v+"&severity="+v, "/actor?user="+v+"&errors=1", "/event?id="+v)
	}
	for _, a := range alerts {
		pages = append(pages, "/alert?"+url.Values{"key": {a.DedupKey}}.Encode())
	}
	for _, e := range evs {
		pages = append(pages, "/event?"+url.Values{"id": {e.ID}}.Encode())
	}
	for _, p := range pages {
		r := c.get(p)
		if r.status != http.StatusOK && r.status != http.StatusNotFound && r.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d", p, r.status)
			continue
		}
		if bad := rawMarkup(r.body); len(bad) > 0 {
			t.Errorf("GET %s: raw markup reached the page: %v", p, bad)
		}
		if i := strings.IndexFunc(r.body, untrusted.Hidden); i >= 0 {
			t.Errorf("GET %s: a hidden character (%U) reached the page; want it shown as an escape", p, []rune(r.body[i:])[0])
		}
		for _, h := range hs {
			if strings.ContainsAny(h.Value, `<>"'`) && strings.Contains(r.body, h.Value) {
				t.Errorf("GET %s: hostile %s string appears unescaped", p, h.Name)
			}
		}
	}
	// The CSV download neutralises the formula (a user agent of root).
	dl := c.get("/question/root_usage?since=&format=csv")
	if !strings.Contains(dl.body, `'=HYPERLINK(`) || strings.Contains(dl.body, `,=HYPERLINK(`) || strings.Contains(dl.body, `,"=HYPERLINK(`) {
		t.Errorf("the CSV download does not neutralise a formula:\n%.3000s", dl.body)
	}
	// The hostile text is on the pages, escaped: the checks above do not
	// pass because the data never reached them.
	for i, h := range hs {
		if strings.ContainsAny(h.Value, "\x00\x1b\u202e") || !utf8.ValidString(h.Value) || len(h.Value) > 1000 {
			continue
		}
		r := c.get("/alert?" + url.Values{"key": {alerts[i].DedupKey}}.Encode())
		// html/template writes some characters (+) as entities where
		// HTMLEscapeString does not: decode the page to find the text.
		// Hidden characters are shown as escapes (untrusted.ShowHidden).
		shown := untrusted.ShowHidden(h.Value)
		if esc := template.HTMLEscapeString(shown); !strings.Contains(r.body, esc) && !strings.Contains(html.UnescapeString(r.body), shown) {
			t.Errorf("alert page of the %s string does not show it escaped (%q)", h.Name, esc)
		}
	}
}

// rawRecord is a stored record carrying v, written as JSON without
// escaping <, > and & (as CloudTrail writes them).
func rawRecord(id, v string) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{"eventID": id, "userAgent": v, "requestParameters": map[string]string{"roleSessionName": v}})
	return bytes.TrimSpace(b.Bytes())
}

// TestRawMarkupCatches: the checker flags each hostile string written
// into a page without escaping, so its silence above means something.
func TestRawMarkupCatches(t *testing.T) {
	for _, name := range []string{"html", "attribute quote", "closing tags", "javascript url"} {
		var v string
		for _, h := range hostile() {
			if h.Name == name {
				v = h.Value
			}
		}
		page := `<table><tr><td><input value="` + v + `"></td><td><a href="` + v + `">` + v + `</a></td></tr></table>`
		if bad := rawMarkup(page); len(bad) == 0 {
			t.Errorf("%s written raw: not caught", name)
		}
		if bad := rawMarkup(`<table><tr><td><input value="` + template.HTMLEscapeString(v) + `"></td><td>` + template.HTMLEscapeString(v) + `</td></tr></table>`); len(bad) > 0 {
			t.Errorf("%s escaped: flagged %v", name, bad)
		}
	}
}
