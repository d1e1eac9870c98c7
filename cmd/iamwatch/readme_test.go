package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamwatch/iamwatch/config"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/rules"
)

// The configuration examples in the README are accepted: each yaml block
// parses, its detection settings build an engine and its sinks build with
// every secret reference stood in for.
func TestREADMEExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("no yaml blocks in README.md")
	}
	stand := func(context.Context, string) (string, error) { return "stand-in-secret", nil }
	secrets := &notify.Resolver{
		Getenv:  func(string) (string, bool) { return "https://hooks.example.invalid/T000/B000/x", true },
		Lookups: map[string]notify.SecretLookup{"ssm": stand, "secretsmanager": stand},
	}
	e := &env{getenv: func(string) string { return "" }}
	for i, b := range blocks {
		src := string(b[1])
		cfg, err := config.Parse(strings.NewReader(src), "README.md")
		if err != nil {
			t.Errorf("yaml block %d does not parse:\n%s\n%v", i+1, src, err)
			continue
		}
		if _, closeGeo, err := e.detector(cfg.Rules, cfg.Detection, detect.NewMemoryState()); err != nil {
			t.Errorf("yaml block %d: detection settings refused: %v", i+1, err)
		} else {
			closeGeo()
		}
		if len(cfg.Notify.Sinks) > 0 {
			if _, err := notify.BuildSinks(context.Background(), cfg.Notify, sinkBuilders(aws.Config{Region: "us-east-1"}), notify.Deps{Secrets: secrets, Now: e.now}); err != nil {
				t.Errorf("yaml block %d: sinks refused: %v", i+1, err)
			}
		}
	}
}

// TestREADMEListsEveryRule: the README's rule tables name every built-in
// rule with its severity, so the catalog and its documentation move together.
func TestREADMEListsEveryRule(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range catalog {
		row := regexp.MustCompile(`(?m)^\| [^|\n]*\b` + regexp.QuoteMeta(r.ID) + `\b[^|\n]* \| ` + regexp.QuoteMeta(r.Severity.String()) + ` \|`)
		if !row.Match(readme) {
			t.Errorf("README.md has no rule-table row for %s (%s)", r.ID, r.Severity)
		}
	}
}

// TestREADMESampleOutput: the part of `scan --sample`'s output the README
// quotes is the golden file's (a "…" in a line stands for what it leaves
// out), so the figures it shows move with the sample.
func TestREADMESampleOutput(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile("testdata/scan-sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "Part of its output:\n\n```\n")
	if !ok {
		t.Fatal("README.md quotes no sample output (\"Part of its output:\" and a code block)")
	}
	block, _, _ := strings.Cut(rest, "```")
	lines := strings.Split(strings.TrimSpace(block), "\n")
	if len(lines) < 3 {
		t.Fatalf("README.md's sample output has %d lines", len(lines))
	}
	for _, line := range lines {
		if line == "…" {
			continue
		}
		parts := strings.Split(line, "…")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		if !regexp.MustCompile(`(?m)^` + strings.Join(parts, ".*") + `$`).Match(golden) {
			t.Errorf("README.md's sample output line is not in testdata/scan-sample.txt:\n%s", line)
		}
	}
}
