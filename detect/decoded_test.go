package detect

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// apiCall is a call by alice (an IAM user with a long-term key) or, with
// arn set, by that assumed-role session.
func apiCall(t testing.TB, id, arn, region, name string, readOnly bool, at time.Time) iamwatch.Event {
	t.Helper()
	uid := `{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"alice"}`
	if arn != "" {
		uid = fmt.Sprintf(`{"type":"AssumedRole","arn":%q,"accountId":"111122223333","accessKeyId":"ASIAQ3XV7MBTSESSION1",
		"sessionContext":{"sessionIssuer":{"type":"Role","userName":"r"},"ec2RoleDelivery":"2.0"}}`, arn)
	}
	return decode(t, fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":%s,"eventTime":%q,"eventSource":"ec2.amazonaws.com",
	"eventName":%q,"awsRegion":%q,"sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2","requestParameters":null,
	"responseElements":null,"eventID":%q,"readOnly":%t,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
		uid, at.Format(time.RFC3339), name, region, id, readOnly))
}

const regionRule = `id: new-region
title: New region
severity: medium
match: {userIdentity: {type: [IAMUser, AssumedRole]}, readOnly: [false], errorCode: [{exists: false}]}
baseline: {by: [account_id, principal], value: aws_region, learning: 1d}
summary: '{{.principal}} in {{.baseline_value}}'
action: Look.
`

// TestLightBaselineKeepsFirstsOnly: a first-seen rule over decoded fields
// parses nothing and keeps, against an empty baseline, only the first
// event of each value, yet alerts as a parsed one would.
func TestLightBaselineKeepsFirstsOnly(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, regionRule)}, Config{})
	if !e.rules[0].light {
		t.Fatal("the rule is not light")
	}
	var evs []iamwatch.Event
	for i := range 5 {
		evs = append(evs, apiCall(t, fmt.Sprintf("a%d", i), "", "us-east-1", "CreateTags", false, t0.Add(time.Duration(i)*time.Hour)))
	}
	evs = append(evs, apiCall(t, "read", "", "eu-west-1", "DescribeInstances", true, t0.Add(72*time.Hour)))
	evs = append(evs, apiCall(t, "new", "", "eu-west-1", "RunInstances", false, t0.Add(73*time.Hour)))
	evs = append(evs, apiCall(t, "again", "", "eu-west-1", "RunInstances", false, t0.Add(74*time.Hour)))
	b, err := e.Match(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.KeepFirsts(context.Background(), NewMemoryState()); err != nil {
		t.Fatal(err)
	}
	want := []bool{true, false, false, false, false, false, true, false}
	for i, k := range b.Keep {
		if k != want[i] {
			t.Errorf("Keep[%d] (%s) = %v, want %v", i, evs[i].ID, k, want[i])
		}
	}
	if got := b.Matched(); len(got) != 2 {
		t.Errorf("Matched = %v, want the two first events", got)
	}
	st := NewMemoryState()
	claims, err := e.Evaluate(context.Background(), st, evs...)
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 1 || claims[0].Alert.EventID != "new" || claims[0].Alert.Summary != "alice in eu-west-1" {
		t.Fatalf("claims = %+v, want one alert raised by the first change in eu-west-1", claims)
	}
}

const orRule = `id: either
title: Either
severity: high
match:
  $or:
  - userIdentity: {type: [AssumedRole], arn: [{wildcard: 'arn:aws:sts::*:assumed-role/*/i-*'}]}
  - eventName: [RunInstances]
sequence:
  within: 1h
  by: [account_id]
  steps:
  - name: instance
    match: {userIdentity: {type: [AssumedRole]}}
  - name: launch
    match: {eventName: [RunInstances]}
summary: '{{.distinct_timeline}}'
action: Look.
`

// TestOrRuleFiledPerStep: a $or rule is filed under each alternative's
// bucket, evaluated once for an event both buckets hold, and sessions whose
// ARN the pre-check rules out are neither kept nor parsed for it.
func TestOrRuleFiledPerStep(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, orRule)}, Config{})
	c := e.rules[0]
	if !c.multi || !c.precheck || len(e.always) != 0 {
		t.Fatalf("multi %v precheck %v always %d", c.multi, c.precheck, len(e.always))
	}
	inst := "arn:aws:sts::111122223333:assumed-role/r/i-0123456789abcdef0"
	evs := []iamwatch.Event{
		apiCall(t, "person", "arn:aws:sts::111122223333:assumed-role/r/alice", "us-east-1", "DescribeInstances", true, t0),
		apiCall(t, "both", inst, "us-east-1", "RunInstances", false, t0.Add(time.Minute)),
	}
	b, err := e.Match(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	if b.Keep[0] || !b.Keep[1] {
		t.Errorf("Keep = %v, want [false true]", b.Keep)
	}
	if len(b.Hits) != 1 {
		t.Errorf("hits = %+v, want one (the event in two buckets counts once)", b.Hits)
	}
}

