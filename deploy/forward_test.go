package deploy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/iamwatch/iamwatch/deploy"
	"github.com/iamwatch/iamwatch/rules"
)

// TestForwardRules: forwarder.yaml's per-service rules are what the catalog
// gives (-update rewrites them); each keeps to EventBridge's default pattern
// size, so a new account deploys them without a quota request.
func TestForwardRules(t *testing.T) {
	catalog, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	frs := deploy.ForwardRules(deploy.EventRules(catalog))
	block, err := deploy.RenderForwardRules(frs)
	if err != nil {
		t.Fatal(err)
	}
	want, err := deploy.ReplaceForwardRules(deploy.Forwarder, block)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("forwarder.yaml", want, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Skip("forwarder.yaml rewritten; run again")
	}
	if !bytes.Equal(want, deploy.Forwarder) {
		t.Fatal("forwarder.yaml's generated forward rules differ from the rule catalog; run go test ./deploy -run TestForwardRules -update")
	}
}

// TestEventPatternsFitTheDefaultQuota: every event pattern of both templates
// is at most deploy.MaxPatternChars long as EventBridge receives it (JSON),
// and the check itself sees an oversized one.
func TestEventPatternsFitTheDefaultQuota(t *testing.T) {
	for name, tpl := range map[string][]byte{"template.yaml": deploy.Template, "forwarder.yaml": deploy.Forwarder} {
		res, _ := raw(t, tpl)["Resources"].(map[string]any)
		n := 0
		for id, v := range res {
			r, _ := v.(map[string]any)
			if r["Type"] != "AWS::Events::Rule" {
				continue
			}
			props, _ := r["Properties"].(map[string]any)
			if props["EventPattern"] == nil {
				continue
			}
			b, err := json.Marshal(props["EventPattern"])
			if err != nil {
				t.Fatal(err)
			}
			n++
			if len(b) > deploy.MaxPatternChars {
				t.Errorf("%s: %s's event pattern is %d characters, over EventBridge's default %d", name, id, len(b), deploy.MaxPatternChars)
			}
		}
		if n == 0 {
			t.Errorf("%s: no event patterns found", name)
		}
	}
	// A source with more names than fit one pattern is split, each part in bounds.
	names := make([]any, 400)
	for i := range names {
		names[i] = "SomeRatherLongEventName" + string(rune('A'+i%26)) + string(rune('a'+i/26))
	}
	big := deploy.EventRule{Pattern: map[string]any{"source": []any{"aws.example"}, "detail": map[string]any{"eventName": names}}}
	frs := deploy.ForwardRules([]deploy.EventRule{big})
	if len(frs) < 2 {
		t.Fatalf("400 long names in %d rule(s); want a split", len(frs))
	}
	seen := 0
	for _, r := range frs {
		b, _ := json.Marshal(r.Pattern)
		if len(b) > deploy.MaxPatternChars {
			t.Errorf("%s: %d characters", r.LogicalID, len(b))
		}
		seen += len(r.Pattern["detail"].(map[string]any)["eventName"].([]any))
	}
	if seen != len(names) {
		t.Errorf("the parts hold %d names, want %d", seen, len(names))
	}
}
