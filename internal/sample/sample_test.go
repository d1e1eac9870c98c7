package sample

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// built is Build(Options{}), computed once for the tests that only read it.
var built = sync.OnceValues(func() ([]File, error) { return Build(Options{}) })

func sampleFiles(t *testing.T) []File {
	t.Helper()
	files, err := built()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return files
}

func TestGenerateDeterministic(t *testing.T) {
	enc := func(recs []Record) []byte {
		var b []byte
		for i := range recs {
			b = append(recs[i].AppendJSON(b), '\n')
		}
		return b
	}
	a, b := enc(Generate(Options{})), enc(Generate(Options{}))
	if !bytes.Equal(a, b) {
		t.Fatal("Generate(Options{}) differs between two calls")
	}
	c := enc(Generate(Options{Seed: 7}))
	if bytes.Equal(a, c) {
		t.Fatal("a different seed produced the same records")
	}
}

func TestBuildDeterministic(t *testing.T) {
	a := sampleFiles(t)
	b, err := Build(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("Build: %d then %d files", len(a), len(b))
	}
	for i := range a {
		if a[i].Path != b[i].Path || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("Build differs at %s / %s", a[i].Path, b[i].Path)
		}
	}
}

func TestGenerateOrderAndIDs(t *testing.T) {
	recs := Generate(Options{})
	if n := len(recs); n < 1500 || n > 5000 {
		t.Errorf("%d records; the sample should hold a few thousand", n)
	}
	ids := map[string]bool{}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for i := range recs {
		r := &recs[i]
		if i > 0 && r.EventTime.Before(recs[i-1].EventTime) {
			t.Fatalf("record %d (%s) is older than the one before", i, r.EventID)
		}
		if !uuid.MatchString(r.EventID) {
			t.Fatalf("record %d: eventID %q is not a v4 UUID", i, r.EventID)
		}
		if ids[r.EventID] && !slices.Contains(r.Tags, "duplicate") {
			t.Fatalf("eventID %s generated twice", r.EventID)
		}
		ids[r.EventID] = true
		from := DefaultStart
		if slices.Contains(r.Tags, "history") {
			from = from.AddDate(0, 0, -maxHistoryDays) // a first-seen rule's learning period (scenarios_baselines.go)
		}
		if r.EventTime.Before(from) || !r.EventTime.Before(DefaultStart.AddDate(0, 0, 3).Add(time.Hour)) {
			t.Fatalf("record %s at %s, outside the sample's days", r.EventID, r.EventTime)
		}
	}
}

// maxHistoryDays is how far before day 1 records tagged "history" go.
const maxHistoryDays = 21

// TestRecordJSON checks the encoder against encoding/json: valid JSON, the
// documented fields, no HTML escaping of attacker text.
func TestRecordJSON(t *testing.T) {
	recs := Generate(Options{})
	sawHostile := false
	for i := range recs {
		raw := recs[i].AppendJSON(nil)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("record %d: %v\n%s", i, err, raw)
		}
		for _, k := range []string{"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent", "requestParameters", "responseElements", "eventID", "eventType", "recipientAccountId"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("record %d lacks %s: %s", i, k, raw)
			}
		}
		if _, err := time.Parse(time.RFC3339, m["eventTime"].(string)); err != nil {
			t.Fatalf("record %d: eventTime: %v", i, err)
		}
		if m["userAgent"] == uaHostile {
			sawHostile = true
			if !bytes.Contains(raw, []byte("<img src=x")) || !bytes.Contains(raw, []byte(`\u001b[2J`)) {
				t.Errorf("hostile user agent encoded as %s", raw)
			}
		}
		// json.Marshal escapes HTML in the Marshaler's output; the value is the same.
		var viaM map[string]any
		if via, err := json.Marshal(&recs[i]); err != nil || json.Unmarshal(via, &viaM) != nil || !reflect.DeepEqual(viaM, m) {
			t.Fatalf("json.Marshal(&Record) = %s, %v; want the value AppendJSON writes", via, err)
		}
	}
	if !sawHostile {
		t.Error("no record carries the hostile user agent")
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `quo"te\`, "<b>&</b>", "\x00\x1b[2J\n\t", "é日本", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("appendString(%q) = %s: invalid JSON: %v", s, b, err)
		}
		var want string
		std, _ := json.Marshal(s)
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("appendString(%q) decodes to %q", s, got)
		}
	})
}

var (
	trailKey   = regexp.MustCompile(`^data/AWSLogs/(?:(o-[a-z0-9]+)/)?(\d{12})/CloudTrail/([a-z]{2}-[a-z]+-\d)/(\d{4}/\d{2}/\d{2})/(\d{12})_CloudTrail_([a-z]{2}-[a-z]+-\d)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)
	digestKey  = regexp.MustCompile(`^data/AWSLogs/(\d{12})/CloudTrail-Digest/([a-z]{2}-[a-z]+-\d)/\d{4}/\d{2}/\d{2}/(\d{12})_CloudTrail-Digest_([a-z]{2}-[a-z]+-\d)_` + TrailName + `_([a-z]{2}-[a-z]+-\d)_\d{8}T\d{6}Z\.json\.gz$`)
	insightKey = regexp.MustCompile(`^data/AWSLogs/(\d{12})/CloudTrail-Insight/([a-z]{2}-[a-z]+-\d)/\d{4}/\d{2}/\d{2}/(\d{12})_CloudTrail-Insight_([a-z]{2}-[a-z]+-\d)_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$`)
)

