package web

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/iamwatch/iamwatch/detect"
)

type ruleRow struct {
	Rule           *detect.Rule
	Passed, Failed int
	Failures       []detect.TestResult
}

type rulesData struct {
	Rows           []ruleRow
	Tag, Severity  string
	Tags           []string
	Passed, Failed int
}

// ruleTests runs the catalog's inline tests once (about 0.3 s for the
// built-in catalog): on the first call, which `iamwatch serve` makes at
// start-up; later calls return the same results.
func (s *Server) ruleTests() map[string][]detect.TestResult {
	return s.testsOnce()
}

// RuleTests runs the inline tests of every rule now rather than on the
// first visit of the rules page, and returns how many passed and failed.
func (s *Server) RuleTests() (passed, failed int) {
	for _, rs := range s.ruleTests() {
		for _, r := range rs {
			if r.Passed {
				passed++
			} else {
				failed++
			}
		}
	}
	return passed, failed
}

func (s *Server) rulesPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := rulesData{Tag: q.Get("tag"), Severity: q.Get("severity")}
	tests := s.ruleTests()
	tags := map[string]bool{}
	for _, rule := range s.cfg.Rules {
		for _, t := range rule.Tags {
			tags[t] = true
		}
		if d.Tag != "" && !slices.Contains(rule.Tags, d.Tag) || d.Severity != "" && rule.Severity.String() != d.Severity {
			continue
		}
		row := ruleRow{Rule: rule}
		for _, t := range tests[rule.ID] {
			if t.Passed {
				row.Passed++
			} else {
				row.Failed++
				row.Failures = append(row.Failures, t)
			}
		}
		d.Passed += row.Passed
		d.Failed += row.Failed
		d.Rows = append(d.Rows, row)
	}
	for t := range tags {
		d.Tags = append(d.Tags, t)
	}
	slices.Sort(d.Tags)
	slices.SortFunc(d.Rows, func(a, b ruleRow) int {
		return cmp.Or(cmp.Compare(b.Rule.Severity, a.Rule.Severity), strings.Compare(a.Rule.ID, b.Rule.ID))
	})
	s.render(w, r, http.StatusOK, "rules", "Rules", d)
}
