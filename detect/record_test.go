package detect

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
)

// A CloudTrail record as written, with its usual nesting (userIdentity,
// tlsDetails, resources), escapes and numbers.
const fullRecord = `{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:i-0abc","arn":"arn:aws:sts::111122223333:assumed-role/app/i-0abc","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::111122223333:role/app","accountId":"111122223333","userName":"app"},"attributes":{"creationDate":"2025-03-04T08:00:00Z","mfaAuthenticated":"false"},"ec2RoleDelivery":"2.0"}},
 "eventTime":"2025-03-04T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"AttachUserPolicy","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.4","userAgent":"aws-cli/2 \"quoted\" caf\u00e9 \ud83d\ude00",
 "requestParameters":{"userName":"bob","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess","durationSeconds":43200,"ratio":-0.5,"tags":[{"key":"k","value":null},true,false],"doc":"{\"Statement\":[{\"Effect\":\"Allow\"}]}"},
 "responseElements":null,"additionalEventData":{"MFAUsed":"No","n":12345678901234567890},"requestID":"r-1","eventID":"e-1","readOnly":false,"resources":[],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","tlsDetails":{"tlsVersion":"TLSv1.3","clientProvidedHostHeader":"iam.amazonaws.com"}}`

// recordCases are records the scan reads (scan) or leaves to the full
// parse, valid or not: each must read exactly as the full parse gives it.
var recordCases = []struct {
	name string
	raw  string
	scan bool
}{
	{"a full record", fullRecord, true},
	{"empty object", `{}`, true},
	{"white space around", " \t\r\n{ \"eventName\" : \"X\" , \"requestParameters\" : { } } \n", true},
	{"requestParameters null", `{"eventName":"X","requestParameters":null}`, true},
	{"requestParameters absent", `{"eventName":"X"}`, true},
	{"requestParameters a string", `{"requestParameters":"userName=bob"}`, true},
	{"requestParameters a list", `{"requestParameters":[{"userName":"bob"}]}`, true},
	{"requestParameters a number", `{"requestParameters":5}`, true},
	{"a key twice: the last wins", `{"requestParameters":{"policyArn":"admin"},"eventName":"X","requestParameters":{"policyArn":"readonly"}}`, true},
	{"a key twice, then null", `{"requestParameters":{"policyArn":"admin"},"requestParameters":null}`, true},
	{"a key twice, the second escaped", `{"requestParameters":{"policyArn":"admin"},"request\u0050arameters":{"policyArn":"readonly"}}`, false},
	{"a key twice, the first escaped", `{"request\u0050arameters":{"policyArn":"admin"},"requestParameters":{"policyArn":"readonly"}}`, false},
	{"a key with non-ASCII", "{\"caf\xc3\xa9\":1,\"eventName\":\"X\"}", false},
	{"a key with invalid UTF-8", "{\"\xff\":1}", false},
	{"invalid UTF-8 in a value", "{\"userAgent\":\"a\xffb\",\"eventName\":\"\xfe\"}", true},
	{"a lone surrogate", `{"userAgent":"\ud800x"}`, true},
	{"escapes", `{"userAgent":"\"\\\/\b\f\n\r\t\u0041"}`, true},
	{"DEL and high bytes", "{\"userAgent\":\"\x7f\xc3\xa9\"}", true},
	{"numbers", `{"a":0,"b":-0,"c":1.25,"d":-12.5e0,"e":123456789012345678901234567890}`, false},
	{"numbers without exponent", `{"a":0,"b":-0,"c":1.25,"e":123456789012345678901234567890}`, true},
	{"an exponent in range", `{"a":1E+2}`, false},
	{"a number out of range", `{"eventName":"X","x":1e400}`, false},
	{"a negative number out of range", `{"eventName":"X","x":{"y":[-1e400]}}`, false},
	{"a number under range", `{"x":1e-400}`, false},
	{"deep nesting", `{"a":` + strings.Repeat(`[`, 80) + strings.Repeat(`]`, 80) + `}`, false},
	{"nesting the scan judges", `{"a":` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `}`, true},
	{"truncated", `{"eventName":"CreateUser",`, false},
	{"trailing data", `{"eventName":"X"}x`, false},
	{"a second object", `{"eventName":"X"}{}`, false},
	{"a NUL after", "{\"eventName\":\"X\"}\x00", false},
	{"a NUL in a string", "{\"eventName\":\"X\x00\"}", false},
	{"a trailing comma", `{"a":[1,]}`, false},
	{"a bad escape", `{"a":"\x"}`, false},
	{"a bad number", `{"a":01}`, false},
	{"a bare point", `{"a":1.}`, false},
	{"a bad literal", `{"a":tru}`, false},
	{"a plus", `{"a":+1}`, false},
	{"null", `null`, false},
	{"a list", `[]`, false},
	{"a string", `"x"`, false},
}