func gunzip(t *testing.T, path string, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" {
		t.Errorf("%s: gzip header has mtime %v, name %q; want neither", path, zr.ModTime, zr.Name)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// record is what the shape tests check of every record, however wrapped.
func checkRecord(t *testing.T, where string, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: record: %v", where, err)
	}
	id, _ := m["eventID"].(string)
	if id == "" {
		t.Fatalf("%s: record without eventID", where)
	}
	if _, err := time.Parse(time.RFC3339, m["eventTime"].(string)); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	return m
}

func lines(b []byte) [][]byte {
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	return out
}

// TestShapes parses every file as the shape it must be, with encoding/json.
func TestShapes(t *testing.T) {
	files := sampleFiles(t)
	byPath := map[string][]byte{}
	for _, f := range files {
		byPath[f.Path] = f.Data
	}
	counts := map[string]int{}
	seen := map[string]int{} // eventID → times seen across files
	eventBridgeTypes := map[string]bool{}
	for _, f := range files {
		switch p := f.Path; {
		case p == ManifestPath:
		case trailKey.MatchString(p):
			m := trailKey.FindStringSubmatch(p)
			org, acct, region, dir, fileAcct, fileRegion, stamp := m[1], m[2], m[3], m[4], m[5], m[6], m[7]
			if acct != fileAcct || region != fileRegion {
				t.Errorf("%s: directory and file name disagree", p)
			}
			if (org != "") != (acct == AccountDev) || org != "" && org != OrgID {
				t.Errorf("%s: account %s in the wrong layout", p, acct)
			}
			if ts, _ := time.Parse("20060102T1504Z", stamp); ts.Format("2006/01/02") != dir {
				t.Errorf("%s: date directory %s, file time %s", p, dir, stamp)
			}
			var file struct{ Records []json.RawMessage }
			if err := json.Unmarshal(gunzip(t, p, f.Data), &file); err != nil || len(file.Records) == 0 {
				t.Fatalf("%s: not a trail log file: %v", p, err)
			}
			for i, raw := range file.Records {
				r := checkRecord(t, p, raw)
				if r["recipientAccountId"] != acct || r["awsRegion"] != region {
					t.Errorf("%s record %d: account %v region %v", p, i, r["recipientAccountId"], r["awsRegion"])
				}
				seen[r["eventID"].(string)]++
			}
			counts["trail"] += len(file.Records)
		case digestKey.MatchString(p):
			var d struct {
				AWSAccountID   string `json:"awsAccountId"`
				DigestS3Object string `json:"digestS3Object"`
				LogFiles       []struct {
					S3Object  string `json:"s3Object"`
					HashValue string `json:"hashValue"`
				} `json:"logFiles"`
			}
			if err := json.Unmarshal(gunzip(t, p, f.Data), &d); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if d.AWSAccountID != AccountMain || "data/"+d.DigestS3Object != p {
				t.Errorf("%s: digest %+v", p, d)
			}
			counts["digest-logs"] += len(d.LogFiles)
			for _, lf := range d.LogFiles {
				log, ok := byPath["data/"+lf.S3Object]
				if !ok {
					t.Fatalf("%s lists %s, which is not in the sample", p, lf.S3Object)
				}
				sum := sha256.Sum256(gunzip(t, lf.S3Object, log))
				if hex.EncodeToString(sum[:]) != lf.HashValue {
					t.Errorf("%s: hash of %s does not match", p, lf.S3Object)
				}
			}
			counts["digest"]++
		case insightKey.MatchString(p):
			var file struct {
				Records []struct {
					EventType      string         `json:"eventType"`
					InsightDetails map[string]any `json:"insightDetails"`
				}
			}
			if err := json.Unmarshal(gunzip(t, p, f.Data), &file); err != nil || len(file.Records) != 2 {
				t.Fatalf("%s: %v (%d records)", p, err, len(file.Records))
			}
			for _, r := range file.Records {
				if r.EventType != "AwsCloudTrailInsight" || r.InsightDetails["state"] == nil {
					t.Errorf("%s: %+v", p, r)
				}
			}
			counts["insight"]++
		case p == DataDir+"/"+PathEventBridgeLines || p == DataDir+"/"+PathEventBridgeArray:
			var events []json.RawMessage
			if strings.HasSuffix(p, ".jsonl") {
				events = rawLines(lines(f.Data))
			} else if err := json.Unmarshal(f.Data, &events); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			for i, raw := range events {
				var ev struct {
					Version    string          `json:"version"`
					ID         string          `json:"id"`
					DetailType string          `json:"detail-type"`
					Source     string          `json:"source"`
					Account    string          `json:"account"`
					Time       string          `json:"time"`
					Detail     json.RawMessage `json:"detail"`
				}
				if err := json.Unmarshal(raw, &ev); err != nil {
					t.Fatalf("%s event %d: %v", p, i, err)
				}
				r := checkRecord(t, p, ev.Detail)
				if ev.Version != "0" || ev.ID == "" || !strings.HasPrefix(ev.Source, "aws.") || ev.Account != r["recipientAccountId"] || ev.Time != r["eventTime"] {
					t.Errorf("%s event %d: envelope %+v", p, i, ev)
				}
				eventBridgeTypes[ev.DetailType] = true
				seen[r["eventID"].(string)]++
			}
			counts[p] = len(events)
		case p == DataDir+"/"+PathLookup || p == DataDir+"/"+PathLookupLines:
			var events []json.RawMessage
			if strings.HasSuffix(p, ".jsonl") {
				events = rawLines(lines(f.Data))
			} else {
				var page struct{ Events []json.RawMessage }
				if err := json.Unmarshal(f.Data, &page); err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				events = page.Events
			}
			if len(events) == 0 || len(events) > 50 {
				t.Errorf("%s: %d events", p, len(events))
			}
			var prev time.Time
			for i, raw := range events {
				var ev struct {
					EventID, EventName, ReadOnly, EventTime, EventSource, Username, CloudTrailEvent string
					Resources                                                                       []struct{ ResourceType, ResourceName string }
				}
				if err := json.Unmarshal(raw, &ev); err != nil {
					t.Fatalf("%s event %d: %v", p, i, err)
				}
				r := checkRecord(t, p, []byte(ev.CloudTrailEvent))
				at, err := time.Parse(time.RFC3339, ev.EventTime)
				if err != nil || ev.EventID != r["eventID"] || ev.EventName != r["eventName"] || ev.EventSource != r["eventSource"] {
					t.Errorf("%s event %d: %+v does not match its record (%v)", p, i, ev, err)
				}
				if et, _ := time.Parse(time.RFC3339, r["eventTime"].(string)); !et.Equal(at) {
					t.Errorf("%s event %d: EventTime %s, record %s", p, i, ev.EventTime, r["eventTime"])
				}
				if i > 0 && at.After(prev) {
					t.Errorf("%s: events not newest first at %d", p, i)
				}
				prev = at
				seen[r["eventID"].(string)]++
			}
			counts[p] = len(events)
		case p == DataDir+"/"+PathRecordLines || p == DataDir+"/"+PathRecordArray || p == DataDir+"/"+PathSingle:
			var recs []json.RawMessage
			switch {
			case strings.HasSuffix(p, ".jsonl"):
				recs = rawLines(lines(f.Data))
			case p == DataDir+"/"+PathSingle:
				recs = []json.RawMessage{f.Data}
			default:
				if err := json.Unmarshal(f.Data, &recs); err != nil {
					t.Fatalf("%s: %v", p, err)
				}
			}
			for _, raw := range recs {
				seen[checkRecord(t, p, raw)["eventID"].(string)]++
			}
			counts[p] = len(recs)
		case p == DataDir+"/"+PathLogsExport:
			// "TIMESTAMP record" lines: the timestamp is the record's time.
			n := 0
			for _, l := range lines(gunzip(t, p, f.Data)) {
				ts, rec, ok := bytes.Cut(l, []byte(" "))
				at, err := time.Parse(time.RFC3339Nano, string(ts))
				if !ok || err != nil {
					t.Fatalf("%s: line %q is not TIMESTAMP record", p, l)
				}
				r := checkRecord(t, p, rec)
				if et, _ := time.Parse(time.RFC3339, r["eventTime"].(string)); !et.Equal(at) || r["recipientAccountId"] != AccountMain {
					t.Errorf("%s: line stamped %s holds a record of %s, account %v", p, ts, r["eventTime"], r["recipientAccountId"])
				}
				seen[r["eventID"].(string)]++
				n++
			}
			counts[p] = n
		case p == DataDir+"/"+PathLogsFiltered:
			var out struct {
				Events []struct {
					LogStreamName, Message string
					Timestamp              int64
				}
			}
			if err := json.Unmarshal(f.Data, &out); err != nil || len(out.Events) == 0 {
				t.Fatalf("%s: %v (%d events)", p, err, len(out.Events))
			}
			for i, ev := range out.Events {
				r := checkRecord(t, p, []byte(ev.Message))
				if et, _ := time.Parse(time.RFC3339, r["eventTime"].(string)); et.UnixMilli() != ev.Timestamp || ev.LogStreamName != AccountMain+"_CloudTrail_"+LogsRegion {
					t.Errorf("%s event %d: stream %s, timestamp %d, record time %s", p, i, ev.LogStreamName, ev.Timestamp, r["eventTime"])
				}
				seen[r["eventID"].(string)]++
			}
			counts[p] = len(out.Events)
		case p == DataDir+"/"+PathBroken:
			bad, noID, good := 0, 0, 0
			for _, l := range lines(f.Data) {
				var m map[string]any
				switch {
				case json.Unmarshal(l, &m) != nil:
					bad++
				case m["eventID"] == nil:
					noID++
				default:
					good++
					seen[m["eventID"].(string)]++
				}
			}
			if bad != 1 || noID != 1 || good < 3 {
				t.Errorf("%s: %d bad JSON, %d without eventID, %d good; want 1, 1, ≥3", p, bad, noID, good)
			}
		default:
			t.Errorf("unexpected file %s", p)
		}
	}
	if counts["digest"] == 0 || counts["digest-logs"] == 0 || counts["insight"] != 1 || counts["trail"] < 1000 {
		t.Errorf("counts %v", counts)
	}
	for _, dt := range []string{"AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail", "AWS Service Event via CloudTrail"} {
		if !eventBridgeTypes[dt] {
			t.Errorf("no EventBridge event of detail-type %q", dt)
		}
	}
	dups := 0
	for _, n := range seen {
		if n > 1 {
			dups++
		}
	}
	if dups < 2 {
		t.Errorf("%d records appear in more than one place; the sample must repeat a few", dups)
	}
	recs := Generate(Options{})
	for _, r := range recs {
		if seen[r.EventID] == 0 && !slices.Contains(r.Tags, "duplicate") {
			t.Errorf("record %s (%s, %s) is in no file", r.EventID, r.EventName, r.Shape)
		}
	}
	for _, r := range recs {
		delete(seen, r.EventID)
	}
	for id := range seen {
		t.Errorf("eventID %s in the files was not generated", id)
	}
}

