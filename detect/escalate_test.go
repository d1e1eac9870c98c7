package detect

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

const escalatingRule = `id: burst
title: Burst
severity: medium
match: {eventSource: [signin.amazonaws.com], eventName: [ConsoleLogin], responseElements: {ConsoleLogin: [Failure]}}
threshold: {count: 4, within: 1h, by: [user_name]}
escalate: [{count: 6, severity: high}, {count: 8, severity: critical}]
summary: '{{.count}} failures for {{.group}}'
`

// An incident's severity follows its count, whatever the batches: one
// event at a time, or all at once in reverse order.
func TestEscalateFollowsCount(t *testing.T) {
	r := mustRule(t, escalatingRule)
	e := mustEngine(t, []*Rule{r}, Config{})
	evs := burst(t, "alice", 0, time.Minute, 2*time.Minute, 3*time.Minute, 4*time.Minute, 5*time.Minute, 6*time.Minute, 7*time.Minute, 8*time.Minute)

	st := NewMemoryState()
	var seen []iamwatch.Severity
	for i := range evs {
		claims, err := e.Evaluate(context.Background(), st, evs[i])
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range claims {
			seen = append(seen, c.Alert.Severity)
		}
	}
	want := []iamwatch.Severity{iamwatch.SeverityMedium, iamwatch.SeverityMedium, iamwatch.SeverityHigh, iamwatch.SeverityHigh, iamwatch.SeverityCritical, iamwatch.SeverityCritical}
	if len(seen) != len(want) {
		t.Fatalf("claims' severities = %v, want %v (events 4 to 9)", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Errorf("after %d events: %s, want %s", i+4, seen[i], want[i])
		}
	}

	reversed := NewMemoryState()
	rev := make([]iamwatch.Event, len(evs))
	for i := range evs {
		rev[len(evs)-1-i] = evs[i]
	}
	if _, err := e.Evaluate(context.Background(), reversed, rev...); err != nil {
		t.Fatal(err)
	}
	as := stored(t, reversed)
	if len(as) != 1 || as[0].Count != 9 || as[0].Severity != iamwatch.SeverityCritical {
		t.Fatalf("one batch in reverse: %+v, want one critical alert of 9", as)
	}
	if got := r.SeverityAt(5); got != iamwatch.SeverityMedium {
		t.Errorf("SeverityAt(5) = %s, want medium", got)
	}
}

func TestEscalateRefused(t *testing.T) {
	base := strings.Replace(escalatingRule, "escalate: [{count: 6, severity: high}, {count: 8, severity: critical}]\n", "", 1)
	for _, c := range []struct{ name, escalate, want string }{
		{"not an incident", "", "only a threshold or dedup rule grows"},
		{"count at the threshold", "escalate: [{count: 4, severity: high}]\n", "must be above 4"},
		{"severity not higher", "escalate: [{count: 6, severity: medium}]\n", "must be above medium"},
		{"steps not rising", "escalate: [{count: 8, severity: high}, {count: 6, severity: critical}]\n", "must be above 8"},
		{"bad severity", "escalate: [{count: 6, severity: urgent}]\n", "unknown severity"},
		{"not a list", "escalate: {count: 6, severity: high}\n", "must be a list"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := base + c.escalate
			if c.name == "not an incident" {
				src = strings.Replace(base, "threshold: {count: 4, within: 1h, by: [user_name]}\n", "escalate: [{count: 6, severity: high}]\n", 1)
			}
			_, err := ParseRule("x.yaml", []byte(src))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}