// checkRecord fails unless r, reset to ev, reads as the full parse of ev's
// record: the same error, the same members, the same whole.
func checkRecord(t *testing.T, r *record, ev *iamwatch.Event) {
	t.Helper()
	want, wantErr := parseRecord(ev)
	err := r.reset(ev)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("error %v, the full parse's %v", err, wantErr)
	}
	if err != nil {
		return
	}
	for k, v := range want {
		if got, ok := r.get(k); !ok || !reflect.DeepEqual(got, v) {
			t.Fatalf("member %q: %#v (present %v), the full parse's %#v", k, got, ok, v)
		}
	}
	for _, k := range []string{"requestParameters", "responseElements", "additionalEventData", "eventName", "nope"} {
		_, inWant := want[k]
		if _, ok := r.get(k); ok != inWant {
			t.Fatalf("member %q present %v, in the full parse %v", k, ok, inWant)
		}
		wantObj, isObj := want[k].(map[string]any)
		if !isObj {
			wantObj = map[string]any{}
		}
		if got := r.object(k); !reflect.DeepEqual(got, wantObj) {
			t.Fatalf("object %q: %#v, the full parse's %#v", k, got, wantObj)
		}
	}
	if got := r.whole(); !reflect.DeepEqual(got, want) {
		t.Fatalf("whole: %#v, the full parse's %#v", got, want)
	}
	var fresh record // whole before any member is read
	if err := fresh.reset(ev); err != nil || !reflect.DeepEqual(fresh.whole(), want) {
		t.Fatalf("whole first: %#v, %v; the full parse's %#v", fresh.whole(), err, want)
	}
}

// TestRecordReadsAsFullParse: the lazy record reads every record, hostile
// ones included, as the full parse does, and the scan (not the full parse)
// reads the ordinary ones. One record is reused throughout, as Match does.
func TestRecordReadsAsFullParse(t *testing.T) {
	var r record
	for _, tc := range recordCases {
		t.Run(tc.name, func(t *testing.T) {
			ev := &iamwatch.Event{ID: "e-1", Raw: []byte(tc.raw)}
			checkRecord(t, &r, ev)
			err := r.reset(ev)
			if scanned := err == nil && r.full == nil; scanned != tc.scan {
				t.Errorf("scanned %v, want %v", scanned, tc.scan)
			}
		})
	}
	t.Run("an event without Raw", func(t *testing.T) {
		ev := &iamwatch.Event{ID: "e-2", Name: "CreateUser", Source: "iam.amazonaws.com", IdentityType: "IAMUser",
			RequestParameters: []byte(`{"userName":"bob","n":3}`), ResponseElements: []byte(`{"user":{"userName":"bob"}}`)}
		checkRecord(t, &r, ev)
		if got := r.object("requestParameters")["n"]; got != 3.0 {
			t.Errorf("request.n = %#v, want 3.0", got)
		}
	})
}

// TestNilRecord: a light rule's expressions see no record (matchRule gives
// them none), as they saw a nil map: no member, empty objects.
func TestNilRecord(t *testing.T) {
	var r *record
	if v, ok := r.get("eventName"); ok || v != nil {
		t.Errorf("get: %v %v", v, ok)
	}
	if m := r.object("requestParameters"); m == nil || len(m) != 0 {
		t.Errorf("object: %#v", m)
	}
	if m := r.whole(); m != nil {
		t.Errorf("whole: %#v", m)
	}
}

func FuzzRecord(f *testing.F) {
	for _, tc := range recordCases {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var r record
		checkRecord(t, &r, &iamwatch.Event{ID: "fuzz", Raw: raw})
	})
}

// The rules of TestMatchRuleReadsAsFullParse: patterns and conditions over
// each record variable.
var recordRules = []string{
	`match: {eventName: [AttachUserPolicy]}
condition: has(request.policyArn) && request.policyArn.endsWith("AdministratorAccess")`,
	`match: {requestParameters: {policyArn: [{suffix: AdministratorAccess}]}}`,
	`match: {requestParameters: {durationSeconds: [{numeric: [">", 3600]}]}}`,
	`match: {eventName: [AttachUserPolicy]}
condition: request.durationSeconds > 3600.0`,
	`match: {eventName: [AttachUserPolicy]}
condition: request.missing == "x"`,
	`match: {eventName: [ConsoleLogin]}
condition: has(response.ConsoleLogin) && response.ConsoleLogin == "Success"`,
	`match: {eventName: [ConsoleLogin]}
condition: '!has(additional.MFAUsed) || additional.MFAUsed != "Yes"'`,
	`match: {eventName: [AttachUserPolicy, ConsoleLogin]}
condition: has(event.tlsDetails) && event.tlsDetails.tlsVersion == "TLSv1.3" && size(event) > 5`,
	`match: {$or: [{errorCode: [{exists: true}]}, {userIdentity: {sessionContext: {ec2RoleDelivery: ["2.0"]}}}]}`,
	`match: {eventName: [AttachUserPolicy]}
threshold: {count: 2, within: 1h, group: 'has(request.userName) ? string(request.userName) : "none"', distinct: 'event.eventID'}`,
	`match: {eventName: [AttachUserPolicy, ConsoleLogin]}
sequence:
  within: 1h
  by: [user_name]
  steps:
  - name: attach
    match: {requestParameters: {policyArn: [{exists: true}]}}
    condition: request.policyArn != ""
  - name: login
    match: {responseElements: {ConsoleLogin: [Success]}}`,
}

