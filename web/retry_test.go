package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/iamwatch/iamwatch"
)

// failDelivery enqueues the alert to sink and marks the delivery failed.
func failDelivery(t *testing.T, c *console, key, sink string) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := c.st.Enqueue(ctx, key, []string{sink}, now); err != nil {
		t.Fatal(err)
	}
	ds, err := c.st.Deliveries(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ds, func(d iamwatch.Delivery) bool { return d.Sink == sink })
	if i < 0 {
		t.Fatalf("no delivery of %s to %s", key, sink)
	}
	d := ds[i] // as the dispatcher read it, its severity included
	d.Status, d.Attempts, d.NextTry, d.LastError = iamwatch.DeliveryFailed, 8, now, "webhook: 404 Not Found"
	if err := c.st.UpdateDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
}

// TestRetryFailedDelivery: a failed delivery has a Retry button; pressing
// it sets the delivery back to pending, due now, for the notifier; a
// delivery that is not failed is left alone.
func TestRetryFailedDelivery(t *testing.T) {
	c := newConsole(t, false, true)
	ctx := context.Background()
	c.signIn()
	as, err := c.st.Alerts(ctx, iamwatch.AlertFilter{Limit: 1})
	if err != nil || len(as) == 0 {
		t.Fatal(as, err)
	}
	key := as[0].DedupKey
	failDelivery(t, c, key, "slack")
	if err := c.st.Enqueue(ctx, key, []string{"email"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	page := "/alert?" + url.Values{"key": {key}}.Encode()
	body := c.get(page).body
	if n := strings.Count(body, `action="/alert/retry"`); n != 1 {
		t.Fatalf("alert page shows %d retry buttons, want 1 (the failed slack delivery)", n)
	}
	tok := c.csrf(page)
	if r := c.post("/alert/retry", url.Values{"key": {key}, "sink": {"slack"}}); r.status != http.StatusForbidden {
		t.Errorf("retry without CSRF token: %d, want 403", r.status)
	}
	r := c.post("/alert/retry", url.Values{"csrf": {tok}, "key": {key}, "sink": {"slack"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != page {
		t.Fatalf("retry: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	ds, err := c.st.Deliveries(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Sink == "slack" && (d.Status != iamwatch.DeliveryPending || d.NextTry.After(time.Now())) {
			t.Errorf("after retry the slack delivery is %s due %s, want pending and due", d.Status, d.NextTry)
		}
	}
	if strings.Contains(c.get(page).body, `action="/alert/retry"`) {
		t.Error("the retried delivery still has a Retry button")
	}
	for _, sink := range []string{"slack", "email", "nowhere"} {
		if r := c.post("/alert/retry", url.Values{"csrf": {tok}, "key": {key}, "sink": {sink}}); r.status != http.StatusConflict {
			t.Errorf("retry of a %s delivery that is not failed: %d, want 409", sink, r.status)
		}
	}
}

// TestReadOnlyUser: a read-only user reads every page but is shown no
// triage or retry form, and the server refuses those changes even when
// posted by hand with a valid CSRF token.
func TestReadOnlyUser(t *testing.T) {
	c := newConsole(t, false, false)
	ctx := context.Background()
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.st.PutUserRole(ctx, "auditor", string(h), true); err != nil {
		t.Fatal(err)
	}
	r := c.post("/signin", url.Values{"csrf": {c.csrf("/signin")}, "user": {"auditor"}, "password": {testPassword}, "next": {"/"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("read-only sign-in: %d", r.status)
	}
	as, err := c.st.Alerts(ctx, iamwatch.AlertFilter{Limit: 1})
	if err != nil || len(as) == 0 {
		t.Fatal(as, err)
	}
	key := as[0].DedupKey
	failDelivery(t, c, key, "slack")
	for _, p := range []string{"/", "/alerts", "/events", "/questions", "/rules", "/question/daily_summary", "/actor?user=" + url.QueryEscape(as[0].UserName)} {
		if r := c.get(p); r.status != http.StatusOK {
			t.Errorf("read-only GET %s: %d", p, r.status)
		}
	}
	page := c.get("/alert?" + url.Values{"key": {key}}.Encode())
	if strings.Contains(page.body, `action="/alert/triage"`) || strings.Contains(page.body, `action="/alert/retry"`) || !strings.Contains(page.body, "(read-only)") {
		t.Error("the read-only user's alert page offers a change")
	}
	tok := c.csrf("/")
	if r := c.post("/alert/triage", url.Values{"csrf": {tok}, "key": {key}, "status": {"resolved"}}); r.status != http.StatusForbidden {
		t.Errorf("read-only triage: %d, want 403", r.status)
	}
	if r := c.post("/alert/retry", url.Values{"csrf": {tok}, "key": {key}, "sink": {"slack"}}); r.status != http.StatusForbidden {
		t.Errorf("read-only retry: %d, want 403", r.status)
	}
	if tr, _ := c.st.Triage(ctx, key); tr.Status != iamwatch.TriageOpen {
		t.Errorf("triage after a refused change: %s", tr.Status)
	}
	if ds, _ := c.st.Deliveries(ctx, key); len(ds) != 1 || ds[0].Status != iamwatch.DeliveryFailed {
		t.Errorf("delivery after a refused retry: %+v", ds)
	}
	// Signing out is no change: allowed.
	if r := c.post("/signout", url.Values{"csrf": {tok}}); r.status != http.StatusSeeOther {
		t.Errorf("read-only sign-out: %d", r.status)
	}
}
