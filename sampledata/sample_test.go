package sampledata_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/internal/sample"
	"github.com/iamwatch/iamwatch/sampledata"
)

// TestRegenerate fails when the committed sample is not what the generator
// writes: run `go generate ./sampledata` and commit.
func TestRegenerate(t *testing.T) {
	files, err := sample.Build(sample.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for _, f := range files {
		want[f.Path] = f.Data
	}
	got := map[string][]byte{}
	err = fs.WalkDir(sampledata.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sampledata.FS(), p)
		got[sample.DataDir+"/"+p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(sample.ManifestPath)
	if err != nil {
		t.Fatal(err)
	}
	got[sample.ManifestPath] = manifest

	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("%s: generated but not committed", p)
		case !bytes.Equal(g, w):
			hint := ""
			if strings.HasSuffix(p, ".gz") && bytes.Equal(gunzip(t, g), gunzip(t, w)) {
				hint = " (same content, different compression: a compress/gzip change?)"
			}
			t.Errorf("%s: committed bytes differ from the generator's%s", p, hint)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: committed but no longer generated", p)
		}
	}
	if t.Failed() {
		t.Log("run `go generate ./sampledata` and commit the result")
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDecodeSample decodes the whole embedded sample with the cloudtrail
// decoder, as `iamwatch scan --sample` does: nothing may be rejected but
// the two deliberately broken records, digest and Insights files are
// skipped, and the situations the detection catalog needs are there.
func TestDecodeSample(t *testing.T) {
	fsys := sampledata.FS()
	var events []iamwatch.Event
	seen := map[string]int{}
	var rejects []*cloudtrail.RecordError
	skippedFiles, files := 0, 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		opt := cloudtrail.Options{OnError: func(e *cloudtrail.RecordError) { rejects = append(rejects, e) }}
		st, err := cloudtrail.Decode(context.Background(), f, p, opt, func(ev *iamwatch.Event) error {
			seen[ev.ID]++
			if seen[ev.ID] == 1 {
				events = append(events, *ev)
			}
			return nil
		})
		switch {
		case errors.Is(err, cloudtrail.ErrSkipped):
			if !strings.Contains(p, "CloudTrail-Digest") && !strings.Contains(p, "CloudTrail-Insight") {
				t.Errorf("%s skipped: %v", p, err)
			}
			skippedFiles++
		case err != nil:
			t.Errorf("%s: %v", p, err)
		case st.Events == 0:
			t.Errorf("%s: no events (%+v)", p, st)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if skippedFiles != 4 {
		t.Errorf("%d files skipped, want 3 digests and 1 Insights file", skippedFiles)
	}
	for _, e := range rejects {
		if e.File != sample.DataDir+"/"+sample.PathBroken && e.File != sample.PathBroken {
			t.Errorf("unexpected reject: %v", e)
		}
	}
	if len(rejects) != sample.BrokenRecords {
		t.Errorf("%d records rejected, want %d: %v", len(rejects), sample.BrokenRecords, rejects)
	}
	dups := 0
	for _, n := range seen {
		if n > 1 {
			dups++
		}
	}
	if dups == 0 {
		t.Error("no event seen twice; the sample repeats a few, as CloudTrail does")
	}
	if want := distinct(sample.Generate(sample.Options{})); len(events) != want {
		t.Errorf("%d distinct events decoded, %d generated", len(events), want)
	}
	t.Logf("%d files, %d distinct events, %d seen more than once, %d rejects", files, len(events), dups, len(rejects))

	// The situations, on the normalised events.
	has := func(what string, ok func(*iamwatch.Event) bool) {
		t.Helper()
		for i := range events {
			if ok(&events[i]) {
				return
			}
		}
		t.Errorf("no event: %s", what)
	}
	has("root ConsoleLogin that succeeded with MFA", func(e *iamwatch.Event) bool {
		return e.Name == "ConsoleLogin" && e.UserName == "root" && !e.Failed() && e.MFAUsed == "yes"
	})
	has("root ConsoleLogin that succeeded without MFA", func(e *iamwatch.Event) bool {
		return e.Name == "ConsoleLogin" && e.UserName == "root" && !e.Failed() && e.MFAUsed == "no"
	})
	has("root ConsoleLogin that failed", func(e *iamwatch.Event) bool {
		return e.Name == "ConsoleLogin" && e.UserName == "root" && e.Failed()
	})
	has("IAM user ConsoleLogin without MFA", func(e *iamwatch.Event) bool {
		return e.Name == "ConsoleLogin" && e.IdentityType == "IAMUser" && !e.Failed() && e.MFAUsed == "no"
	})
	// The record says MFAUsed "No"; the decoder leaves mfa_used empty, as
	// only the identity provider knows.
	has("federated (SSO) ConsoleLogin without MFA flag", func(e *iamwatch.Event) bool {
		return e.Name == "ConsoleLogin" && e.IdentityType == "AssumedRole" && strings.Contains(e.PrincipalARN, "AWSReservedSSO_") &&
			e.MFAUsed == "" && strings.Contains(string(e.Raw), `"MFAUsed":"No"`)
	})
	has("root API call", func(e *iamwatch.Event) bool {
		return e.UserName == "root" && e.Name != "ConsoleLogin" && e.InvokedBy == "" && e.Category != "AwsServiceEvent"
	})
	for _, name := range []string{"CreateUser", "AttachUserPolicy", "PutRolePolicy", "CreateAccessKey", "UpdateAccessKey", "CreateRole",
		"UpdateAssumeRolePolicy", "DeactivateMFADevice", "DeleteVirtualMFADevice", "CreateLoginProfile", "UpdateLoginProfile",
		"CreatePermissionSet", "UpdatePermissionSet", "PutInlinePolicyToPermissionSet", "AttachManagedPolicyToPermissionSet",
		"CreateAccountAssignment", "CreateApplication", "CreateManagedApplicationInstance", "DeleteApplication",
		"StopLogging", "DeleteTrail", "CreateTrail", "UpdateTrail", "StartLogging", "PutEventSelectors",
		"DisableKey", "ScheduleKeyDeletion", "PutBucketPolicy", "StopConfigurationRecorder", "AuthorizeSecurityGroupIngress",
		"CreateNetworkAclEntry", "CreateCustomerGateway", "CreateRoute", "CreateVpc", "CreateAccount", "AttachPolicy"} {
		has(name+" that succeeded", func(e *iamwatch.Event) bool { return e.Name == name && !e.Failed() })
	}
	has("Identity Center event typed sso", func(e *iamwatch.Event) bool { return e.Type == iamwatch.TypeSSO && e.Name == "CreatePermissionSet" })

	if !burst(events, func(e *iamwatch.Event) bool {
		return e.Name == "ConsoleLogin" && e.Failed() && e.UserName != "HIDDEN_DUE_TO_SECURITY_REASONS" && e.UserName != "root"
	}, func(e *iamwatch.Event) string { return e.UserName }, 4, time.Hour) {
		t.Error("no user with ≥4 failed sign-ins within 60 minutes")
	}
	if !burst(events, func(e *iamwatch.Event) bool {
		return e.Name == "ConsoleLogin" && e.Failed() && e.UserName == "HIDDEN_DUE_TO_SECURITY_REASONS"
	}, func(e *iamwatch.Event) string { return e.SourceIP }, 4, time.Hour) {
		t.Error("no source IP with ≥4 failed sign-ins of hidden user names within 60 minutes")
	}
	if !burst(events, func(e *iamwatch.Event) bool {
		return strings.Contains(e.ErrorCode, "UnauthorizedOperation") || strings.HasPrefix(e.ErrorCode, "AccessDenied")
	}, func(e *iamwatch.Event) string { return e.PrincipalARN }, 11, 10*time.Minute) {
		t.Error("no principal with more than 10 denied calls within 10 minutes")
	}

	kinds := map[string]bool{}
	for i := range events {
		kinds[events[i].IdentityType] = true
	}
	for _, k := range []string{"Root", "IAMUser", "AssumedRole", "FederatedUser", "AWSService", "AWSAccount", "IdentityCenterUser", "SAMLUser", "WebIdentityUser"} {
		if !kinds[k] {
			t.Errorf("no decoded event with identity type %s", k)
		}
	}
}

func distinct(recs []sample.Record) int {
	ids := map[string]bool{}
	for _, r := range recs {
		ids[r.EventID] = true
	}
	return len(ids)
}

// burst reports whether some group has n matching events within d.
func burst(events []iamwatch.Event, match func(*iamwatch.Event) bool, group func(*iamwatch.Event) string, n int, d time.Duration) bool {
	times := map[string][]time.Time{}
	for i := range events {
		if e := &events[i]; match(e) {
			times[group(e)] = append(times[group(e)], e.Time)
		}
	}
	for _, ts := range times {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		for i := n - 1; i < len(ts); i++ {
			if ts[i].Sub(ts[i-n+1]) <= d {
				return true
			}
		}
	}
	return false
}