func rawLines(ls [][]byte) []json.RawMessage {
	out := make([]json.RawMessage, len(ls))
	for i, l := range ls {
		out[i] = l
	}
	return out
}

// catalog is the rule ids of issue 3's table.
var catalog = []string{
	"root-console-signin", "root-console-signin-failed", "console-signin-without-mfa", "console-signin-failures",
	"console-signin-spray", "console-signin-failed", "root-api-activity", "iam-user-created", "admin-policy-attached", "dangerous-inline-policy",
	"access-key-created", "access-key-updated", "role-trust-policy-external", "mfa-device-removed", "login-profile-changed",
	"sso-permission-set-created", "sso-permission-set-updated", "sso-admin-policy-attached", "sso-account-assignment-created",
	"sso-application-created", "sso-application-deleted", "cloudtrail-logging-stopped", "cloudtrail-changed",
	"unauthorized-api-calls", "iam-policy-changed", "kms-key-disabled", "s3-bucket-policy-changed", "config-changed",
	"security-group-changed", "nacl-changed", "network-gateway-changed", "route-table-changed", "vpc-changed",
	"organizations-changed",
	"tamper-attempt-failed", "cloudtrail-logging-reduced", "cloudtrail-logging-started", "s3-lifecycle-short-expiration",
	"guardduty-tampered", "network-logging-deleted", "cloudwatch-monitoring-deleted", "security-service-disabled",
	"eventbridge-rule-disabled", "federation-token-created", "federation-token-admin", "rolesanywhere-trust-changed",
	"identity-provider-changed", "iam-user-added-to-group", "permissions-boundary-removed", "policy-default-version-set",
	"sso-user-created", "sso-directory-changed", "signin-token-issued", "sso-signin-failed", "sso-signin-failures",
	"cloudtrail-stop-attempted",
	// Sharing, resource-policy and compute backdoors (issue 13).
	"ebs-snapshot-shared", "ami-shared", "rds-snapshot-shared", "lambda-permission-external", "s3-bucket-policy-external",
	"resource-policy-external", "s3-public-access-block-removed", "security-group-open-admin-port", "ssm-send-command",
	"ssm-start-session", "ec2-instance-connect-key-pushed", "ec2-serial-console-enabled", "ec2-user-data-changed",
	"lambda-function-changed", "ec2-gpu-instances-launched", "bedrock-model-access-enabled", "bedrock-safeguards-removed",
	"s3-object-versions-deleted", "s3-objects-customer-key-encrypted", "s3-bucket-emptied", "s3-versioning-suspended", "sagemaker-lifecycle-config-changed",
	"instance-credentials-discovery", "ses-enumeration", "bedrock-invoked-many-regions", "ses-sending-setup", "offensive-tool-user-agent",
	"ec2-console-screenshot", "ami-deregistered", "ec2-keypair-suspicious", "ec2-keypair-after-key-check", "mfa-device-enabled",
	"password-policy-changed", "rds-master-password-reset", "rds-made-public", "ebs-default-encryption-disabled",
	"lambda-function-url-public", "waf-protection-removed", "kms-key-material-imported", "region-enabled",
	"route53-domain-transfer", "ec2-instance-exported", "iam-change-from-s3-client", "service-specific-credential-created",
	"secrets-read-burst", "ssm-parameters-decrypted-burst", "ec2-password-data-burst",
	"denied-api-probing", "ec2-user-data-harvest", "iam-backdoor-admin-user", "iam-backdoor-role", "iam-enumeration",
	"signin-new-country", "signin-new-asn", "signin-impossible-travel",
	"instance-credentials-stolen", "instance-credentials-new-network", "instance-credentials-outside-aws",
	"access-key-new-asn", "region-first-activity", "service-first-use",
}

