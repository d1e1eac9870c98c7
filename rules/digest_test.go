package rules_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
)

// TestChangeRulesOneIncidentPerActorHour: the CIS change rules that
// infrastructure as code sets off by the dozen (network changes, the generic
// IAM policy change) raise one incident per actor and hour, whose count is
// every change, instead of one alert per change; another actor, or the next
// hour, opens another.
func TestChangeRulesOneIncidentPerActorHour(t *testing.T) {
	byID := map[string]*detect.Rule{}
	for _, r := range load(t) {
		byID[r.ID] = r
	}
	for _, id := range []string{"route-table-changed", "network-gateway-changed", "vpc-changed", "security-group-changed", "nacl-changed", "iam-policy-changed"} {
		t.Run(id, func(t *testing.T) {
			rule := byID[id]
			if rule == nil {
				t.Fatalf("no rule %s", id)
			}
			var pos []byte
			for _, tc := range rule.Tests {
				if tc.Expect == "alert" && len(tc.Events) == 1 {
					pos = tc.Events[0]
					break
				}
			}
			if pos == nil {
				t.Fatal("no single-event positive test to build on")
			}
			base, err := cloudtrail.DecodeRecord(pos)
			if err != nil {
				t.Fatal(err)
			}
			eng, err := detect.New([]*detect.Rule{rule}, detect.Config{})
			if err != nil {
				t.Fatal(err)
			}
			hour := base.Time.Truncate(time.Hour)
			var evs []iamwatch.Event
			add := func(n int, at time.Time, principal string) {
				ev := base
				ev.ID = fmt.Sprintf("%s-%d", principal, n)
				ev.Time = at
				ev.PrincipalARN = principal
				evs = append(evs, ev)
			}
			for i := range 40 { // a Terraform run: 40 changes in 40 minutes
				add(i, hour.Add(time.Duration(i)*time.Minute), "arn:aws:iam::111122223333:role/terraform")
			}
			add(100, hour.Add(10*time.Minute), "arn:aws:iam::111122223333:user/alice")
			add(101, hour.Add(70*time.Minute), "arn:aws:iam::111122223333:role/terraform") // the next hour
			st := detect.NewMemoryState()
			for _, ev := range evs { // one batch an event, as live delivery
				if _, err := eng.Evaluate(context.Background(), st, ev); err != nil {
					t.Fatal(err)
				}
			}
			as, err := st.Alerts(context.Background(), iamwatch.AlertFilter{})
			if err != nil {
				t.Fatal(err)
			}
			counts := map[string]int{}
			for _, a := range as {
				counts[fmt.Sprintf("%s@%s", a.Group, a.FirstSeen.Format("15:04"))] += a.Count
			}
			if len(as) != 3 {
				t.Errorf("%d alerts, want 3 (terraform's hour, alice, terraform's next hour): %v", len(as), counts)
			}
			if got := counts["111122223333/arn:aws:iam::111122223333:role/terraform@"+hour.Format("15:04")]; got != 40 {
				t.Errorf("terraform's first hour counts %d changes, want 40: %v", got, counts)
			}
		})
	}
}