func TestMayMatchEventNeverRejectsAMatch(t *testing.T) {
	p, err := CompilePattern([]byte(`{userIdentity: {arn: [{prefix: "arn:aws:sts::"}], type: [{exists: false}]}, eventName: [{prefix: Run}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ev := apiCall(t, "x", "arn:aws:sts::111122223333:assumed-role/r/s", "us-east-1", "RunInstances", false, t0)
	ev.IdentityType = "" // not judged when empty
	if !p.mayMatchEvent(&ev) {
		t.Error("rejected an event whose decoded fields fit")
	}
	ev.Name = "DescribeInstances"
	if p.mayMatchEvent(&ev) {
		t.Error("accepted an eventName the pattern rules out")
	}
	// A user agent is judged decoded too, so that a rule over it alone
	// (offensive-tool-user-agent) keeps only the events it may match.
	ua, err := CompilePattern([]byte(`{userAgent: [{wildcard: '*-kali*'}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !ua.prechecks() {
		t.Error("a pattern over userAgent does not precheck")
	}
	ev = apiCall(t, "y", "", "us-east-1", "ListBuckets", true, t0) // userAgent aws-cli/2
	if ua.mayMatchEvent(&ev) {
		t.Error("accepted a user agent the pattern rules out")
	}
	ev.UserAgent = "aws-cli/1.29.0 Python/3.11.4 Linux/6.5.0-kali3-amd64 botocore/1.31.0"
	if !ua.mayMatchEvent(&ev) {
		t.Error("rejected a user agent the pattern matches")
	}
	ev.UserAgent = "" // not judged when empty
	if !ua.mayMatchEvent(&ev) {
		t.Error("rejected an event with no decoded user agent")
	}
}

// TestMatchDecodedIsMatchOnDecodedRecord: matching the decoded fields in
// place gives what matching the record they rebuild gives.
func TestMatchDecodedIsMatchOnDecodedRecord(t *testing.T) {
	patterns := []string{
		`{userIdentity: {type: [IAMUser, AssumedRole]}, readOnly: [false], errorCode: [{exists: false}]}`,
		`{userIdentity: {accessKeyId: [{prefix: AKIA}], type: [IAMUser]}}`,
		`{eventSource: [ec2.amazonaws.com], awsRegion: [{anything-but: us-east-1}]}`,
		`{$or: [{eventName: [RunInstances]}, {userIdentity: {arn: [{wildcard: '*/i-*'}]}}], sourceIPAddress: [{cidr: 203.0.113.0/24}]}`,
		`{readOnly: [true], userIdentity: {type: [{exists: false}]}}`,
		`{userAgent: [{wildcard: '*-kali*'}, {prefix: aws-cli/2}]}`,
		`{userAgent: [{anything-but: aws-cli/2}]}`,
		`{userIdentity: {type: [AssumedRole], sessionContext: {ec2RoleDelivery: [{exists: true}]}}, vpcEndpointId: [{exists: false}]}`,
		`{userIdentity: {sessionContext: {ec2RoleDelivery: ["1.0"]}}}`,
		`{userIdentity: {sessionContext: {ec2RoleDelivery: [{exists: false}]}}, vpcEndpointId: [{prefix: vpce-}]}`,
	}
	events := []iamwatch.Event{
		apiCall(t, "a", "", "us-east-1", "CreateTags", false, t0),
		apiCall(t, "b", "", "eu-west-1", "DescribeInstances", true, t0),
		apiCall(t, "c", "arn:aws:sts::111122223333:assumed-role/r/i-0123456789abcdef0", "eu-west-1", "RunInstances", false, t0),
	}
	failed := events[0]
	failed.ErrorCode = "AccessDenied"
	kali := events[1]
	kali.UserAgent = "aws-cli/1.29.0 Python/3.11.4 Linux/6.5.0-kali3-amd64 botocore/1.31.0"
	noAgent := events[2]
	noAgent.UserAgent = ""
	imdsV1 := events[2] // decoded from a record with ec2RoleDelivery 2.0
	imdsV1.EC2RoleDelivery, imdsV1.VPCEndpointID = "1.0", "vpce-0a1b2c3d"
	events = append(events, failed, kali, noAgent, imdsV1)
	for _, src := range patterns {
		p, err := CompilePattern([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if !p.decodedOnly() {
			t.Errorf("%s: not decodedOnly", src)
		}
		for i := range events {
			if got, want := p.matchDecoded(&events[i]), p.Match(decodedRecord(&events[i])); got != want {
				t.Errorf("%s on %s: matchDecoded %v, Match %v", src, events[i].ID, got, want)
			}
		}
	}
	for _, src := range []string{
		`{requestParameters: {x: [1]}}`,
		`{userIdentity: {sessionContext: {sessionIssuer: {type: [Role]}}}}`,
		`{userIdentity: {sessionContext: {attributes: {mfaAuthenticated: ["true"]}}}}`,
		`{userIdentity: {sessionContext: {$or: [{ec2RoleDelivery: ["1.0"]}, {ec2RoleDelivery: ["2.0"]}]}}}`,
		`{userIdentity: {ec2RoleDelivery: [{exists: true}]}}`,
		`{sessionContext: {ec2RoleDelivery: [{exists: true}]}}`,
	} {
		if p, err := CompilePattern([]byte(src)); err != nil || p.decodedOnly() {
			t.Errorf("%s is decodedOnly (or does not compile: %v)", src, err)
		}
	}
}

// decodedRecord is the part of ev's record decodedOnly patterns read,
// rebuilt from the decoded fields (absent where ev has them empty): the
// reference matchDecoded is checked against, through Pattern.Match.
func decodedRecord(ev *iamwatch.Event) map[string]any {
	rec := make(map[string]any, 8)
	put := func(m map[string]any, k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put(rec, "eventName", ev.Name)
	put(rec, "eventSource", ev.Source)
	put(rec, "awsRegion", ev.Region)
	put(rec, "sourceIPAddress", ev.SourceIP)
	put(rec, "userAgent", ev.UserAgent)
	put(rec, "errorCode", ev.ErrorCode)
	put(rec, "vpcEndpointId", ev.VPCEndpointID)
	if ev.ReadOnly != "" {
		rec["readOnly"] = ev.ReadOnly == "true"
	}
	uid := make(map[string]any, 3)
	put(uid, "type", ev.IdentityType)
	put(uid, "arn", ev.PrincipalARN)
	put(uid, "accessKeyId", ev.AccessKeyID)
	if ev.EC2RoleDelivery != "" {
		uid["sessionContext"] = map[string]any{"ec2RoleDelivery": ev.EC2RoleDelivery}
	}
	if len(uid) > 0 {
		rec["userIdentity"] = uid
	}
	return rec
}

// TestKeyPrecheck: a rule whose pattern needs a key inside the request (the
// header of an object written with a customer key) rules out, on the
// record's bytes and before any parse, the objects written without it:
// the pipeline's readers drop them. The built-in rules over S3 object
// writes and deletes and SSM reads are such rules.
func TestKeyPrecheck(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, strings.Replace(sseCRule, "match: {eventSource: [s3.amazonaws.com], eventName: [PutObject, PutBucketAcl, GetBucketAcl]}",
		"match: {eventSource: [s3.amazonaws.com], eventName: [PutObject], requestParameters: {x-amz-server-side-encryption-customer-algorithm: [{exists: true}]}}", 1))}, Config{})
	if !e.rules[0].precheck {
		t.Fatal("a pattern needing a request key does not precheck")
	}
	put := func(id, req string) iamwatch.Event {
		return decode(t, fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},
		"eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":"PutObject","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7",
		"requestParameters":%s,"eventID":%q,"readOnly":false,"eventType":"AwsApiCall","managementEvent":false,"eventCategory":"Data","recipientAccountId":"111122223333"}`,
			t0.Format(time.RFC3339), req, id))
	}
	plain := put("plain", `{"bucketName":"b","key":"k1","x-amz-server-side-encryption":"AES256"}`)
	ssec := put("sse-c", `{"bucketName":"b","key":"k2","x-amz-server-side-encryption-customer-algorithm":"AES256"}`)
	escaped := put("escaped", `{"bucketName":"b","key":"k3","x-amz-server-side-encryption-customer-algorith\u006d":"AES256"}`)
	if e.Interested(&plain) || !e.Interested(&ssec) || !e.Interested(&escaped) {
		t.Errorf("Interested: plain %v, sse-c %v, key written with an escape %v; want false, true, true",
			e.Interested(&plain), e.Interested(&ssec), e.Interested(&escaped))
	}
	rs, err := LoadFSForEngine(os.DirFS("../rules"), ".")
	if err != nil {
		t.Fatal(err)
	}
	cat := mustEngine(t, rs, Config{})
	for _, id := range []string{"s3-objects-customer-key-encrypted", "s3-object-versions-deleted", "ssm-parameters-decrypted-burst"} {
		i := slices.IndexFunc(cat.rules, func(c *compiled) bool { return c.rule.ID == id })
		if i < 0 || !cat.rules[i].precheck {
			t.Errorf("%s: not in the catalog, or does not precheck", id)
		}
	}
	if p, _ := CompilePattern([]byte(`{requestParameters: {versionId: [{exists: false}]}}`)); p.prechecks() {
		t.Error("a pattern that needs a key absent prechecks")
	}
}
