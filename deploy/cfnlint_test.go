package deploy_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cfnLintRegions are the regions the templates are linted for: the usual
// home region (IAM events are recorded there) and another, where the
// forwarder runs.
var cfnLintRegions = []string{"us-east-1", "eu-west-1"}

// shippedTemplates are every template iamwatch ships (embedded in the
// binary and deployed by `iamwatch deploy` or a StackSet).
var shippedTemplates = []string{"template.yaml", "forwarder.yaml"}

// cfnLint returns the path of cfn-lint, skipping the test when it is not
// installed, unless IAMWATCH_REQUIRE_CFN_LINT is set (CI: .ci/run sets it,
// so a missing linter fails instead of passing silently).
func cfnLint(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("IAMWATCH_REQUIRE_CFN_LINT") != "" {
			t.Fatal("cfn-lint is required (IAMWATCH_REQUIRE_CFN_LINT is set) but not on PATH: pip install cfn-lint")
		}
		t.Skip("cfn-lint is not installed (pip install cfn-lint); CI requires it and runs this test")
	}
	return path
}

// lint runs cfn-lint with args (options, then files) and returns its exit
// code and output.
func lint(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	var files []string
	for len(args) > 0 && strings.HasPrefix(args[0], "--") {
		files = append(files, args[0], args[1])
		args = args[2:]
	}
	files = append(append(files, "--regions"), cfnLintRegions...)
	args = append(append(files, "--"), args...)
	cmd := exec.CommandContext(t.Context(), bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	}
	t.Fatalf("cfn-lint: %v\n%s", err, out.String())
	return 0, ""
}

// TestCfnLint: the shipped templates pass cfn-lint (values, patterns,
// required properties and IAM action names, which goformation does not
// check) in a home and a non-home region, with no error and no warning.
func TestCfnLint(t *testing.T) {
	bin := cfnLint(t)
	if code, out := lint(t, bin, shippedTemplates...); code != 0 {
		t.Errorf("cfn-lint %v exited %d:\n%s", shippedTemplates, code, out)
	}
}

// TestCfnLintCatches: deliberately broken copies of the templates fail
// cfn-lint with the rule that names the defect, so the lint above is known
// to run and to read the values this project gets wrong most easily.
func TestCfnLintCatches(t *testing.T) {
	bin := cfnLint(t)
	tests := []struct {
		name, file, old, new, rule string
	}{
		{"runtime", "template.yaml", "Runtime: provided.al2023", "Runtime: provided.al2099", "E3030"},
		{"rule state", "template.yaml", "State: ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", "State: ENABLED_WITH_ALL", "E3030"},
		{"forwarder rule state", "forwarder.yaml", "State: ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", "State: ENABLED_ALL", "E3030"},
		{"schedule", "template.yaml", "ScheduleExpression: rate(5 minutes)", "ScheduleExpression: rate(5 minutez)", "E3027"},
		{"reserved concurrency", "template.yaml", "      Timeout: 60\n", "      Timeout: 60\n      ReservedConcurrentExecutions: -1\n", "E3034"},
		{"memory", "template.yaml", "MemorySize: 256", "MemorySize: 64", "E3034"},
		{"storage class", "template.yaml", "StorageClass: GLACIER_IR", "StorageClass: GLACIER_FAST", "E3030"},
		{"IAM action", "template.yaml", "dynamodb:BatchGetItem,", "dynamodb:BatchGetItems,", "W3037"},
		{"forwarder IAM action", "forwarder.yaml", "Action: events:PutEvents", "Action: events:PutEvent", "W3037"},
	}
	// One cfn-lint run over every broken copy (each run costs about 2 s of
	// Python start-up); its parseable output names the file of each finding.
	dir := t.TempDir()
	files := make([]string, len(tests))
	for i, tt := range tests {
		b, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(tt.old)) {
			t.Fatalf("%s: %s no longer contains %q: update the mutation", tt.name, tt.file, tt.old)
		}
		files[i] = filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+"-"+tt.file)
		if err := os.WriteFile(files[i], bytes.Replace(b, []byte(tt.old), []byte(tt.new), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out := lint(t, bin, append([]string{"--format", "parseable"}, files...)...)
	if code == 0 {
		t.Fatalf("cfn-lint passed %d broken templates:\n%s", len(files), out)
	}
	for i, tt := range tests {
		found := false
		for _, line := range strings.Split(out, "\n") {
			// path:line:col:endline:endcol:RULE:message
			rest, ok := strings.CutPrefix(line, files[i]+":")
			if f := strings.SplitN(rest, ":", 6); ok && len(f) == 6 && f[4] == tt.rule {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: cfn-lint on %s with %q reported no %s:\n%s", tt.name, tt.file, tt.new, tt.rule, out)
		}
	}
}
