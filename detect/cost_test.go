package detect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// list100 is the CEL list [0, 1, …, 99].
func list100() string {
	var b strings.Builder
	b.WriteString("[")
	for i := range 100 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprint(&b, i)
	}
	return b.String() + "]"
}

// A condition CEL estimates above MaxCost is refused when the rule is
// parsed (what `rules validate` and loading run), with file and line.
func TestCostlyConditionIsRefused(t *testing.T) {
	L := list100()
	for _, tt := range []struct {
		name, cond string
		refused    bool
	}{
		{"4 nested all over literal lists (26 s an event before)", L + `.all(a, ` + L + `.all(b, ` + L + `.all(c, ` + L + `.all(d, a+b+c+d >= 0))))`, true},
		{"3 nested all over literal lists", L + `.all(a, ` + L + `.all(b, ` + L + `.all(c, a+b+c >= 0)))`, true},
		{"3 nested exists over event data", `request.items.exists(a, request.items.exists(b, request.items.exists(c, a == b && b == c)))`, true},
		{"map building strings", `request.items.map(a, request.items.map(b, request.items.map(c, string(a) + string(b) + string(c)))).size() > 0`, true},
		{"one comprehension over event data", `request.items.exists(a, a == "x")`, false},
		{"two nested over event data", `request.items.exists(a, request.items.exists(b, a == b))`, false},
		{"literal list of 100", L + `.exists(a, a == 7)`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRule("costly.yaml", []byte(fmt.Sprintf("id: c\ntitle: C\nseverity: low\nmatch: {eventName: [CreateRole]}\ncondition: '%s'\nsummary: s\n", tt.cond)))
			if !tt.refused {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "too costly") || !strings.Contains(err.Error(), "costly.yaml:5") {
				t.Fatalf("err = %v, want costly.yaml:5 … too costly", err)
			}
		})
	}
}

// itemsEvent is a CreateRole event whose requestParameters.items holds n
// strings.
func itemsEvent(id string, n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf("%q", fmt.Sprint("i", i))
	}
	return fmt.Sprintf(`{"eventID":%q,"eventTime":"2025-03-04T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateRole",
	"userIdentity":{"type":"IAMUser","userName":"alice","accountId":"111122223333"},"recipientAccountId":"111122223333",
	"requestParameters":{"items":[%s]}}`, id, strings.Join(items, ","))
}

// A condition within the estimate that meets a record far larger than
// assumed is stopped at MaxCost: that rule does not evaluate the event
// (reported, naming rule and event), the other rules do.
func TestConditionOverBudgetIsUnevaluatedForThatRule(t *testing.T) {
	costly := mustRule(t, "id: pairs\ntitle: P\nseverity: low\nmatch: {eventName: [CreateRole]}\ncondition: 'request.items.exists(a, request.items.exists(b, size(a) + size(b) > 999))'\nsummary: s\n")
	plain := mustRule(t, "id: plain\ntitle: R\nseverity: low\nmatch: {eventName: [CreateRole]}\nsummary: s\n")
	e := mustEngine(t, []*Rule{costly, plain}, Config{})
	small, big := decode(t, itemsEvent("small", 3)), decode(t, itemsEvent("big", 3000))

	b, err := e.Match(context.Background(), []iamwatch.Event{small, big})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Unevaluated) != 1 {
		t.Fatalf("unevaluated %v, want the big event under rule pairs", b.Unevaluated)
	}
	if msg := b.Unevaluated[0].Error(); !strings.Contains(msg, `"big"`) || !strings.Contains(msg, "rule pairs") || !strings.Contains(msg, "cost limit") {
		t.Errorf("unevaluated %q should name the event, the rule and the cost limit", msg)
	}
	var plainAlerts int
	for _, a := range b.singles {
		if a.Rule == "plain" {
			plainAlerts++
		}
	}
	if plainAlerts != 2 {
		t.Errorf("rule plain raised %d alerts, want 2 (one an event)", plainAlerts)
	}
}

// Only an iterating condition is metered: one without a comprehension is a
// fixed number of steps over the record, so it runs to its end however
// large the record, even where CEL's count of its steps passes MaxCost
// (12 contains over a 900 kB string count ~1.08M).
func TestConditionWithoutIterationIsNotMetered(t *testing.T) {
	var terms []string
	for i := range 12 {
		terms = append(terms, fmt.Sprintf(`request.doc.contains("absent-%d")`, i))
	}
	cond := strings.Join(terms, " || ") + ` || request.doc.endsWith("needle")`
	r := mustRule(t, "id: scan\ntitle: S\nseverity: low\nmatch: {eventName: [CreateRole]}\ncondition: '"+cond+"'\nsummary: s\n")
	e := mustEngine(t, []*Rule{r}, Config{})
	doc := strings.Repeat("a", 900_000) + "needle"
	ev := decode(t, `{"eventID":"huge","eventTime":"2025-03-04T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateRole",`+
		`"userIdentity":{"type":"IAMUser","userName":"alice","accountId":"111122223333"},"recipientAccountId":"111122223333",`+
		`"requestParameters":{"doc":"`+doc+`"}}`)
	b, err := e.Match(context.Background(), []iamwatch.Event{ev})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Unevaluated) != 0 || len(b.singles) != 1 {
		t.Errorf("unevaluated %v, %d alerts; want the condition evaluated and matched", b.Unevaluated, len(b.singles))
	}
}

// An evaluation stops when its context ends: Match fails with the
// context's error rather than running on or taking the rule as no match.
func TestConditionStopsOnCancel(t *testing.T) {
	costly := mustRule(t, "id: pairs\ntitle: P\nseverity: low\nmatch: {eventName: [CreateRole]}\ncondition: 'request.items.exists(a, request.items.exists(b, size(a) + size(b) > 999))'\nsummary: s\n")
	e := mustEngine(t, []*Rule{costly}, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() {
		_, err := e.Match(ctx, []iamwatch.Event{decode(t, itemsEvent("big", 3000))})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Match on a cancelled context: %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Match still running 20 s after its context was cancelled")
	}
}

// BenchmarkConditionAtCostLimit is the worst one event can cost one rule:
// a condition stopped at MaxCost.
func BenchmarkConditionAtCostLimit(b *testing.B) {
	costly := mustRule(b, "id: pairs\ntitle: P\nseverity: low\nmatch: {eventName: [CreateRole]}\ncondition: 'request.items.exists(a, request.items.exists(b, size(a) + size(b) > 999))'\nsummary: s\n")
	e := mustEngine(b, []*Rule{costly}, Config{})
	evs := []iamwatch.Event{decode(b, itemsEvent("big", 3000))}
	b.ReportAllocs()
	for b.Loop() {
		bt, err := e.Match(context.Background(), evs)
		if err != nil || len(bt.Unevaluated) != 1 {
			b.Fatalf("err %v, unevaluated %v", err, bt.Unevaluated)
		}
	}
}