// TestMatchRuleReadsAsFullParse: every rule decides every event the same
// on the lazy record as on the full parse (same match, group, value and
// error), on ordinary and hostile records alike.
func TestMatchRuleReadsAsFullParse(t *testing.T) {
	var rules []*Rule
	for i, src := range recordRules {
		rules = append(rules, mustRule(t, fmt.Sprintf("id: r%d\ntitle: R\nseverity: high\nservices: include\nsummary: s\naction: a\n%s\n", i, src)))
	}
	e := mustEngine(t, rules, Config{})
	login := `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","userName":"alice"},"eventTime":"2025-03-04T09:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventID":"l-1","tlsDetails":{"tlsVersion":"TLSv1.3"},"x":1,"y":2,"z":3}`
	raws := []string{fullRecord, login,
		strings.Replace(fullRecord, `policy/AdministratorAccess`, `policy/ReadOnlyAccess`, 1),
		strings.Replace(fullRecord, `"responseElements":null`, `"requestParameters":{"policyArn":"x/ReadOnlyAccess","durationSeconds":60}`, 1),
		strings.Replace(fullRecord, `"responseElements":null`, `"request\u0050arameters":{"policyArn":"x/ReadOnlyAccess"}`, 1),
		strings.Replace(fullRecord, `"responseElements":null`, `"requestParameters":null`, 1),
		strings.Replace(fullRecord, `"responseElements":null`, `"requestParameters":"policyArn"`, 1),
		strings.Replace(fullRecord, `"responseElements":null`, `"errorCode":"AccessDenied"`, 1),
		strings.Replace(fullRecord, `"durationSeconds":43200`, `"durationSeconds":4.32e4`, 1),
		strings.Replace(login, `"MFAUsed":"No"`, `"MFAUsed":"Yes"`, 1),
		strings.Replace(login, `"responseElements":{"ConsoleLogin":"Success"}`, `"responseElements":{"ConsoleLogin":"Success"},"responseElements":{"ConsoleLogin":"Failure"}`, 1),
		strings.Replace(login, `"tlsDetails"`, `"tls\u0044etails"`, 1),
	}
	ctx := context.Background()
	for i, raw := range raws {
		ev := decode(t, raw)
		for _, c := range e.rules {
			var lazy record
			if err := lazy.reset(&ev); err != nil {
				t.Fatal(err)
			}
			full, err := parseRecord(&ev)
			if err != nil {
				t.Fatal(err)
			}
			k1, ok1, err1 := e.matchRule(ctx, c, &ev, &lazy)
			k2, ok2, err2 := e.matchRule(ctx, c, &ev, &record{full: full})
			if k1 != k2 || ok1 != ok2 || fmt.Sprint(err1) != fmt.Sprint(err2) {
				t.Errorf("record %d, rule %s: lazy %v %v %v, full parse %v %v %v", i, c.rule.ID, k1, ok1, err1, k2, ok2, err2)
			}
		}
	}
}

// TestMatchFollowsFullParse: where the decoded fields and the record
// disagree, a rule reads what the full parse of the record reads: an
// escaped key repeating requestParameters (the later one wins), an event
// built by hand whose RequestParameters is not its record's, a number out
// of range in a member no rule reads (the record does not parse: reported
// once, evaluated by no rule).
func TestMatchFollowsFullParse(t *testing.T) {
	admin := mustRule(t, `id: admin
title: Admin
severity: high
match: {eventName: [AttachUserPolicy]}
condition: has(request.policyArn) && request.policyArn.endsWith("AdministratorAccess")
summary: s
action: a
`)
	e := mustEngine(t, []*Rule{admin}, Config{})
	escaped := decode(t, strings.Replace(fullRecord, `"responseElements":null`, `"request\u0050arameters":{"policyArn":"x/ReadOnlyAccess"}`, 1))
	byHand := decode(t, strings.Replace(fullRecord, `policy/AdministratorAccess`, `policy/ReadOnlyAccess`, 1))
	byHand.ID, byHand.RequestParameters = "by-hand", []byte(`{"policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`)
	outOfRange := decode(t, strings.Replace(fullRecord, `"n":12345678901234567890`, `"n":1e400`, 1))
	outOfRange.ID = "out-of-range"
	if !strings.Contains(string(outOfRange.RequestParameters), "AdministratorAccess") {
		t.Fatalf("the decoder's requestParameters: %s", outOfRange.RequestParameters)
	}
	b, err := e.Match(context.Background(), []iamwatch.Event{escaped, byHand, outOfRange})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.singles) != 0 {
		t.Errorf("alerts %+v, want none", b.singles)
	}
	_, wantErr := parseRecord(&outOfRange)
	if len(b.Unevaluated) != 1 || b.Unevaluated[0].Error() != fmt.Sprintf("detect: event %q: %v", "out-of-range", wantErr) {
		t.Errorf("unevaluated %v, want the out-of-range event once", b.Unevaluated)
	}
}
