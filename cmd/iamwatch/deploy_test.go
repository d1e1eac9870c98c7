package main

import (
	"maps"
	"strings"
	"testing"
)

// TestServerlessCommands covers what the deploy, destroy and logs commands
// decide before calling AWS: usage errors, and a destroy that is not
// confirmed touches nothing (no AWS configuration is even loaded: the test
// environment has no region, which would fail otherwise).
func TestServerlessCommands(t *testing.T) {
	tests := []struct {
		name       string
		stdin      string
		env        map[string]string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"deploy needs a bucket", "", nil, []string{"deploy"}, exitUsage, "--artifact-bucket (or IAMWATCH_ARTIFACT_BUCKET) is required"},
		{"deploy bad param", "", map[string]string{"IAMWATCH_ARTIFACT_BUCKET": "b"}, []string{"deploy", "--param", "PollSchedule"}, exitUsage, `--param "PollSchedule": want Key=Value`},
		{"deploy reserved param", "", nil, []string{"deploy", "--artifact-bucket", "b", "--param", "CodeKey=x"}, exitUsage, "--param CodeKey: set by deploy itself"},
		{"deploy stray argument", "", nil, []string{"deploy", "extra"}, exitUsage, `unexpected argument "extra"`},
		{"destroy not confirmed", "nope\n", nil, []string{"destroy", "--stack", "prod-iamwatch"}, exitError, "not confirmed; nothing deleted"},
		{"destroy no answer", "", nil, []string{"destroy"}, exitError, "not confirmed"},
		{"logs unknown function", "", nil, []string{"logs", "--function", "scanner"}, exitUsage, `--function "scanner"`},
		{"logs bad since", "", nil, []string{"logs", "--since", "-5m"}, exitUsage, "--since"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"HOME": t.TempDir()}
			maps.Copy(env, tt.env)
			r := runCLI(t, tt.stdin, env, tt.args...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tt.wantCode, tt.wantStderr)
			}
		})
	}
}

func TestConfirm(t *testing.T) {
	var out strings.Builder
	for _, tt := range []struct {
		in   string
		want bool
	}{{"iamwatch\n", true}, {"  iamwatch  \r\n", true}, {"iamwatch", true}, {"yes\n", false}, {"", false}, {"iamwatch-other\n", false}} {
		if got := confirm(strings.NewReader(tt.in), &out, "iamwatch"); got != tt.want {
			t.Errorf("confirm(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if !strings.Contains(out.String(), `Type the stack name to confirm`) {
		t.Errorf("prompt = %q", out.String())
	}
}

func TestParseParams(t *testing.T) {
	got, err := parseParams([]string{"PollSchedule=6h", "TrailBucketName=a=b", "AlertEmail=x@example.com"}, "sec@example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"PollSchedule": "6h", "TrailBucketName": "a=b", "AlertEmail": "sec@example.com"}
	if !maps.Equal(got, want) {
		t.Errorf("parseParams = %v, want %v", got, want)
	}
}
