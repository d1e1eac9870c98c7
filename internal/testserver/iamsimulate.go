package testserver

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"os/exec"
	"testing"
)

// The IAM policy evaluator @cloud-copilot/iam-simulate (npm, pinned by the
// lock file), installed like dynalite, and the script that feeds it.
var (
	//go:embed iamsimulate/package.json
	iamSimulatePackageJSON []byte
	//go:embed iamsimulate/package-lock.json
	iamSimulatePackageLock []byte
	//go:embed iamsimulate/simulate.mjs
	iamSimulateScript string
)

// IAMRequest is one request evaluated against one identity policy (and a
// resource policy when given), in one account (no SCP or boundary).
type IAMRequest struct {
	Policy    any               `json:"policy"` // the policy document.
	Action    string            `json:"action"`
	Resource  string            `json:"resource"`
	Principal string            `json:"principal"`
	Account   string            `json:"account"`
	Context   map[string]string `json:"context,omitempty"`
	// ResourcePolicy is the resource's own policy (a KMS key policy, which
	// KMS requires even in the same account), or nil.
	ResourcePolicy any `json:"resourcePolicy,omitempty"`
}

// IAMSimulate evaluates each request with iam-simulate and returns its
// overall result: "Allowed", "ImplicitlyDenied" or "ExplicitlyDenied", or
// "error: …" when the simulator refuses the request (an unknown action, a
// resource of the wrong type). It installs the package on first use.
func IAMSimulate(t testing.TB, reqs []IAMRequest) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH; the IAM policy simulation needs it (as dynalite does)")
	}
	dir, err := npmInstall("iam-simulate", iamSimulatePackageJSON, iamSimulatePackageLock, "node_modules/@cloud-copilot/iam-simulate/package.json", "--ignore-scripts")
	if err != nil {
		t.Fatalf("install @cloud-copilot/iam-simulate: %v", err)
	}
	in, err := json.Marshal(reqs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "--input-type=module", "-e", iamSimulateScript)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("iam-simulate: %v\n%s", err, stderr.String())
	}
	var res []struct {
		Result string `json:"result"`
		Errors string `json:"errors"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(reqs) {
		t.Fatalf("iam-simulate answered %d results for %d requests (%v): %s", len(res), len(reqs), err, out)
	}
	results := make([]string, len(res))
	for i, r := range res {
		results[i] = r.Result
		if r.Result == "error" {
			results[i] = "error: " + r.Errors
		}
	}
	return results
}
