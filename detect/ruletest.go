package detect

import (
	"context"
	"fmt"
	"strings"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
)

// TestResult is the outcome of one inline rule test.
type TestResult struct {
	Rule   string // rule ID
	File   string // the rule file
	Test   string // test name
	Line   int    // line of the test in File
	Passed bool
	// Reason says why the test failed; Event is the record that was judged
	// (the last of the sequence) and Summary the alert summary, if any.
	Reason  string
	Event   string
	Summary string
}

// String renders a failure as file:line: rule/test: reason, with the event.
func (r TestResult) String() string {
	if r.Passed {
		return fmt.Sprintf("ok   %s/%s", r.Rule, r.Test)
	}
	s := fmt.Sprintf("FAIL %s/%s (%s:%d): %s", r.Rule, r.Test, r.File, r.Line, r.Reason)
	if r.Summary != "" {
		s += "\n     summary: " + r.Summary
	}
	if r.Event != "" {
		s += "\n     event: " + r.Event
	}
	return s
}

// RunTests runs every inline test of every rule, each test against an
// Engine holding that rule alone, a fresh MemoryState (each event its own
// batch, so grouped and first-seen rules carry their state across batches)
// and the trusted accounts, admin policies and GeoIP database of cfg (allow-lists, threshold overrides and
// disabled rules do not apply: tests check the rule as written). Events are
// decoded by cloudtrail.DecodeRecord, as in production.
func RunTests(rules []*Rule, cfg Config) []TestResult {
	tcfg := Config{TrustedAccounts: cfg.TrustedAccounts, AdminPolicies: cfg.AdminPolicies, Geo: cfg.Geo}
	var out []TestResult
	for _, r := range rules {
		for _, t := range r.Tests {
			out = append(out, runTest(r, t, tcfg))
		}
	}
	return out
}

func runTest(r *Rule, t RuleTest, cfg Config) TestResult {
	res := TestResult{Rule: r.ID, File: r.File, Test: t.Name, Line: t.Line}
	fail := func(format string, args ...any) TestResult {
		res.Reason = fmt.Sprintf(format, args...)
		return res
	}
	eng, err := New([]*Rule{r}, cfg)
	if err != nil {
		return fail("%v", err)
	}
	if why, off := eng.Skipped()[r.ID]; off {
		return fail("%s", why)
	}
	ctx := context.Background()
	st := NewMemoryState()
	var last []iamwatch.Claim
	for i, raw := range t.Events {
		res.Event = string(raw)
		ev, err := cloudtrail.DecodeRecord(raw)
		if err != nil {
			return fail("event %d: %v", i+1, err)
		}
		claims, err := eng.Evaluate(ctx, st, ev) // one batch an event: state carries across batches
		if err != nil {
			return fail("event %d: %v", i+1, err)
		}
		last = claims
	}
	var got *iamwatch.Alert
	for i := range last {
		if last[i].Alert.Rule == r.ID {
			got = &last[i].Alert
		}
	}
	if got != nil {
		res.Summary = got.Summary
	}
	switch {
	case t.Expect == "alert" && got == nil:
		return fail("expected an alert, got none")
	case t.Expect == "none" && got != nil:
		return fail("expected no alert, got %s", got.DedupKey)
	case t.SummaryContains != "" && !strings.Contains(got.Summary, t.SummaryContains):
		return fail("summary does not contain %q", t.SummaryContains)
	}
	res.Passed = true
	res.Event = ""
	return res
}
