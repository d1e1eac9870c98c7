package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/rules"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// chromium finds a Chromium or Chrome binary on PATH.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshotDir keeps the browser test's screenshots (gitignored).
const screenshotDir = "testdata/screenshots"

// TestBrowserSetupTriageSearch drives headless Chromium through the
// console over the shipped sample: the one-time set-up link, the overview,
// an alert's page and its triage, the events search and sign-out, saving a
// screenshot of each page.
func TestBrowserSetupTriageSearch(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium binary on PATH (apt-get install chromium): the browser test did not run")
	}
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	st, err := sqlite.Open(context.Background(), sampleDB(t), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rs, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	token := NewSetupToken()
	s, err := New(Config{Store: st, Rules: rs, Detect: testDetect(t), SetupToken: token, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.WindowSize(1366, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first run starts the browser and must not carry a timeout (it
	// would stop the browser); the steps after it do.
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/setup?token="+token)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg) // quality 100: PNG
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644)
		})
	}
	// view keeps what a laptop screen shows (the README's pictures).
	view := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644)
		})
	}
	// into runs a with a value and keeps the value in *dst.
	into := func(a chromedp.Action[string], dst *string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
			*dst, err = a(ctx, tg)
			return err
		})
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	var heading, status, note, url, eventsText string
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(css(`input[name=password]`)),
		shot("setup"),
		chromedp.SendKeys(css(`input[name=password]`), testPassword),
		chromedp.SendKeys(css(`input[name=confirm]`), testPassword),
		chromedp.Click(css(`main form button[type=submit]`)),
		chromedp.WaitVisible(css(`form.signout`)),
		into(chromedp.Text(css(`h1`)), &heading),
	)
	if err != nil {
		t.Fatal(err)
	}
	if heading != "Overview" {
		t.Fatalf("after set-up the browser shows %q, want the overview", heading)
	}
	// Keyboard: the first Tab reaches a link, drawn with a visible focus ring.
	var focusTag, outline string
	err = chromedp.Do(ctx,
		shot("overview"), view("doc-overview"),
		chromedp.KeyEvent("\t"),
		into(chromedp.Evaluate[string](`document.activeElement.tagName`), &focusTag),
		into(chromedp.Evaluate[string](`getComputedStyle(document.activeElement).outlineStyle`), &outline),
	)
	if err != nil {
		t.Fatal(err)
	}
	if focusTag != "A" || outline == "none" || outline == "" {
		t.Errorf("after one Tab the focus is on <%s> with outline %q, want a link with a visible outline", focusTag, outline)
	}

	all, err := st.Alerts(context.Background(), iamwatch.AlertFilter{MinSeverity: iamwatch.SeverityCritical})
	if err != nil || len(all) == 0 {
		t.Fatalf("critical sample alerts: %d %v", len(all), err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/alerts?severity=critical"),
		chromedp.WaitVisible(css(`table`)),
		shot("alerts"),
		chromedp.Click(css(`tbody tr:first-child a`)),
		chromedp.WaitVisible(css(`#triage-status`)),
		shot("alert"), view("doc-alert"),
		chromedp.SetValue(css(`select[name=status]`), "acknowledged"),
		chromedp.SendKeys(css(`textarea[name=note]`), "looking into it <b>now</b>"),
		chromedp.Click(css(`main section form button[type=submit]`)),
		chromedp.WaitVisible(css(`blockquote`)),
		into(chromedp.Text(css(`#triage-status`)), &status),
		into(chromedp.Text(css(`blockquote`)), &note),
		into(chromedp.Location(), &url),
		shot("alert-triaged"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if status != "acknowledged" || note != "looking into it <b>now</b>" {
		t.Errorf("after triage the page shows status %q note %q", status, note)
	}
	if !strings.Contains(url, "/alert?key=") {
		t.Errorf("after triage the browser is at %s, want the alert page", url)
	}
	ts, err := st.Triages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	acked := 0
	for _, tr := range ts {
		if tr.Status == iamwatch.TriageAcknowledged && tr.By == AdminUser && tr.Note == note {
			acked++
		}
	}
	if acked != 1 {
		t.Errorf("%d alerts acknowledged by admin in the store, want 1", acked)
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/events"),
		chromedp.WaitVisible(css(`input[name=event-name]`)),
		chromedp.SendKeys(css(`input[name=event-name]`), "ConsoleLogin"),
		chromedp.Click(css(`form.filters button[type=submit]`)),
		// The value attribute is the server's: only the result page has it.
		chromedp.WaitVisible(css(`input[name=event-name][value=ConsoleLogin]`)),
		into(chromedp.Location(), &url),
		into(chromedp.Text(css(`tbody`)), &eventsText),
		shot("events"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(url, "event-name=ConsoleLogin") || !strings.Contains(eventsText, "ConsoleLogin") || strings.Contains(eventsText, "AssumeRole") {
		t.Errorf("events search: at %s, table:\n%.500s", url, eventsText)
	}

	// The alert's actor: the timeline, then the raw record of its newest event.
	var tlHeading, tlRows, rawText string
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/alerts?severity=critical"),
		chromedp.Click(css(`tbody tr:first-child a`)),
		chromedp.WaitVisible(css(`#triage-status`)),
		chromedp.Click(css(`a[href^="/actor?user="]`)),
		chromedp.WaitVisible(css(`table.timeline`)),
		into(chromedp.Text(css(`h1`)), &tlHeading),
		into(chromedp.Text(css(`table.timeline tbody`)), &tlRows),
		shot("timeline"),
		chromedp.Click(css(`table.timeline a[href^="/event?id="]`)),
		chromedp.WaitVisible(css(`pre.raw`)),
		into(chromedp.Text(css(`pre.raw`)), &rawText),
		shot("event"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tlHeading, "Timeline of ") || !strings.Contains(tlRows, "2025-03-") || !strings.Contains(tlRows, "raw") {
		t.Errorf("timeline: heading %q, rows:\n%.500s", tlHeading, tlRows)
	}
	if !strings.Contains(rawText, `"eventID":`) || !strings.Contains(rawText, `"userIdentity":`) {
		t.Errorf("raw record page shows:\n%.500s", rawText)
	}

	// A question with a chart, then asked again in another time zone.
	var bars, days float64
	var caption string
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/questions"),
		chromedp.Click(css(`a[href="/question/daily_summary"]`)),
		chromedp.WaitVisible(css(`figure.chart svg`)),
		keep(chromedp.Evaluate[float64](`document.querySelectorAll("svg rect.bar").length`), &bars),
		keep(chromedp.Evaluate[float64](`document.querySelectorAll("table.answer tbody tr").length`), &days),
		shot("question-daily"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if bars != days || days < 3 {
		t.Errorf("daily_summary draws %v bars for %v days, want one a day and the sample's three days at least", bars, days)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/question/hourly_activity"),
		chromedp.WaitVisible(css(`input[name=tz]`)),
		chromedp.SendKeys(css(`input[name=tz]`), "Europe/Paris"),
		chromedp.Click(css(`form.filters button[type=submit]`)),
		chromedp.WaitVisible(css(`input[name=tz][value="Europe/Paris"]`)),
		into(chromedp.Location(), &url),
		into(chromedp.Text(css(`figcaption`)), &caption),
		keep(chromedp.Evaluate[float64](`document.querySelectorAll("svg rect.bar").length`), &bars),
		shot("question-hourly"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(url, "tz=Europe%2FParis") || !strings.Contains(caption, "Europe/Paris") || bars != 24 {
		t.Errorf("hourly_activity in Paris: at %s, caption %q, %v bars", url, caption, bars)
	}

	// The rules: every built-in rule with its tests passed.
	var rulesIntro, rootRow string
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/rules"),
		chromedp.WaitVisible(css(`#rule-root-console-signin`)),
		into(chromedp.Text(css(`main > p`)), &rulesIntro),
		into(chromedp.Text(css(`#rule-root-console-signin`)), &rootRow),
		shot("rules"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rulesIntro, fmt.Sprintf("%d rule(s)", len(rs))) || !strings.Contains(rulesIntro, "passed") || strings.Contains(rulesIntro, "failed") {
		t.Errorf("rules page says %q", rulesIntro)
	}
	if !strings.Contains(rootRow, "critical") || !strings.Contains(rootRow, "passed") {
		t.Errorf("root sign-in rule row: %q", rootRow)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(css(`form.signout button`)),
		chromedp.WaitVisible(css(`input[name=password]`)),
		chromedp.Navigate(srv.URL+"/alerts"),
		chromedp.WaitVisible(css(`input[name=password]`)),
		into(chromedp.Location(), &url),
		shot("signed-out"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(url, "/signin?next=") {
		t.Errorf("after sign-out /alerts lands at %s, want the sign-in page", url)
	}
}

// keep runs a and keeps its value in *dst.
func keep[T any](a chromedp.Action[T], dst *T) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
		*dst, err = a(ctx, tg)
		return err
	})
}