// TestCatalogCoverage: every rule id has records tagged for it, and the
// tagged records really are what the rule describes (checked on the JSON,
// not on the tags alone).
func TestCatalogCoverage(t *testing.T) {
	recs := Generate(Options{})
	tagged := map[string][]map[string]any{}
	for i := range recs {
		for _, tag := range recs[i].Tags {
			var m map[string]any
			if err := json.Unmarshal(recs[i].AppendJSON(nil), &m); err != nil {
				t.Fatal(err)
			}
			tagged[tag] = append(tagged[tag], m)
		}
	}
	for _, id := range catalog {
		if len(tagged[id]) == 0 {
			t.Errorf("no record for rule %s", id)
		}
	}
	str := func(m map[string]any, path ...string) string {
		var v any = m
		for _, p := range path {
			o, _ := v.(map[string]any)
			v = o[p]
		}
		s, _ := v.(string)
		return s
	}
	failed := func(m map[string]any) bool {
		return str(m, "errorCode") != "" || str(m, "responseElements", "ConsoleLogin") == "Failure" ||
			str(m, "serviceEventDetails", "CredentialVerification") == "Failure"
	}
	// Change rules fire on calls that succeeded.
	for _, id := range catalog {
		switch id {
		case "root-console-signin-failed", "console-signin-failures", "console-signin-spray", "console-signin-failed", "unauthorized-api-calls",
			"tamper-attempt-failed", "cloudtrail-stop-attempted", "sso-signin-failed", "sso-signin-failures",
			"denied-api-probing", "ec2-password-data-burst", "ec2-user-data-harvest":
			for _, m := range tagged[id] {
				if !failed(m) {
					t.Errorf("%s: %s %s did not fail", id, m["eventName"], m["eventID"])
				}
			}
		default:
			ok := false
			for _, m := range tagged[id] {
				ok = ok || !failed(m)
			}
			if !ok {
				t.Errorf("%s: every tagged record failed", id)
			}
		}
	}

	// Thresholds: ≥4 failures for one user within 60 minutes; ≥4 hidden
	// user names from one IP; >10 denials by one principal within 10 minutes.
	burst := func(ms []map[string]any, key func(map[string]any) string, n int, within time.Duration) bool {
		times := map[string][]time.Time{}
		for _, m := range ms {
			at, _ := time.Parse(time.RFC3339, m["eventTime"].(string))
			times[key(m)] = append(times[key(m)], at)
		}
		for _, ts := range times {
			slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
			for i := n - 1; i < len(ts); i++ {
				if ts[i].Sub(ts[i-n+1]) <= within {
					return true
				}
			}
		}
		return false
	}
	var userFails, hiddenFails []map[string]any
	for _, m := range tagged["console-signin-failures"] {
		if str(m, "userIdentity", "userName") == "HIDDEN_DUE_TO_SECURITY_REASONS" {
			hiddenFails = append(hiddenFails, m)
		} else {
			userFails = append(userFails, m)
		}
	}
	if !burst(userFails, func(m map[string]any) string { return str(m, "userIdentity", "userName") }, 4, time.Hour) {
		t.Error("no user with 4 failed sign-ins within 60 minutes")
	}
	if !burst(hiddenFails, func(m map[string]any) string { return str(m, "sourceIPAddress") }, 4, time.Hour) {
		t.Error("no IP with 4 failed sign-ins of hidden user names within 60 minutes")
	}
	if !burst(tagged["unauthorized-api-calls"], func(m map[string]any) string { return str(m, "userIdentity", "arn") }, 11, 10*time.Minute) {
		t.Error("no principal with more than 10 denied calls within 10 minutes")
	}
	if burst(tagged["negative:unauthorized-api-calls"], func(m map[string]any) string { return str(m, "userIdentity", "arn") }, 11, 10*time.Minute) {
		t.Error("the unauthorized-api-calls look-alike crosses the threshold")
	}

	// Root sign-ins, with and without MFA.
	mfa := map[string]bool{}
	for _, m := range tagged["root-console-signin"] {
		if str(m, "userIdentity", "type") != "Root" || str(m, "eventName") != "ConsoleLogin" {
			t.Errorf("root-console-signin tags %s by %s", m["eventName"], str(m, "userIdentity", "type"))
		}
		mfa[str(m, "additionalEventData", "MFAUsed")] = true
	}
	if !mfa["Yes"] || !mfa["No"] {
		t.Errorf("root sign-ins with MFAUsed %v; want both Yes and No", mfa)
	}

	// The wildcard inline policy is URL-encoded JSON, as CloudTrail shows it.
	found := false
	for _, m := range tagged["dangerous-inline-policy"] {
		if m["eventName"] != "PutRolePolicy" {
			continue
		}
		enc := str(m, "requestParameters", "policyDocument")
		doc, err := url.QueryUnescape(enc)
		if err != nil || enc == doc {
			t.Fatalf("PutRolePolicy policyDocument %q is not URL-encoded (%v)", enc, err)
		}
		var p struct {
			Statement []struct{ Effect, Action string }
		}
		if err := json.Unmarshal([]byte(doc), &p); err != nil || p.Statement[0].Action != "*" {
			t.Errorf("PutRolePolicy document %s: %v", doc, err)
		}
		found = true
	}
	if !found {
		t.Error("no PutRolePolicy in dangerous-inline-policy")
	}

	// Every kind of identity appears somewhere.
	kinds := map[string]bool{}
	for i := range recs {
		if k, ok := recs[i].UserIdentity.Get("type").(string); ok {
			kinds[k] = true
		}
	}
	for _, k := range []string{kindRoot, kindIAMUser, kindAssumedRole, kindFederatedUser, kindAWSService, kindAWSAccount, kindIdentityCenterUser, kindSAMLUser, kindWebIdentityUser} {
		if !kinds[k] {
			t.Errorf("no record with userIdentity.type %s", k)
		}
	}
}

