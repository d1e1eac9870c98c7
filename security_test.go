package iamwatch_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSecurityNamesRealTests: every test SECURITY.md cites as backing a
// guarantee exists in the package it names.
func TestSecurityNamesRealTests(t *testing.T) {
	doc, err := os.ReadFile("SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	cites := regexp.MustCompile("`([a-z/]+): ((?:Test|Fuzz|Benchmark)[A-Za-z0-9_]+)`").FindAllStringSubmatch(string(doc), -1)
	if len(cites) < 20 {
		t.Fatalf("SECURITY.md cites %d tests; the pattern `pkg: TestName` no longer matches?", len(cites))
	}
	for _, c := range cites {
		pkg, name := c[1], c[2]
		files, _ := filepath.Glob(filepath.Join(filepath.FromSlash(pkg), "*_test.go"))
		found := false
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "func "+name+"(") {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("SECURITY.md cites %s: %s, which does not exist", pkg, name)
		}
	}
}
