package pipeline

import (
	"reflect"
	"testing"
)

// Results of batches add up rule by rule, keeping each rule's first failure.
func TestResultAddsRuleErrors(t *testing.T) {
	var total Result
	total.Add(Result{RuleErrors: []RuleErrors{{Rule: "b", Events: 2, First: "b1"}}})
	total.Add(Result{RuleErrors: []RuleErrors{{Rule: "a", Events: 1, First: "a1"}, {Rule: "b", Events: 3, First: "b2"}}})
	want := []RuleErrors{{Rule: "a", Events: 1, First: "a1"}, {Rule: "b", Events: 5, First: "b1"}}
	if !reflect.DeepEqual(total.RuleErrors, want) {
		t.Errorf("RuleErrors = %+v, want %+v", total.RuleErrors, want)
	}
}