func TestTrailWriterStreams(t *testing.T) {
	recs := Generate(Options{Days: 1, RecordsPerHour: 200})
	var want []byte // the files of the synchronous writer, concatenated in path order.
	for _, workers := range []int{0, 3} {
		var mu sync.Mutex
		written := map[string][]byte{}
		total := 0
		put := func(path string, data []byte) error {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return err
			}
			var f struct{ Records []json.RawMessage }
			if err := json.NewDecoder(zr).Decode(&f); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if len(f.Records) > 40 {
				t.Errorf("%s: %d records, limit 40", path, len(f.Records))
			}
			total += len(f.Records)
			written[path] = data
			return nil
		}
		w := NewTrailWriter(put, 1)
		w.FileSize = func() int { return 40 }
		w.DuplicateRate = 0.5
		w.Workers = workers
		for i := range recs {
			if err := w.Add(&recs[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		dups := 0
		for _, f := range w.Files() {
			dups += f.Duplicates
			if d, ok := written[f.Path]; !ok || len(d) != f.Size || f.SHA256 == "" {
				t.Errorf("workers %d: %s listed as %d bytes, written %d", workers, f.Path, f.Size, len(d))
			}
		}
		if dups == 0 {
			t.Error("no duplicates at DuplicateRate 0.5")
		}
		if total != len(recs)+dups {
			t.Errorf("workers %d: %d records written, want %d + %d duplicates", workers, total, len(recs), dups)
		}
		if len(w.Files()) != len(written) {
			t.Errorf("workers %d: Files() lists %d, put saw %d", workers, len(w.Files()), len(written))
		}
		paths := make([]string, 0, len(written))
		for p := range written {
			paths = append(paths, p)
		}
		slices.Sort(paths)
		var all []byte
		for _, p := range paths {
			all = append(append(all, p...), written[p]...)
		}
		if want == nil {
			want = all
		} else if !bytes.Equal(all, want) {
			t.Errorf("workers %d: output differs from the synchronous writer's", workers)
		}
	}
}

func TestTrailWriterPutError(t *testing.T) {
	for _, workers := range []int{0, 2} {
		boom := errors.New("disk full")
		w := NewTrailWriter(func(string, []byte) error { return boom }, 1)
		w.Workers = workers
		w.FileSize = func() int { return 5 }
		var err error
		recs := Generate(Options{Days: 1})
		for i := range recs {
			if err = w.Add(&recs[i]); err != nil {
				break
			}
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if !errors.Is(err, boom) {
			t.Errorf("workers %d: error %v, want the put error", workers, err)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	recs := Generate(Options{Days: 1})
	b.ReportAllocs()
	var buf []byte
	n := 0
	for b.Loop() {
		buf = recs[n%len(recs)].AppendJSON(buf[:0])
		n++
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkNoise(b *testing.B) {
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		recs := Generate(Options{Days: 1, RecordsPerHour: 1000})
		n += len(recs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkStreamTrail is gentrail's work without the disk: generate,
// encode and compress.
func BenchmarkStreamTrail(b *testing.B) {
	b.ReportAllocs()
	const n = 20_000
	var size int64
	for b.Loop() {
		w := NewTrailWriter(func(_ string, data []byte) error { size += int64(len(data)); return nil }, 1)
		w.FileSize = NewFileSizes(1).Next
		opt := Options{Days: 1, RecordsPerHour: n / 24 * 1.6}
		if err := Stream(opt, n, w.Add); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
